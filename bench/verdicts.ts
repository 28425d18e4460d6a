/**
 * Section `verdicts`: 1,000 uploads posted at once to the running local stack
 * (form POSTs through its S3 endpoint, as browsers post them), and how long
 * each waits for its verdict: from S3's 204 to the moment the validator's
 * record of the file lands in the state bucket (its LastModified, read by
 * listing the owners' file indexes). Every verdict is checked against what the
 * bytes are (PNGs pass, HTML declared as a PNG fails): a wrong one is counted.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { newestFirstId } from '../lib/store/object-key.js';
import { devToken } from '../scripts/dev-keys.js';
import type { StackInfo } from '../scripts/stack-settings.js';
import { HTML_PAGE, pngOfSize } from '../test/support/sample-files.js';
import { waitForApi } from './load.js';
import { localAdmin } from './serverless-config.js';
import { type Figure, percentile, round, type SectionResult } from './stats.js';

const UPLOADS = 1000;
const OWNERS = 20;
/** One upload in ten is HTML declared as a PNG: its verdict must be failed. */
const FAILING_EVERY = 10;
/** Form POSTs in flight at once (the API's own requests, before, at 50). */
const POST_CONCURRENCY = 100;

interface Issued {
  fileId: string;
  key: string;
  upload: { url: string; fields: Record<string, string> };
}

export interface VerdictsOptions {
  stack: StackInfo;
  quick?: boolean;
}

export async function run({ stack, quick }: VerdictsOptions): Promise<SectionResult> {
  await waitForApi(stack.apiUrl);
  const total = quick ? 200 : UPLOADS;
  const admin = localAdmin();
  const s3 = new S3Client({
    endpoint: admin.endpoint,
    region: stack.region,
    forcePathStyle: true,
    credentials: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey },
  });
  const owners = await Promise.all(
    Array.from({ length: OWNERS }, async (_, i) => {
      const token = await devToken(`verdicts|${Date.now()}|${i}`);
      return { token, segment: '' };
    }),
  );
  const files: (Issued & { owner: number; failing: boolean; bytes: Buffer; landedAt?: number })[] = [];
  const issue = pLimit(50);
  await Promise.all(
    Array.from({ length: total }, (_, i) =>
      issue(async () => {
        const owner = i % OWNERS;
        const failing = i % FAILING_EVERY === 0;
        const bytes = failing ? HTML_PAGE : pngOfSize(2000 + i);
        const answer = await fetch(`${stack.apiUrl}/uploads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${owners[owner]?.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ filename: `f${i}.png`, contentType: 'image/png', size: bytes.length }),
        });
        if (answer.status !== 201) throw new Error(`POST /uploads answered ${answer.status}`);
        const issued = (await answer.json()) as Issued;
        const segment = issued.key.split('/')[1] ?? '';
        if (owners[owner]) owners[owner].segment = segment;
        files.push({ ...issued, owner, failing, bytes });
      }),
    ),
  );

  // Act: every form posted, POST_CONCURRENCY at once.
  const post = pLimit(POST_CONCURRENCY);
  const started = Date.now();
  await Promise.all(
    files.map((file) =>
      post(async () => {
        const form = new FormData();
        for (const [name, value] of Object.entries(file.upload.fields)) form.append(name, value);
        form.append('file', new Blob([new Uint8Array(file.bytes)], { type: 'image/png' }), 'f.png');
        const response = await fetch(file.upload.url, { method: 'POST', body: form });
        await response.arrayBuffer();
        if (response.status !== 204) throw new Error(`form POST answered ${response.status}`);
        file.landedAt = Date.now();
      }),
    ),
  );
  const posted = Date.now();

  // Each file's record, as it lands: one listing of each owner's index per round.
  const decidedAt = new Map<string, number>();
  const deadline = Date.now() + 600_000;
  while (decidedAt.size < files.length && Date.now() < deadline) {
    for (const { segment } of owners) {
      let token: string | undefined;
      do {
        const listed = await s3.send(
          new ListObjectsV2Command({
            Bucket: stack.stateBucket,
            Prefix: `file-index/${segment}/`,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        for (const object of listed.Contents ?? []) {
          const id = newestFirstId(object.Key?.split('/')[2] ?? '');
          if (!decidedAt.has(id) && object.LastModified) decidedAt.set(id, object.LastModified.getTime());
        }
        token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
      } while (token);
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  const read = pLimit(50);
  const wrong = (
    await Promise.all(
      files.map((file) =>
        read(async () => {
          const owner = owners[file.owner]?.segment ?? '';
          const got = await s3
            .send(
              new GetObjectCommand({
                Bucket: stack.stateBucket,
                Key: `file-index/${owner}/${newestFirstId(file.fileId)}`,
              }),
            )
            .catch(() => undefined);
          const record = got
            ? (JSON.parse(await (got.Body?.transformToString() ?? '{}')) as never)
            : undefined;
          const status = (record as { verdict?: { status?: string } } | undefined)?.verdict?.status;
          return status !== (file.failing ? 'failed' : 'passed');
        }),
      ),
    )
  ).filter(Boolean).length;
  const waits = files
    .filter((file) => decidedAt.has(file.fileId) && file.landedAt !== undefined)
    .map((file) => (decidedAt.get(file.fileId) as number) - (file.landedAt as number));
  const lastVerdict = Math.max(...decidedAt.values());
  const figures: Record<string, Figure> = {
    'verdicts uploads': files.length,
    'verdicts decided': decidedAt.size,
    'verdicts wrong': wrong,
    'verdicts posting s': round((posted - started) / 1000, 1),
    'verdict wait p50 s': round(percentile(waits, 50) / 1000, 1),
    'verdict wait p99 s': round(percentile(waits, 99) / 1000, 1),
    'verdicts all decided s': round((lastVerdict - started) / 1000, 1),
  };
  const goal = figures['verdict wait p99 s'] as number;
  figures['goal verdict wait p99 < 27.7 s'] = goal < 27.7 && decidedAt.size === files.length && wrong === 0;
  return {
    section: 'verdicts',
    figures,
    rows: [
      [
        `${files.length} uploads posted at once (${POST_CONCURRENCY} in flight), ${OWNERS} owners`,
        `p50 ${figures['verdict wait p50 s']} s, p99 ${figures['verdict wait p99 s']} s`,
        `all decided ${figures['verdicts all decided s']} s after the first post`,
        `${decidedAt.size} decided, ${wrong} wrong; posting took ${figures['verdicts posting s']} s`,
      ],
      [
        'GOAL verdict wait p99 < 27.7 s, every upload decided, none wrong',
        figures['goal verdict wait p99 < 27.7 s'] ? 'HOLDS' : 'MISSED',
        `p99 ${goal} s`,
      ],
    ],
    notes: [
      `Through the running local stack: ${files.length} POST /uploads (50 at once, untimed), then every form posted to the stack's S3 endpoint, ${POST_CONCURRENCY} at once; one in ${FAILING_EVERY} is HTML declared as image/png (its verdict must be failed), the others valid PNGs (passed). The wait is from S3's 204 to the LastModified of the file's record in the state bucket (the validator writes it with the verdict; both clocks are this machine's), found by listing each owner's index every 0.5 s; each record's verdict is read afterwards.`,
    ],
  };
}
