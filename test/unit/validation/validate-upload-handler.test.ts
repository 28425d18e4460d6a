import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createHandler, validatorDependencies } from '../../../handlers/validate-upload.js';
import type { Environment } from '../../../lib/config/environment.js';
import { verdictVerifier } from '../../../lib/core/verdict-signature.js';
import { META, TAG } from '../../../lib/store/object-encoding.js';
import { lambdaContext } from '../../support/api-event.js';
import { unitRuntime } from '../../support/runtime.js';
import { TEST_VERDICT_KEYS } from '../../support/verdict-keys.js';

const { s3, ...runtime } = await unitRuntime();
const handler = createHandler(runtime);

const KEY = 'uploads/9f86d081884c7d659a2feaa0c55ad015/01JDQ7ZJ8W3N4T6X9Y2B5C7D8E';
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** A fresh copy of the genuine ObjectCreated:Post fixture. */
function loadEvent(): S3Event {
  const url = new URL('../../fixtures/s3-events/object-created-post.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as S3Event;
}

const ETAG = 'e1b849f9631ffc1829b2e31402373e3c';
const VERSION_ID = 'Ab3Xq9zPmL.2vR7tW0yK4nH8_sD1fG6j';

/** S3 holding one pending PNG, the only version under its key, as the validator sees it. */
function pendingPng(command: object): unknown {
  if (command instanceof HeadObjectCommand) {
    return {
      ContentLength: PNG.length,
      ContentType: 'image/png',
      ETag: `"${ETAG}"`,
      VersionId: VERSION_ID,
      Metadata: { [META.declaredType]: 'image/png', [META.declaredSize]: String(PNG.length) },
    };
  }
  if (command instanceof ListObjectVersionsCommand) {
    return {
      IsTruncated: false,
      Versions: [{ Key: KEY, VersionId: VERSION_ID, ETag: `"${ETAG}"`, IsLatest: true }],
    };
  }
  if (command instanceof GetObjectTaggingCommand) return { TagSet: [{ Key: TAG.status, Value: 'pending' }] };
  // No record of the file yet: the validator sees it for the first time.
  if (command instanceof GetObjectCommand && command.input.Bucket === 'unit-test-state') {
    throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey' });
  }
  if (command instanceof GetObjectCommand) {
    return {
      Body: Readable.from([PNG]),
      ContentLength: PNG.length,
      ContentRange: `bytes 0-${PNG.length - 1}/${PNG.length}`,
      ContentType: 'image/png',
      ETag: `"${ETAG}"`,
      VersionId: VERSION_ID,
      TagCount: 1,
      Metadata: { [META.declaredType]: 'image/png', [META.declaredSize]: String(PNG.length) },
    };
  }
  if (command instanceof PutObjectTaggingCommand) return {};
  // The file index, in the state bucket.
  if (command instanceof PutObjectCommand) return {};
  // The file's pending marker, dropped once its verdict is recorded.
  if (command instanceof DeleteObjectCommand && command.input.Bucket === 'unit-test-state') return {};
  throw new Error('unexpected command');
}

let send: MockInstance<(command: object) => Promise<unknown>>;
let stdout: MockInstance;

beforeEach(() => {
  send = vi.spyOn(s3, 'send') as unknown as MockInstance<(command: object) => Promise<unknown>>;
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('validateUpload handler', () => {
  it('tags the uploaded object passed, signed with the configured key, and flushes the validationPassed metric', async () => {
    // Arrange
    send.mockImplementation(async (command) => pendingPng(command));

    // Act
    await handler(loadEvent(), lambdaContext('presign-dev-validateUpload'));

    // Assert
    const put = send.mock.calls.map(([command]) => command).find((c) => c instanceof PutObjectTaggingCommand);
    expect((put as PutObjectTaggingCommand | undefined)?.input).toMatchObject({
      Bucket: 'unit-test-bucket',
      Key: KEY,
      Tagging: { TagSet: expect.arrayContaining([{ Key: TAG.status, Value: 'passed' }]) },
    });
    const signature = (put as PutObjectTaggingCommand).input.Tagging?.TagSet?.find(
      (tag) => tag.Key === TAG.signature,
    )?.Value;
    const claims = {
      bucket: 'unit-test-bucket',
      key: KEY,
      versionId: VERSION_ID,
      eTag: ETAG,
      status: 'passed',
      detectedType: 'image/png',
    } as const;
    expect(verdictVerifier(TEST_VERDICT_KEYS.publicKey)(claims, signature)).toBe(true);
    const emf = stdout.mock.calls
      .flatMap(([chunk]) => String(chunk).split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toContainEqual(
      expect.objectContaining({
        validationPassed: 1,
        service: 'presign',
        _aws: expect.objectContaining({
          CloudWatchMetrics: [expect.objectContaining({ Namespace: 'Presign' })],
        }),
      }),
    );
  });

  it('fails the invocation when S3 answers 5xx, so Lambda retries', async () => {
    // Arrange
    send.mockRejectedValue(
      new S3ServiceException({
        name: 'ServiceUnavailable',
        $fault: 'server',
        $metadata: { httpStatusCode: 503 },
        message: 'Please reduce your request rate.',
      }),
    );

    // Act / Assert
    await expect(handler(loadEvent(), lambdaContext('presign-dev-validateUpload'))).rejects.toThrow(
      '1 of 1 records could not be validated',
    );
  });

  it('succeeds without S3 calls for an event with no upload records', async () => {
    // Arrange
    const event = loadEvent();
    const [record] = event.Records;
    if (record) record.s3.object.key = 'other/report+2026.pdf';

    // Act
    await handler(event, lambdaContext('presign-dev-validateUpload'));

    // Assert
    expect(send).not.toHaveBeenCalled();
  });
});

describe('validatorDependencies', () => {
  /** The validator's dependencies in a function whose environment adds `variables`. */
  const withDeliverer = (variables: Partial<Environment>) =>
    validatorDependencies({ ...runtime, environment: { ...runtime.environment, ...variables } });

  it('hands no webhook off without a deliverer', () => {
    // Act + Assert
    expect(withDeliverer({}).handOffWebhook).toBeUndefined();
  });

  it('hands webhooks to the deliverer by an asynchronous invocation, at the configured endpoint', async () => {
    // Arrange
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    const send = vi.spyOn(LambdaClient.prototype, 'send').mockImplementation(async function (
      this: InstanceType<typeof LambdaClient>,
    ) {
      return { StatusCode: 202, endpoint: await this.config.endpoint?.() };
    } as never);
    const { handOffWebhook } = withDeliverer({
      WEBHOOK_DELIVERER_FUNCTION: 'presign-unit-deliverWebhook',
      LAMBDA_ENDPOINT: 'http://127.0.0.1:3010',
    });
    const message = { id: `msg_${'a'.repeat(43)}`, event: { type: 'file.validated' } } as never;

    // Act
    await handOffWebhook?.(message);

    // Assert
    expect(send).toHaveBeenCalledTimes(1);
    const command = send.mock.calls[0]?.[0] as InstanceType<typeof InvokeCommand>;
    expect(command).toBeInstanceOf(InvokeCommand);
    expect(command.input.FunctionName).toBe('presign-unit-deliverWebhook');
    expect(command.input.InvocationType).toBe('Event');
    expect(JSON.parse(new TextDecoder().decode(command.input.Payload as Uint8Array))).toEqual(message);
    expect((await send.mock.results[0]?.value)?.endpoint).toMatchObject({
      hostname: '127.0.0.1',
      port: 3010,
    });
    send.mockRestore();
  });

  it('fails the handoff when Lambda does not queue the event', async () => {
    // Arrange
    const { LambdaClient } = await import('@aws-sdk/client-lambda');
    const send = vi.spyOn(LambdaClient.prototype, 'send').mockResolvedValue({ StatusCode: 200 } as never);
    const { handOffWebhook } = withDeliverer({ WEBHOOK_DELIVERER_FUNCTION: 'presign-unit-deliverWebhook' });

    // Act
    const handed = handOffWebhook?.({ id: 'msg_x', event: {} } as never);

    // Assert
    await expect(handed).rejects.toThrow(/did not accept webhook msg_x \(status 200\)/);
    send.mockRestore();
  });
});
