/**
 * Section `requests`: how many S3 requests each API operation and each
 * validated upload costs, against the floor each could reach, and that none
 * of it grows with the number of times a file's upload form was posted.
 * The handlers run in this process, configured as the local stack runs them
 * (serverless.yml's environment), on an S3 client of the real RGW that counts
 * every request it sends (a middleware at the SDK's last step before the
 * HTTP handler: each request sent, a retry too; a presigned URL is none). They work on a scratch pair of buckets (versioned
 * uploads, unversioned state) with the bucket owner's keys, which no bucket
 * notification and no other function touches: what is counted is theirs alone.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Context, S3Event } from 'aws-lambda';
import { ulid } from 'ulid';
import { createCallerRuntime } from '../lib/caller-runtime.js';
import { ownerFromSubject, ownerKeyFrom } from '../lib/core/owner.js';
import { usageKey } from '../lib/store/object-key.js';
import { emptyUsage } from '../lib/store/usage-store.js';
import { devOwnerSecret, devToken } from '../scripts/dev-keys.js';
import type { StackInfo } from '../scripts/stack-settings.js';
import { apiEvent, lambdaContext } from '../test/support/api-event.js';
import { pngOfSize } from '../test/support/sample-files.js';
import { rgwCreatedEvent } from './rgw-push.js';
import { functionNamed, localAdmin, localFunctionEnvironment } from './serverless-config.js';
import type { Figure, SectionResult } from './stats.js';

type Handler = (event: never, context: Context) => Promise<unknown>;
type Created = (runtime: never) => Handler;

/** Versions posted over the measured file before its reads: none of them may cost a read anything. */
const PILE = 200;

/** The event the local bridge hands the validator for a form POST (RGW names no version), or AWS's (it does). */
const createdEvent = (bucket: string, key: string, eTag: string, versionId?: string): S3Event =>
  rgwCreatedEvent({ bucket, key, size: 2048, eTag, versionId });

export interface RequestsOptions {
  stack: StackInfo;
  quick?: boolean;
}

