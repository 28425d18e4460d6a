import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, S3Event } from 'aws-lambda';
import { logger } from '../lib/core/logger.js';
import { metrics } from '../lib/core/metrics.js';
import { runtime } from '../lib/runtime.js';
import { type ValidatorDependencies, validateUploadEvent } from '../lib/validation/validator.js';

/**
 * S3 `ObjectCreated:*` under `uploads/`: sniff each new object and tag its
 * verdict. Rejects when a record hit an unexpected error, so Lambda retries.
 */
export const createHandler = (validator: ValidatorDependencies) =>
  middy<S3Event, void, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(async (event) => {
      await validateUploadEvent(validator, event);
    });

export const handler = createHandler(await runtime());
