import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one structured JSON logger. Log objects, never tokens, secrets or full
 * presigned URLs (their query string is a bearer credential).
 */
export const logger = new Logger({ serviceName: 'presign' });