export async function run({ stack }: RequestsOptions): Promise<SectionResult> {
  const admin = localAdmin();
  const credentials = { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey };
  const suffix = randomBytes(4).toString('hex');
  const buckets = { uploads: `presign-bench-${suffix}`, state: `presign-bench-${suffix}-state` };
  const plain = new S3Client({
    endpoint: admin.endpoint,
    region: stack.region,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  // The functions' client, counting what it sends.
  const sent: string[] = [];
  const s3 = new S3Client({
    endpoint: admin.endpoint,
    region: stack.region,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    // The last step before the HTTP handler: once per request sent (a retry too), never for a presigned URL.
    { step: 'deserialize', name: 'countS3Requests' },
  );
  /** The requests `act` sends, by operation. */
  const count = async (act: () => Promise<unknown>) => {
    sent.length = 0;
    await act();
    return [...sent];
  };

  await plain.send(new CreateBucketCommand({ Bucket: buckets.uploads }));
  await plain.send(new CreateBucketCommand({ Bucket: buckets.state }));
  await plain.send(
    new PutBucketVersioningCommand({
      Bucket: buckets.uploads,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const environment = await localFunctionEnvironment(
    'validateUpload',
    stack,
    { ...credentials, sessionToken: '', expiration: new Date(Date.now() + 3_600_000) },
    { UPLOADS_BUCKET: buckets.uploads, STATE_BUCKET: buckets.state, S3_ENDPOINT: admin.endpoint },
  );
  // The handler modules build a runtime from the environment when imported: set it first.
  Object.assign(process.env, environment);
  const runtime = await createCallerRuntime(environment, { s3 });
  const load = async (fn: string) =>
    ((await import(pathToFileURL(functionNamed(fn).source).href)) as { createHandler: Created })
      .createHandler;
  const context = lambdaContext('presign-local-bench');
  const validate = (await load('validateUpload'))(runtime as never);
  const shared = { ...runtime, shareKey: runtime.shareKey };
  const api = {
    getFile: (await load('getFile'))(runtime as never),
    downloadUrl: (await load('createDownloadUrl'))(runtime as never),
    createShare: (await load('createShare'))(shared as never),
    openShare: (await load('openShare'))({ store: runtime.store, shareKey: runtime.shareKey } as never),
    listFiles: (await load('listFiles'))(runtime as never),
    deleteFile: (await load('deleteFile'))(runtime as never),
    usage: (await load('getUsage'))(runtime as never),
  };
  const sub = `bench|${suffix}`;
  const owner = ownerFromSubject(sub, ownerKeyFrom(devOwnerSecret()));
  const headers = { authorization: `Bearer ${await devToken(sub)}`, 'content-type': 'application/json' };
  const call = (handler: Handler, init: NonNullable<Parameters<typeof apiEvent>[0]>) =>
    handler(apiEvent({ ...init, headers: { ...headers, ...init.headers } }) as never, context) as Promise<{
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
    }>;
  /** A new version under `key`, as a form POST lands it (pending, with what the form pins). */
  const post = async (key: string, bytes = pngOfSize(2048)) => {
    const put = await plain.send(
      new PutObjectCommand({
        Bucket: buckets.uploads,
        Key: key,
        Body: bytes,
        ContentType: 'image/png',
        Metadata: {
          filename: Buffer.from('bench.png').toString('base64url'),
          owner: owner.segment,
          'declared-type': 'image/png',
          'declared-size': String(bytes.length),
        },
        Tagging: 'validation-status=pending',
      }),
    );
    return { eTag: (put.ETag ?? '').replaceAll('"', ''), versionId: put.VersionId ?? '' };
  };

  const figures: Record<string, Figure> = {};
  const rows: string[][] = [];
  const report = (name: string, requests: string[], floor: number, why: string) => {
    const by = new Map<string, number>();
    for (const op of requests) by.set(op, (by.get(op) ?? 0) + 1);
    const summary = [...by].map(([op, n]) => `${op}${n > 1 ? ` ×${n}` : ''}`).join(', ');
    figures[`${name} S3 requests`] = requests.length;
    figures[`${name} floor`] = floor;
    figures[`${name} lists`] = requests.filter((op) => op.startsWith('List')).length;
    rows.push([name, `${requests.length} (floor ${floor})`, summary, why]);
  };
  try {
    // A validated upload, the first time the validator sees its key: as RGW and as AWS deliver it.
    const files: { fileId: string; key: string }[] = [];
    for (const shape of ['RGW', 'AWS'] as const) {
      const fileId = ulid();
      const key = `uploads/${owner.segment}/${fileId}`;
      const landed = await post(key);
      const event = createdEvent(
        buckets.uploads,
        key,
        landed.eTag,
        shape === 'AWS' ? landed.versionId : undefined,
      );
      report(
        `validated upload (${shape} event)`,
        await count(() => validate(event as never, context)),
        3,
        'the floor: read the leading bytes, tag the verdict on the version (the read gate), record it (the reads); beyond it, the record looked up (none yet) and the key listed once',
      );
      files.push({ fileId, key });
    }
    const [file] = files as [{ fileId: string; key: string }];

    // Versions posted over the file: one event each, and a batch of ten.
    const reposted = await post(file.key);
    report(
      're-post, event names no version (RGW)',
      await count(() => validate(createdEvent(buckets.uploads, file.key, reposted.eTag) as never, context)),
      3,
      'its record, HEAD of the current version (the event does not name it), the deletion',
    );
    const named = await post(file.key);
    report(
      're-post, event names its version (AWS)',
      await count(() =>
        validate(createdEvent(buckets.uploads, file.key, named.eTag, named.versionId) as never, context),
      ),
      2,
      'its record, the deletion',
    );
    const ten = await Promise.all(Array.from({ length: 10 }, () => post(file.key)));
    const batch = {
      Records: ten.flatMap(
        ({ eTag, versionId }) => createdEvent(buckets.uploads, file.key, eTag, versionId).Records,
      ),
    };
    const batchRequests = await count(() => validate(batch as never, context));
    report(
      're-posts, a batch of 10 naming their versions',
      batchRequests,
      11,
      'one read of the record, ten deletions',
    );
    figures['re-post S3 requests per event in a batch of 10'] = batchRequests.length / 10;

    // Every read while the file's form has been posted again PILE times, none of them judged yet.
    for (let i = 0; i < PILE; i++) await post(file.key);
    const { Versions = [] } = await plain.send(
      new ListObjectVersionsCommand({ Bucket: buckets.uploads, Prefix: file.key }),
    );
    figures['versions under the measured key during the reads'] = Versions.length;
    const route = (suffix = '') => ({
      path: `/files/${file.fileId}${suffix}`,
      pathParameters: { fileId: file.fileId },
    });
    report(
      'GET /files/{fileId}',
      await count(() => call(api.getFile, { method: 'GET', ...route() })),
      1,
      'its record',
    );
    report(
      'POST /files/{fileId}/download-url',
      await count(() => call(api.downloadUrl, { method: 'POST', ...route('/download-url') })),
      1,
      'its record (the URL pins its version)',
    );
    let shareUrl = '';
    report(
      'POST /files/{fileId}/shares',
      await count(async () => {
        const answer = await call(api.createShare, { method: 'POST', ...route('/shares') });
        shareUrl = (JSON.parse(answer.body ?? '{}') as { shareUrl?: string }).shareUrl ?? '';
      }),
      2,
      'its record, its share epoch',
    );
    const token = shareUrl.split('/s/')[1] ?? '';
    report(
      'GET /s/{token}',
      await count(() =>
        call(api.openShare, { method: 'GET', path: `/s/${token}`, pathParameters: { token }, headers: {} }),
      ),
      2,
      'its record, its share epoch',
    );
    report(
      'GET /files (2 files)',
      await count(() => call(api.listFiles, { method: 'GET', path: '/files' })),
      3,
      'one listing of the index, each file’s record',
    );
    report(
      'GET /usage (nothing counted)',
      await count(() => call(api.usage, { method: 'GET', path: '/usage' })),
      1,
      'one listing of the owner’s usage',
    );
    // Shards as a few requests of the owner at once leave them: the read takes those, not all 64.
    for (const shard of [3, 17, 40]) {
      await plain.send(
        new PutObjectCommand({
          Bucket: buckets.state,
          Key: usageKey(owner, shard),
          Body: JSON.stringify(emptyUsage()),
        }),
      );
    }
    report(
      'GET /usage (3 of its 64 shards stored)',
      await count(() => call(api.usage, { method: 'GET', path: '/usage' })),
      4,
      'one listing of the owner’s usage, each shard it names (1 + at most 64, whatever the owner holds)',
    );
    report(
      'DELETE /files/{fileId}',
      await count(() => call(api.deleteFile, { method: 'DELETE', ...route() })),
      6,
      'its record, a delete marker, its first version, its share epoch and multipart record, its record removed (limits unset: no usage)',
    );
    return {
      section: 'requests',
      figures,
      rows: [['operation', 'S3 requests (floor)', 'requests', 'the floor, and what is beyond it'], ...rows],
      notes: [
        `In process: the exported \`createHandler\` of each function's handler file, with the runtime the local stack gives it (serverless.yml's environment, limits unset), on an S3 client of the local RGW (${admin.endpoint}) that counts each request it sends (the SDK's deserialize step: retries counted, presigning not). Scratch buckets (versioned uploads, unversioned state) with the bucket owner's keys: nothing else touches them.`,
        `The reads ran while ${PILE} versions posted over the file waited under its key (${figures['versions under the measured key during the reads']} listed): none of them is listed, read or counted by any read.`,
        'Floors: what each operation cannot do without. A validated upload must read the bytes, tag its verdict on the version (the read gate judges the tag) and record it (every read takes it from there); a re-post must read the record to know it is not the file, and delete it (and, from an RGW event, learn which version it is); a read must read the record (a share link also its epoch).',
      ],
    };
  } finally {
    for (const bucket of [buckets.uploads, buckets.state]) {
      const listed = await plain
        .send(new ListObjectVersionsCommand({ Bucket: bucket }))
        .catch(() => ({ Versions: [], DeleteMarkers: [] }));
      for (const entry of [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])]) {
        await plain
          .send(new DeleteObjectCommand({ Bucket: bucket, Key: entry.Key, VersionId: entry.VersionId }))
          .catch(() => undefined);
      }
      const rest = await plain
        .send(new ListObjectsV2Command({ Bucket: bucket }))
        .catch(() => ({ Contents: [] }));
      for (const object of rest.Contents ?? []) {
        await plain.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key })).catch(() => undefined);
      }
      await plain.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    }
  }
}
