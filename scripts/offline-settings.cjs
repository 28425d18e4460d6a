// Resolved by serverless.yml for what only the local stack sets, never a deployer: under
// `osls offline` the environment scripts/start.ts gives it (the local buckets, Ceph's S3
// endpoint, the development JWKS, the longer function timeout, and the shorter windows the
// tests' stacks run with); anything else (`osls package`, `osls deploy`) gets nothing from here,
// so serverless.yml's AWS values stand whatever the packaging shell exports.
const VARIABLES = {
  uploadsBucket: 'UPLOADS_BUCKET',
  stateBucket: 'STATE_BUCKET',
  s3Endpoint: 'S3_ENDPOINT',
  authJwks: 'AUTH_JWKS',
  functionTimeout: 'PRESIGN_LOCAL_FUNCTION_TIMEOUT',
  uploadRateWindowSeconds: 'UPLOAD_RATE_WINDOW_SECONDS',
  reservationGraceSeconds: 'RESERVATION_GRACE_SECONDS',
};

module.exports = () => {
  if (!process.argv.includes('offline')) return {};
  const settings = {};
  for (const [name, variable] of Object.entries(VARIABLES)) {
    const value = process.env[variable];
    if (value) settings[name] = name === 'functionTimeout' ? Number(value) : value;
  }
  return settings;
};
