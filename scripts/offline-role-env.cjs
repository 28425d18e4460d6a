// Resolved by serverless.yml as each function's `environment` under
// `serverless offline`: the local stack passes every function its own role's
// temporary credentials (PRESIGN_LOCAL_ROLE_CREDENTIALS, JSON by function
// name), so locally each function signs as itself, exactly as with its role
// in AWS, and only the secrets its entry in iam/function-policies.json grants
// it in AWS: the owner secret (owner segments), the share-link key, the
// validator's verdict signing key; and, when `npm start` was given WEBHOOK_URL,
// the webhook URL and secret to the deliverer only, and the deliverer's name
// and the local asynchronous invocation endpoint to the validator only; the
// validator's name and that endpoint to the pending-uploads sweep.
// Unset (packaging for AWS), every function gets nothing from here.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const entries = JSON.parse(readFileSync(join(__dirname, '..', 'iam', 'function-policies.json'), 'utf8'));

module.exports = () => {
  // Only `osls offline` may see them: never let credentials reach a packaged template.
  const offline = process.argv.includes('offline');
  const byFunction = offline ? JSON.parse(process.env.PRESIGN_LOCAL_ROLE_CREDENTIALS || '{}') : {};
  return new Proxy(
    {},
    {
      get: (_, name) => {
        if (!offline) return {};
        const entry = entries[name] ?? {};
        const webhooks = Boolean(process.env.PRESIGN_LOCAL_WEBHOOK_URL);
        const webhookSettings = {
          ...(entry.deliversWebhooks && webhooks
            ? {
                WEBHOOK_URL: process.env.PRESIGN_LOCAL_WEBHOOK_URL,
                WEBHOOK_SECRET: process.env.PRESIGN_LOCAL_WEBHOOK_SECRET,
              }
            : {}),
          ...(entry.sendsWebhooks && webhooks
            ? {
                WEBHOOK_DELIVERER_FUNCTION: process.env.PRESIGN_LOCAL_WEBHOOK_DELIVERER,
                LAMBDA_ENDPOINT: process.env.PRESIGN_LOCAL_LAMBDA_ENDPOINT,
              }
            : {}),
          ...(entry.invokesValidator
            ? {
                VALIDATOR_FUNCTION: process.env.PRESIGN_LOCAL_VALIDATOR_FUNCTION,
                LAMBDA_ENDPOINT: process.env.PRESIGN_LOCAL_LAMBDA_ENDPOINT,
              }
            : {}),
        };
        const credentials = byFunction[name];
        // The deliverer has no role: it signs nothing with AWS credentials.
        if (!credentials) return webhookSettings;
        return {
          ...webhookSettings,
          ...(entry.ownerSecret ? { OWNER_SECRET: process.env.PRESIGN_LOCAL_OWNER_SECRET } : {}),
          ...(entry.shareSecret ? { SHARE_SECRET: process.env.PRESIGN_LOCAL_SHARE_SECRET } : {}),
          ...(entry.verdictSigningKey
            ? { VERDICT_SIGNING_KEY: process.env.PRESIGN_LOCAL_VERDICT_SIGNING_KEY }
            : {}),
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken,
          AWS_CREDENTIAL_EXPIRATION: credentials.expiration,
        };
      },
    },
  );
};
