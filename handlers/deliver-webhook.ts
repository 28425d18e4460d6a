import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../lib/core/logger.js';
import { metrics } from '../lib/core/metrics.js';
import { parseWebhookMessage } from '../lib/webhooks/file-validated-event.js';
import { deliverWebhook } from '../lib/webhooks/webhook-delivery.js';
import { loadWebhookSettings, type WebhookSettings } from '../lib/webhooks/webhook-settings.js';

/**
 * Invoked asynchronously by the validator with one `file.validated` message:
 * signs and POSTs it, retrying a few times. Rejects when every try failed, so
 * Lambda retries the invocation and then sends it to the dead-letter queue.
 */
export const createHandler = (settings: WebhookSettings) =>
  middy<unknown, void, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async (event) => {
      await deliverWebhook(settings, parseWebhookMessage(event));
    });

// Its own settings only, not the whole runtime: the deliverer never calls S3 or checks a bearer token.
export const handler = createHandler(await loadWebhookSettings(process.env));
