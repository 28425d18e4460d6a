import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type Tag,
} from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import { describe, expect, it, vi } from 'vitest';
import { verdictSigner } from '../../lib/core/verdict-signature.js';
import { createRuntime } from '../../lib/runtime.js';
import { validateRecord } from '../../lib/validation/validator.js';
import { toAwsS3Event } from '../../scripts/ceph-event-bridge.js';
import { devVerdictKeys } from '../../scripts/dev-keys.js';
import { HTML_PAGE, PNG_1x1, pngOfSize } from '../support/sample-files.js';
import {
  adminS3,
  assumeFunctionRole,
  functionEnvironment,
  newOwner,
  ownerOf,
  postForm,
  requestUpload,
  roleS3Client,
  stack,
  waitForVerdict,
} from './stack.js';

/**
 * End to end: RGW notifies the event bridge, which invokes the
 * validator in serverless offline with the validateUpload role's credentials;
 * the verdict is read back from the object's tags and through the API.
 */

const TAG_STATUS = 'validation-status';
const INVOKE_URL = `${stack.lambdaUrl}/2015-03-31/functions/${stack.validatorFunction}/invocations`;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function tagsOf(key: string): Promise<Tag[]> {
  const tagging = await adminS3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }));
  return [...(tagging.TagSet ?? [])].sort((a, b) => String(a.Key).localeCompare(String(b.Key)));
}

async function setTags(key: string, tags: Record<string, string>): Promise<void> {
  await adminS3.send(
    new PutObjectTaggingCommand({
      Bucket: stack.bucket,
      Key: key,
      Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    }),
  );
}

/** Polls the object's tags until the validator has decided (or `seconds` pass). */
async function waitForTaggedVerdict(key: string, seconds = 30): Promise<Record<string, string>> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const tags = Object.fromEntries((await tagsOf(key)).map((t) => [t.Key ?? '', t.Value ?? '']));
    if (tags[TAG_STATUS] === 'passed' || tags[TAG_STATUS] === 'failed') return tags;
    if (Date.now() > deadline) throw new Error(`${key} still ${JSON.stringify(tags)} after ${seconds} s`);
    await sleep(200);
  }
}

/**
 * The event AWS would deliver for `key`, built as the local bridge builds it
 * from RGW's push (scripts/ceph-event-bridge.ts): form-encoded key, real ETag.
 */
async function awsEventFor(key: string, eventName = 'ObjectCreated:Post') {
  const head = await adminS3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
  const cephPush = {
    Records: [
      {
        eventVersion: '2.2',
        eventSource: 'ceph:s3',
        awsRegion: '',
        eventTime: new Date().toISOString(),
        eventName,
        userIdentity: { principalId: 'presign-admin' },
        requestParameters: { sourceIPAddress: '' },
        responseElements: { 'x-amz-request-id': 'redelivered', 'x-amz-id-2': '1016-default-default' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'validate-uploads',
          bucket: {
            name: stack.bucket,
            ownerIdentity: { principalId: 'presign-admin' },
            arn: `arn:aws:s3:::${stack.bucket}`,
          },
          object: {
            key,
            size: head.ContentLength ?? 0,
            eTag: (head.ETag ?? '').replaceAll('"', ''),
            versionId: '',
            sequencer: 'DC19046BCC817728',
          },
        },
        eventId: `redelivered-${ulid()}`,
      },
    ],
  };
  return toAwsS3Event(cephPush, 'us-east-1');
}

/** Invokes the validator through serverless offline's Lambda Invoke API, as the bridge (and S3) would. */
async function invokeValidator(
  event: unknown,
): Promise<{ status: number; functionError: string | null; body: string }> {
  const response = await fetch(INVOKE_URL, { method: 'POST', body: JSON.stringify(event) });
  return {
    status: response.status,
    functionError: response.headers.get('x-amz-function-error'),
    body: await response.text(),
  };
}

