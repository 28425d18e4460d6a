import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

export interface AsyncInvokeSettings {
  /** The function's name. */
  functionName: string;
  region: string;
  /** Set only off AWS: the local stack's stand-in for Lambda's asynchronous invocation. */
  endpoint?: string;
}

/**
 * Invokes one function asynchronously (`InvocationType: 'Event'`): Lambda
 * queues the payload and answers 202 at once; its retries and the function's
 * on-failure destination own the rest. The Lambda client is built on first
 * use; it is imported statically, as a bundled dynamic import would keep every
 * command of it. Resolves with Lambda's status code, which the caller checks.
 */
export function asyncInvoker(
  settings: AsyncInvokeSettings,
): (payload: unknown) => Promise<number | undefined> {
  let lambda: LambdaClient | undefined;
  return async (payload) => {
    lambda ??= new LambdaClient({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    });
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: settings.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    return answer.StatusCode;
  };
}

/**
 * The settings to invoke `functionName` from this function: its region and,
 * off AWS, the local stack's endpoint; none when no function is named.
 */
export function asyncInvokeSettings(
  environment: { AWS_REGION: string; LAMBDA_ENDPOINT?: string | undefined },
  functionName: string | undefined,
): AsyncInvokeSettings | undefined {
  if (!functionName) return undefined;
  return {
    functionName,
    region: environment.AWS_REGION,
    ...(environment.LAMBDA_ENDPOINT ? { endpoint: environment.LAMBDA_ENDPOINT } : {}),
  };
}
