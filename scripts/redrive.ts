// npm run redrive -- --stage <stage> --region <region> --queue upload-events|webhooks [--dry-run] [--max <n>]
//
// Hands a dead-letter queue's messages back, once the cause is fixed (docs/operations.md):
//   upload-events  UploadValidationDlq: an upload event the validator failed three times goes back
//                  to UploadEventsQueue; a GuardDuty scan result it failed (Lambda's on-failure
//                  record) is invoked on the validator again, asynchronously.
//   webhooks       WebhookDeadLetterQueue: each undelivered webhook (Lambda's on-failure record) is
//                  invoked on the deliverer again, asynchronously.
// A message is deleted only once it was handed on; one this cannot read stays where it is. The
// queues are found in the stack's outputs; AWS credentials as the SDK finds them.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

export const QUEUES = {
  'upload-events': {
    deadLetter: 'UploadValidationDlqUrl',
    source: 'UploadEventsQueueUrl',
    function: 'validateUpload',
  },
  webhooks: { deadLetter: 'WebhookDeadLetterQueueUrl', source: undefined, function: 'deliverWebhook' },
} as const;
export type QueueName = keyof typeof QUEUES;

/** How long a received message stays hidden: longer than a run, so none is seen twice. */
const VISIBILITY_SECONDS = 300;
/** A dry run hides what it read for a while too, or it would read the first ten again and again. */
const DRY_RUN_VISIBILITY_SECONDS = 30;

export interface RedriveTarget {
  deadLetterQueueUrl: string;
  /** Where an upload event goes back to; unset for the webhooks' queue. */
  sourceQueueUrl: string | undefined;
  /** The one function whose on-failure records this queue may hold (`presign-prod-deliverWebhook`). */
  functionName: string;
}

export interface RedriveReport {
  requeued: number;
  reinvoked: number;
  /** Messages left in the queue: neither an upload event nor the function's on-failure record. */
  left: { messageId: string; reason: string }[];
}

type Send<Client extends { send: (...args: never[]) => unknown }> = Pick<Client, 'send'>;

/** Lambda's on-failure record for an asynchronous invocation: what was invoked, with what. */
interface FailureRecord {
  requestContext: { functionArn: string };
  requestPayload: unknown;
}

const parse = (body: string | undefined): unknown => {
  try {
    return JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
};

const isFailureRecord = (value: unknown): value is FailureRecord =>
  typeof value === 'object' &&
  value !== null &&
  'requestPayload' in value &&
  typeof (value as FailureRecord).requestContext?.functionArn === 'string';

const isUploadEvent = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as { Records?: unknown }).Records) &&
  (value as { Records: { eventSource?: unknown }[] }).Records.every(
    (record) => record?.eventSource === 'aws:s3',
  );

/** The function an on-failure record names, without its version (`…:function:name:$LATEST` → name). */
const functionNameOf = (arn: string): string | undefined => /:function:([^:]+)/.exec(arn)?.[1];

/**
 * Drains `target`'s dead-letter queue (at most `max` messages): each upload event back to the
 * source queue, each on-failure record of the expected function invoked on it again (asynchronously,
 * with the original payload); each message deleted only once handed on. `dryRun`: counts, touches nothing.
 */
export async function redrive(
  clients: { sqs: Send<SQSClient>; lambda: Send<LambdaClient> },
  target: RedriveTarget,
  options: { max: number; dryRun: boolean },
): Promise<RedriveReport> {
  const report: RedriveReport = { requeued: 0, reinvoked: 0, left: [] };
  const seen = new Set<string>();
  while (seen.size < options.max) {
    const { Messages: messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: target.deadLetterQueueUrl,
        MaxNumberOfMessages: Math.min(10, options.max - seen.size),
        VisibilityTimeout: options.dryRun ? DRY_RUN_VISIBILITY_SECONDS : VISIBILITY_SECONDS,
        WaitTimeSeconds: 1,
      }),
    );
    const fresh = messages.filter((message) => message.MessageId && !seen.has(message.MessageId));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      seen.add(message.MessageId as string);
      await handOn(clients, target, message, options.dryRun, report);
    }
  }
  return report;
}

async function handOn(
  clients: { sqs: Send<SQSClient>; lambda: Send<LambdaClient> },
  target: RedriveTarget,
  message: Message,
  dryRun: boolean,
  report: RedriveReport,
): Promise<void> {
  const messageId = message.MessageId as string;
  const body = parse(message.Body);
  if (isFailureRecord(body)) {
    const name = functionNameOf(body.requestContext.functionArn);
    if (name !== target.functionName) {
      report.left.push({
        messageId,
        reason: `an on-failure record of ${name ?? 'no function'}, not ${target.functionName}`,
      });
      return;
    }
    if (!dryRun) {
      await clients.lambda.send(
        new InvokeCommand({
          FunctionName: target.functionName,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(body.requestPayload)),
        }),
      );
    }
    report.reinvoked += 1;
  } else if (isUploadEvent(body) && target.sourceQueueUrl) {
    if (!dryRun) {
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: target.sourceQueueUrl, MessageBody: message.Body }),
      );
    }
    report.requeued += 1;
  } else {
    report.left.push({ messageId, reason: 'neither an upload event nor an on-failure record' });
    return;
  }
  if (!dryRun) {
    await clients.sqs.send(
      new DeleteMessageCommand({ QueueUrl: target.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }
}

/** The queues and the function of `queue` in the deployed stack `stackName`, from its outputs. */
export async function findTarget(
  cloudFormation: Send<CloudFormationClient>,
  stackName: string,
  queue: QueueName,
): Promise<RedriveTarget> {
  const { Stacks: stacks = [] } = await cloudFormation.send(
    new DescribeStacksCommand({ StackName: stackName }),
  );
  const outputs = new Map((stacks[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));
  const { deadLetter, source, function: fn } = QUEUES[queue];
  const deadLetterQueueUrl = outputs.get(deadLetter);
  if (!deadLetterQueueUrl) throw new Error(`the stack ${stackName} has no output ${deadLetter}`);
  const sourceQueueUrl = source ? outputs.get(source) : undefined;
  if (source && !sourceQueueUrl) throw new Error(`the stack ${stackName} has no output ${source}`);
  return { deadLetterQueueUrl, sourceQueueUrl, functionName: `${stackName}-${fn}` };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string' },
      region: { type: 'string' },
      queue: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      max: { type: 'string', default: '1000' },
    },
  });
  const queue = values.queue as QueueName;
  const max = Number(values.max);
  if (!values.stage || !values.region || !(queue in QUEUES) || !Number.isSafeInteger(max) || max < 1) {
    throw new Error(
      'usage: npm run redrive -- --stage <stage> --region <region> --queue upload-events|webhooks [--dry-run] [--max <n>]',
    );
  }
  const stackName = `presign-${values.stage}`;
  const region = values.region;
  const target = await findTarget(new CloudFormationClient({ region }), stackName, queue);
  const report = await redrive(
    { sqs: new SQSClient({ region }), lambda: new LambdaClient({ region }) },
    target,
    { max, dryRun: values['dry-run'] ?? false },
  );
  const verb = values['dry-run'] ? 'would hand on' : 'handed on';
  console.log(
    `${stackName} ${queue}: ${verb} ${report.requeued} upload event(s) to the queue and ${report.reinvoked} record(s) to ${target.functionName}; ${report.left.length} left in the dead-letter queue`,
  );
  for (const { messageId, reason } of report.left) console.log(`  left ${messageId}: ${reason}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