async function uploadThroughApi(token: string, bytes: Buffer, contentType = 'image/png') {
  const issued = await requestUpload(token, { filename: 'f.png', contentType, size: bytes.length });
  const posted = await postForm(issued.upload, bytes);
  expect(posted.status).toBe(204);
  return issued;
}

describe('the validator on real uploads', () => {
  it('a real PNG passes, detected as image/png', async () => {
    const { token } = await newOwner('v-png');
    const issued = await uploadThroughApi(token, pngOfSize(4096));

    const verdict = await waitForVerdict(token, issued.fileId);

    expect(verdict).toMatchObject({ status: 'passed', detectedType: 'image/png' });
    expect(await tagsOf(issued.key)).toContainEqual({ Key: TAG_STATUS, Value: 'passed' });
  });

  it('HTML declared as image/png fails with a type reason', async () => {
    const { token } = await newOwner('v-html');
    const issued = await uploadThroughApi(token, HTML_PAGE);

    const verdict = await waitForVerdict(token, issued.fileId);

    expect(verdict.status).toBe('failed');
    expect(String(verdict.reason)).toMatch(/type/);
    expect(await tagsOf(issued.key)).toContainEqual({ Key: TAG_STATUS, Value: 'failed' });
  });

  it.each([
    ['longer', 10],
    ['shorter', -10],
  ])('a declared-size lie (%s body) cannot even land: S3 refuses it', async (_, delta) => {
    const { token } = await newOwner('v-size');
    const issued = await requestUpload(token, { filename: 'lie.png', contentType: 'image/png', size: 2000 });

    const posted = await postForm(issued.upload, pngOfSize(2000 + delta));

    expect(posted.status).toBe(400);
    expect(posted.body).toMatch(/EntityToo(Large|Small)/);
    const listed = await adminS3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: issued.key }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('20 concurrent uploads are all decided (passed) within 30 s', async () => {
    // Arrange
    const { token } = await newOwner('v-burst');
    const files = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        requestUpload(token, { filename: `b${i}.png`, contentType: 'image/png', size: 1000 + i }),
      ),
    );

    // Act
    const started = Date.now();
    const posted = await Promise.all(files.map((f, i) => postForm(f.upload, pngOfSize(1000 + i))));
    // The tags are the verdict itself (GET /files is covered elsewhere and not under test here).
    const verdicts = await Promise.all(files.map((f) => waitForTaggedVerdict(f.key, 30)));
    const elapsed = Date.now() - started;

    // Assert
    expect(posted.map((p) => p.status)).toEqual(Array(20).fill(204));
    expect(verdicts.map((v) => v[TAG_STATUS])).toEqual(Array(20).fill('passed'));
    expect(elapsed).toBeLessThan(30_000);
  });
});

