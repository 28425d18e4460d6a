import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, S3Event, SQSEvent } from 'aws-lambda';
import { logger } from '../lib/core/logger.js';
import { metrics } from '../lib/core/metrics.js';
import { runtime } from '../lib/runtime.js';
import { parseQueueEvent } from '../lib/validation/s3-event.js';
import {
  type QueueBatchResponse,
  type ValidatorDependencies,
  validateQueueBatch,
  validateUploadEvent,
} from '../lib/validation/validator.js';

/**
 * S3 `ObjectCreated:*` under `uploads/`, through the upload-events queue in
 * AWS (a batch: answers the messages to deliver again) or straight from the
 * local bridge, and GuardDuty's scan results: sniff each new object and tag
 * its verdict. A direct event rejects when a record hit an unexpected error,
 * so it is retried.
 */
export const createHandler = (validator: ValidatorDependencies) =>
  middy<S3Event | SQSEvent, QueueBatchResponse | undefined, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(async (event) => {
      const queued = parseQueueEvent(event);
      if (queued) return validateQueueBatch(validator, queued);
      await validateUploadEvent(validator, event);
      return undefined;
    });

export const handler = createHandler(await runtime());
