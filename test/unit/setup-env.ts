import { TEST_OWNER_SECRET } from '../support/owners.js';
import { TEST_AUDIENCE, TEST_ISSUER, testJwks } from '../support/tokens.js';
import { TEST_VERDICT_KEYS } from '../support/verdict-keys.js';

// Configuration every lib module reads at import: set before any test imports one.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIAUNITTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'unit-test-secret';
process.env.UPLOADS_BUCKET = 'unit-test-bucket';
process.env.STATE_BUCKET = 'unit-test-state';
process.env.VERDICT_PUBLIC_KEY = TEST_VERDICT_KEYS.publicKey;
process.env.VERDICT_SIGNING_KEY = TEST_VERDICT_KEYS.privateKey;
process.env.AUTH_ISSUER = TEST_ISSUER;
process.env.AUTH_AUDIENCE = TEST_AUDIENCE;
process.env.AUTH_JWKS = JSON.stringify(testJwks);
process.env.SHARE_SECRET = 'unit-test-share-secret-0123456789abcdef0123456789';
process.env.OWNER_SECRET = TEST_OWNER_SECRET;
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