describe('events delivered to the validator directly (serverless offline Lambda invoke)', () => {
  it('a redelivered event for an already-decided object changes nothing, foreign tags included', async () => {
    // Arrange: a decided file; the owner-side tag must survive, and the recorded verdict must not be redone
    const { token } = await newOwner('v-redeliver');
    const issued = await uploadThroughApi(token, pngOfSize(3000));
    await waitForVerdict(token, issued.fileId);
    // A verdict a re-judgment would overturn (the bytes are a valid PNG), signed with the local
    // stack's validator key for these very bytes (its version and ETag), plus foreign tags.
    const validatedEtag = (await tagsOf(issued.key)).find((tag) => tag.Key === 'validated-etag')?.Value ?? '';
    expect(validatedEtag).toMatch(/^[0-9a-f]{32}$/);
    const { Versions = [] } = await adminS3.send(
      new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: issued.key }),
    );
    const signature = verdictSigner(devVerdictKeys().privateKey)({
      bucket: stack.bucket,
      key: issued.key,
      versionId: Versions[0]?.VersionId ?? '',
      eTag: validatedEtag,
      status: 'failed',
      reason: 'type_mismatch',
    });
    await setTags(issued.key, {
      [TAG_STATUS]: 'failed',
      'validated-etag': validatedEtag,
      'validation-reason': 'type_mismatch',
      'verdict-signature': signature,
      'share-epoch': '3',
      'kept-by-admin': 'yes',
    });
    const before = await tagsOf(issued.key);
    const event = await awsEventFor(issued.key);

    // Act
    const first = await invokeValidator(event);
    const second = await invokeValidator(event);

    // Assert
    for (const answer of [first, second]) {
      expect(answer.status).toBe(200);
      expect(answer.functionError).toBeNull();
    }
    expect(await tagsOf(issued.key)).toEqual(before);
  });

  it('control: the same event for a pending object is judged, and other tags are kept', async () => {
    // Arrange
    const { token } = await newOwner('v-control');
    const issued = await uploadThroughApi(token, pngOfSize(3000));
    await waitForVerdict(token, issued.fileId);
    await setTags(issued.key, { [TAG_STATUS]: 'pending', 'kept-by-admin': 'yes', 'share-epoch': '2' });
    const event = await awsEventFor(issued.key);

    // Act
    const answer = await invokeValidator(event);

    // Assert
    expect(answer.status).toBe(200);
    expect(answer.functionError).toBeNull();
    expect(await tagsOf(issued.key)).toEqual([
      { Key: 'detected-type', Value: 'image/png' },
      { Key: 'kept-by-admin', Value: 'yes' },
      { Key: 'share-epoch', Value: '2' },
      { Key: 'validated-etag', Value: expect.stringMatching(/^[0-9a-f]{32}$/) },
      { Key: TAG_STATUS, Value: 'passed' },
      { Key: 'verdict-signature', Value: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) },
    ]);
  });

  it('keys with spaces, +, %, unicode (outside the key scheme) are handled without error and left alone', async () => {
    // Arrange: real objects at such keys (RGW also notifies the bridge for them)
    const id = ulid();
    const keys = [
      `uploads/a b+c%d/é☃ x ${id}.png`,
      `uploads/${'0'.repeat(32)}/${id} +%20`,
      `uploads/${'0'.repeat(31)}é/${id}`,
      `uploads/../${id}`,
    ];
    for (const key of keys) {
      await adminS3.send(
        new PutObjectCommand({
          Bucket: stack.bucket,
          Key: key,
          Body: PNG_1x1,
          ContentType: 'image/png',
          Metadata: { 'declared-type': 'image/png', 'declared-size': String(PNG_1x1.length) },
          Tagging: `${TAG_STATUS}=pending`,
        }),
      );
    }
    const events = await Promise.all(keys.map((key) => awsEventFor(key, 'ObjectCreated:Put')));
    const malformed = structuredClone(events[0]);
    if (!malformed?.Records[0]) throw new Error('no event');
    malformed.Records[0].s3.object.key = 'uploads/%E0%A4%A/%ZZ';

    // Act
    const answers = await Promise.all([...events, malformed].map(invokeValidator));

    // Assert
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.functionError).toBeNull();
    }
    for (const key of keys) expect(await tagsOf(key)).toEqual([{ Key: TAG_STATUS, Value: 'pending' }]);
  });

  it('a batch with one hostile record still judges the good one', async () => {
    const { token } = await newOwner('v-batch');
    const issued = await uploadThroughApi(token, pngOfSize(2500));
    await waitForVerdict(token, issued.fileId);
    await setTags(issued.key, { [TAG_STATUS]: 'pending' });
    const good = await awsEventFor(issued.key);
    const hostile = structuredClone(good.Records[0]);
    if (!hostile) throw new Error('no record');
    hostile.s3.object.key = 'uploads/%00%2F..%2F/x';
    const batch = { Records: [hostile, ...good.Records, { eventSource: 'aws:sqs', body: '{}' }] };

    const answer = await invokeValidator(batch);

    expect(answer.status).toBe(200);
    expect(answer.functionError).toBeNull();
    expect(await tagsOf(issued.key)).toContainEqual({ Key: TAG_STATUS, Value: 'passed' });
  });
});

