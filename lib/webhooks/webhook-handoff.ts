import type { LambdaClient } from '@aws-sdk/client-lambda';
import { logger } from '../core/logger.js';
import type { WebhookMessage } from './file-validated-event.js';

/** Hands a message to the deliverer and returns once it is queued, never waiting for the receiver. */
export type WebhookHandoff = (message: WebhookMessage) => Promise<void>;

export interface LambdaHandoffSettings {
  /** The deliverer function's name. */
  functionName: string;
  region: string;
  /** Set only off AWS: the local stack's stand-in for Lambda's asynchronous invocation. */
  endpoint?: string;
}

/**
 * A handoff that invokes the deliverer asynchronously (`InvocationType:
 * 'Event'`): Lambda queues the event and answers 202 at once, whatever the
 * receiver does; its retries and on-failure destination own the rest. The
 * Lambda client is loaded and built on first use. Throws when Lambda does not
 * accept the event (the validator's invocation then fails and is retried,
 * and the redelivered S3 event sends the verdict's event again).
 */
export function lambdaWebhookHandoff(settings: LambdaHandoffSettings): WebhookHandoff {
  let client: Promise<{
    lambda: LambdaClient;
    InvokeCommand: typeof import('@aws-sdk/client-lambda').InvokeCommand;
  }>;
  const connect = async () => {
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    const lambda = new LambdaClient({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    });
    return { lambda, InvokeCommand };
  };
  return async (message) => {
    client ??= connect();
    const { lambda, InvokeCommand } = await client;
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: settings.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(message)),
      }),
    );
    if (answer.StatusCode !== 202) {
      throw new Error(`the deliverer did not accept webhook ${message.id} (status ${answer.StatusCode})`);
    }
    logger.info('webhook handed off', { webhookId: message.id });
  };
}
