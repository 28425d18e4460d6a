import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { ValidationHandoff } from './pending-sweep.js';
import { pendingUploadsEvent } from './pending-uploads-event.js';

export interface LambdaValidationSettings {
  /** The validator function's name. */
  functionName: string;
  region: string;
  /** Set only off AWS: the local stack's stand-in for Lambda's asynchronous invocation. */
  endpoint?: string;
}

/**
 * A hand-off that invokes the validator asynchronously (`InvocationType:
 * 'Event'`) with a pending-uploads event: Lambda queues it and answers 202;
 * its retries and the validator's on-failure queue own the rest. The Lambda
 * client is loaded and built on first use. Throws when Lambda does not take
 * the event (the markers stay, and the next sweep hands the files off again).
 */
export function lambdaValidationHandoff(settings: LambdaValidationSettings): ValidationHandoff {
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
  return async (keys) => {
    client ??= connect();
    const { lambda, InvokeCommand } = await client;
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: settings.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(pendingUploadsEvent(keys))),
      }),
    );
    if (answer.StatusCode !== 202) {
      throw new Error(
        `the validator did not take ${keys.length} pending uploads (status ${answer.StatusCode})`,
      );
    }
  };
}
