import type { S3Client } from '@aws-sdk/client-s3';
import type { JSONWebKeySet } from 'jose';
import { type Environment, loadEnvironment } from './config/environment.js';
import { parseUploadRules, type UploadRules } from './config/upload-rules.js';
import { type BearerVerifier, createBearerVerifier } from './http/bearer-auth.js';
import type { PublicUrlSettings } from './http/public-url.js';
import { createFileStore, type FileStore } from './store/file-store.js';
import { createS3Client } from './store/s3-client.js';

/** A function's settings and clients: built in this one place and passed to the code that uses them. */
export interface Runtime {
  environment: Readonly<Environment>;
  /** The upload rules in force, from `UPLOAD_RULES` or the catalogue's defaults. */
  rules: UploadRules;
  store: FileStore;
  verifyBearer: BearerVerifier;
  publicUrl: PublicUrlSettings;
}

/**
 * Builds a runtime from environment variables. Throws, naming the variable,
 * when the configuration is missing or malformed, so a misconfigured function
 * fails its cold start, not a request. `s3` replaces the client built from the
 * environment (tests pass their own).
 */
export function createRuntime(variables: NodeJS.ProcessEnv, overrides: { s3?: S3Client } = {}): Runtime {
  const environment = loadEnvironment(variables);
  const s3 =
    overrides.s3 ??
    createS3Client({
      region: environment.AWS_REGION,
      ...(environment.S3_ENDPOINT ? { endpoint: environment.S3_ENDPOINT } : {}),
    });
  return {
    environment,
    rules: parseUploadRules(environment.UPLOAD_RULES),
    store: createFileStore({ s3, bucket: environment.UPLOADS_BUCKET }),
    verifyBearer: createBearerVerifier({
      issuer: environment.AUTH_ISSUER,
      audience: environment.AUTH_AUDIENCE,
      jwks: environment.AUTH_JWKS_URL
        ? new URL(environment.AUTH_JWKS_URL)
        : (environment.AUTH_JWKS as JSONWebKeySet),
    }),
    publicUrl: {
      ...(environment.PUBLIC_API_URL ? { configured: environment.PUBLIC_API_URL } : {}),
      offline: environment.IS_OFFLINE,
    },
  };
}

let current: Runtime | undefined;

/** This container's runtime, built from `process.env` on first use (a handler module's import) and kept. */
export const runtime = (): Runtime => {
  current ??= createRuntime(process.env);
  return current;
};
