// scripts/redrive.ts (npm run redrive) against mocked SQS, Lambda and CloudFormation clients:
// what each dead-letter queue holds goes back where it came from, and only then is deleted.
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { findTarget, type RedriveTarget, redrive } from '../../../scripts/redrive.js';

const REGION_ACCOUNT = 'eu-west-1:123456789012';
const DLQ = `https://sqs.eu-west-1.amazonaws.com/123456789012/presign-prod-UploadValidationDlq-Ab12`;
const SOURCE = `https://sqs.eu-west-1.amazonaws.com/123456789012/presign-prod-UploadEventsQueue-Cd34`;
const WEBHOOK_DLQ = `https://sqs.eu-west-1.amazonaws.com/123456789012/presign-prod-WebhookDeadLetterQueue-Ef56`;
const UPLOAD_TARGET: RedriveTarget = {
  deadLetterQueueUrl: DLQ,
  sourceQueueUrl: SOURCE,
  functionName: 'presign-prod-validateUpload',
};
const WEBHOOK_TARGET: RedriveTarget = {
  deadLetterQueueUrl: WEBHOOK_DLQ,
  sourceQueueUrl: undefined,
  functionName: 'presign-prod-deliverWebhook',
};

/** An S3 ObjectCreated event as the upload-events queue held it (and its redrive policy moved it). */
const uploadEvent = (key: string) =>
  JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventName: 'ObjectCreated:Post',
        s3: { bucket: { name: 'presign-prod-uploads' }, object: { key, size: 1234, versionId: 'v1' } },
      },
    ],
  });