describe('the ranged read is bounded', () => {
  const BIG = 32 * 1024 * 1024;

  async function bigObject(): Promise<{ key: string; eTag: string }> {
    const { sub } = await newOwner('v-big');
    const key = `uploads/${ownerOf(sub).segment}/${ulid()}`;
    const put = await adminS3.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        Body: pngOfSize(BIG),
        ContentLength: BIG,
        ContentType: 'image/png',
        Metadata: { 'declared-type': 'image/png', 'declared-size': String(BIG) },
        Tagging: `${TAG_STATUS}=pending`,
      }),
    );
    return { key, eTag: (put.ETag ?? '').replaceAll('"', '') };
  }

  it('a 32 MiB object gets a verdict from the deployed validator (too large for image/png, still sniffed)', async () => {
    const { key } = await bigObject();

    const tags = await waitForTaggedVerdict(key, 40);

    expect(tags).toMatchObject({
      [TAG_STATUS]: 'failed',
      'validation-reason': 'too_large',
      'detected-type': 'image/png',
    });
  }, 90_000);

  it('validating a 32 MiB object reads at most 4100 bytes of it (one ranged GetObject)', async () => {
    // Arrange: the object, decided by the stack, then put back to pending for an in-process run
    const { key, eTag } = await bigObject();
    await waitForTaggedVerdict(key, 40);
    await setTags(key, { [TAG_STATUS]: 'pending' });

    const session = await assumeFunctionRole('validateUpload', 'v-ranged-read');
    const s3 = roleS3Client(session);
    const { store, rules, limits, clock } = await createRuntime(await functionEnvironment(session), { s3 });
    const reads: { input: Record<string, unknown>; output: GetObjectCommandOutput; bytes: () => number }[] =
      [];
    const send = s3.send.bind(s3) as (command: unknown) => Promise<unknown>;
    vi.spyOn(s3, 'send').mockImplementation((async (command: unknown) => {
      const output = await send(command);
      // Reads of the uploads bucket only: the file's record in the state bucket is a GetObject too.
      if (!(command instanceof GetObjectCommand) || command.input.Bucket !== stack.bucket) return output;
      const got = output as GetObjectCommandOutput;
      const body = got.Body as AsyncIterable<Uint8Array>;
      let counted = 0;
      const counting = {
        async *[Symbol.asyncIterator]() {
          for await (const chunk of body) {
            counted += chunk.length;
            yield chunk;
          }
        },
      };
      reads.push({ input: { ...command.input }, output: got, bytes: () => counted });
      return { ...got, Body: counting };
    }) as typeof s3.send);
    try {
      // Act
      const outcome = await validateRecord(
        { store, rules, limits, clock },
        {
          eventName: 'ObjectCreated:Put',
          bucket: stack.bucket,
          key,
          size: BIG,
          eTag,
        },
      );

      // Assert
      expect(outcome).toMatchObject({ status: 'failed', reason: 'too_large', detectedType: 'image/png' });
      expect(reads).toHaveLength(1);
      const [read] = reads;
      expect(read?.input.Range).toBe('bytes=0-4099');
      expect(read?.output.$metadata.httpStatusCode).toBe(206);
      expect(read?.output.ContentLength).toBeLessThanOrEqual(4100);
      expect(read?.output.ContentRange).toBe(`bytes 0-4099/${BIG}`);
      expect(read?.bytes()).toBeGreaterThan(0);
      expect(read?.bytes()).toBeLessThanOrEqual(4100);
      expect(await tagsOf(key)).toContainEqual({ Key: TAG_STATUS, Value: 'failed' });
    } finally {
      vi.restoreAllMocks();
    }
  }, 90_000);
});
