import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, S3Event, SQSEvent } from 'aws-lambda';
import { asyncInvokeSettings } from '../lib/core/async-invoke.js';
import { logger } from '../lib/core/logger.js';
import { metrics } from '../lib/core/metrics.js';
import { type Runtime, runtime } from '../lib/runtime.js';
import { parseQueueEvent } from '../lib/validation/s3-event.js';
import {
  type QueueBatchResponse,
  type ValidatorDependencies,
  validateQueueBatch,
  validateUploadEvent,
} from '../lib/validation/validator.js';
import { lambdaWebhookHandoff } from '../lib/webhooks/webhook-handoff.js';

/**
 * The validator's dependencies from a runtime: with a deliverer configured,
 * verdicts' webhooks are handed to it (only this function loads the Lambda client).
 */
export function validatorDependencies(runtime: Runtime): ValidatorDependencies {
  const deliverer = asyncInvokeSettings(runtime.environment, runtime.environment.WEBHOOK_DELIVERER_FUNCTION);
  return { ...runtime, ...(deliverer ? { handOffWebhook: lambdaWebhookHandoff(deliverer) } : {}) };
}

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

export const handler = createHandler(validatorDependencies(await runtime()));