/** Lambda's on-failure record of an asynchronous invocation of `fn` with `payload`. */
const failureRecord = (fn: string, payload: unknown) =>
  JSON.stringify({
    version: '1.0',
    timestamp: '2026-11-23T09:00:00.000Z',
    requestContext: {
      requestId: 'e4b5c6d7-0000-4000-8000-000000000000',
      functionArn: `arn:aws:lambda:${REGION_ACCOUNT}:function:${fn}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload: payload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'Error', errorMessage: 'receiver answered 503' },
  });

/** A queue of `bodies` behind a mocked SQS client, and a mocked Lambda client; what each was sent. */
function fakeAws(bodies: string[]) {
  const queue: Message[] = bodies.map((body, index) => ({
    MessageId: `m${index}`,
    ReceiptHandle: `r${index}`,
    Body: body,
  }));
  const sqsCalls: unknown[] = [];
  const lambdaCalls: InvokeCommand[] = [];
  let next = 0;
  const sqs = {
    send: async (command: unknown) => {
      sqsCalls.push(command);
      if (command instanceof ReceiveMessageCommand) {
        const batch = queue.slice(next, next + (command.input.MaxNumberOfMessages ?? 1));
        next += batch.length;
        return { Messages: batch };
      }
      return {};
    },
  } as unknown as Pick<SQSClient, 'send'>;
  const lambda = {
    send: async (command: InvokeCommand) => {
      lambdaCalls.push(command);
      return { StatusCode: 202 };
    },
  } as unknown as Pick<LambdaClient, 'send'>;
  const deleted = () =>
    sqsCalls
      .filter((call) => call instanceof DeleteMessageCommand)
      .map((call) => (call as DeleteMessageCommand).input);
  const sent = () =>
    sqsCalls
      .filter((call) => call instanceof SendMessageCommand)
      .map((call) => (call as SendMessageCommand).input);
  const invoked = () =>
    lambdaCalls.map((call) => ({
      ...call.input,
      Payload: JSON.parse(new TextDecoder().decode(call.input.Payload as Uint8Array)),
    }));
  return { clients: { sqs, lambda }, deleted, sent, invoked };
}

describe('redrive of the upload-events dead-letter queue', () => {
  it('sends each upload event back to the upload-events queue, then deletes it from the dead-letter queue', async () => {
    // Arrange
    const bodies = Array.from({ length: 13 }, (_, index) => uploadEvent(`uploads/owner/file-${index}`));
    const aws = fakeAws(bodies);

    // Act
    const report = await redrive(aws.clients, UPLOAD_TARGET, { max: 1000, dryRun: false });

    // Assert
    expect(report).toEqual({ requeued: 13, reinvoked: 0, left: [] });
    expect(aws.sent()).toEqual(bodies.map((body) => ({ QueueUrl: SOURCE, MessageBody: body })));
    expect(aws.deleted()).toEqual(bodies.map((_, index) => ({ QueueUrl: DLQ, ReceiptHandle: `r${index}` })));
  });

  it('invokes the validator again, asynchronously, with a GuardDuty scan result it failed', async () => {
    // Arrange
    const scanResult = {
      source: 'aws.guardduty',
      'detail-type': 'GuardDuty Malware Protection Object Scan Result',
    };
    const aws = fakeAws([failureRecord('presign-prod-validateUpload', scanResult)]);

    // Act
    const report = await redrive(aws.clients, UPLOAD_TARGET, { max: 1000, dryRun: false });

    // Assert
    expect(report.reinvoked).toBe(1);
    expect(aws.invoked()).toEqual([
      { FunctionName: 'presign-prod-validateUpload', InvocationType: 'Event', Payload: scanResult },
    ]);
    expect(aws.deleted()).toHaveLength(1);
  });

  it('leaves a message it cannot read, or another function’s record, where it is', async () => {
    // Arrange
    const aws = fakeAws([
      'not json',
      JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }),
      failureRecord('someone-elses-function', { any: 'thing' }),
    ]);

    // Act
    const report = await redrive(aws.clients, UPLOAD_TARGET, { max: 1000, dryRun: false });

    // Assert
    expect(report.left.map((entry) => entry.messageId)).toEqual(['m0', 'm1', 'm2']);
    expect(report.left[2]?.reason).toContain('someone-elses-function');
    expect(aws.sent()).toEqual([]);
    expect(aws.invoked()).toEqual([]);
    expect(aws.deleted()).toEqual([]);
  });

  it('hands on no more than --max messages', async () => {
    const aws = fakeAws(Array.from({ length: 25 }, (_, index) => uploadEvent(`uploads/o/f${index}`)));
    const report = await redrive(aws.clients, UPLOAD_TARGET, { max: 12, dryRun: false });
    expect(report.requeued).toBe(12);
    expect(aws.deleted()).toHaveLength(12);
  });

  it('with --dry-run counts what it would hand on and touches nothing', async () => {
    const aws = fakeAws([uploadEvent('uploads/o/f'), failureRecord('presign-prod-validateUpload', {})]);
    const report = await redrive(aws.clients, UPLOAD_TARGET, { max: 1000, dryRun: true });
    expect(report).toEqual({ requeued: 1, reinvoked: 1, left: [] });
    expect([...aws.sent(), ...aws.invoked(), ...aws.deleted()]).toEqual([]);
  });
});

describe('redrive of the webhooks dead-letter queue', () => {
  it('invokes the deliverer again with each undelivered webhook, and deletes it once handed on', async () => {
    // Arrange
    const webhook = {
      id: 'msg_2abc',
      type: 'file.validated',
      data: { fileId: '01JDQ7ZJ8W3N4T6X9Y2B5C7D8E' },
    };
    const aws = fakeAws([failureRecord('presign-prod-deliverWebhook', webhook)]);

    // Act
    const report = await redrive(aws.clients, WEBHOOK_TARGET, { max: 1000, dryRun: false });

    // Assert
    expect(report).toEqual({ requeued: 0, reinvoked: 1, left: [] });
    expect(aws.invoked()).toEqual([
      { FunctionName: 'presign-prod-deliverWebhook', InvocationType: 'Event', Payload: webhook },
    ]);
    expect(aws.deleted()).toEqual([{ QueueUrl: WEBHOOK_DLQ, ReceiptHandle: 'r0' }]);
  });

  it('never sends an upload event anywhere from the webhooks’ queue', async () => {
    const aws = fakeAws([uploadEvent('uploads/o/f')]);
    const report = await redrive(aws.clients, WEBHOOK_TARGET, { max: 1000, dryRun: false });
    expect(report.left).toHaveLength(1);
    expect(aws.sent()).toEqual([]);
  });
});

describe('finding the queues', () => {
  const cloudFormation = (outputs: Record<string, string>) => {
    const asked: string[] = [];
    const client = {
      send: async (command: DescribeStacksCommand) => {
        if (!(command instanceof DescribeStacksCommand)) throw new Error('not DescribeStacks');
        asked.push(String(command.input.StackName));
        return {
          Stacks: [
            {
              Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({
                OutputKey,
                OutputValue,
              })),
            },
          ],
        };
      },
    } as unknown as Pick<CloudFormationClient, 'send'>;
    return { client, asked };
  };

  it('reads the stack’s outputs for each queue and names the function after the stack', async () => {
    // Arrange
    const { client, asked } = cloudFormation({
      UploadValidationDlqUrl: DLQ,
      UploadEventsQueueUrl: SOURCE,
      WebhookDeadLetterQueueUrl: WEBHOOK_DLQ,
    });

    // Act / Assert
    expect(await findTarget(client, 'presign-prod', 'upload-events')).toEqual(UPLOAD_TARGET);
    expect(await findTarget(client, 'presign-prod', 'webhooks')).toEqual(WEBHOOK_TARGET);
    expect(asked).toEqual(['presign-prod', 'presign-prod']);
  });

  it('fails naming the output a stack lacks', async () => {
    const { client } = cloudFormation({ UploadValidationDlqUrl: DLQ });
    await expect(findTarget(client, 'presign-prod', 'upload-events')).rejects.toThrow(
      'the stack presign-prod has no output UploadEventsQueueUrl',
    );
  });
});
