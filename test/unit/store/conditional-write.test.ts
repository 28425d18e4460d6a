import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { createConditionalWriter, swapStateObject } from '../../../lib/store/conditional-write.js';
import { createS3Client } from '../../../lib/store/s3-client.js';

const answer = (status: number, name: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status } });

/** A state bucket of one object in memory that honours If-Match / If-None-Match, and optionally collides. */
function stateBucket(conditionalETag: 'quoted' | 'unquoted' = 'unquoted') {
  const s3 = createS3Client({ region: 'us-east-1' });
  let stored: { text: string; eTag: string } | undefined;
  let version = 0;
  const collisions = { left: 0 };
  const writes: PutObjectCommand['input'][] = [];
  vi.spyOn(s3, 'send').mockImplementation((async (command: unknown) => {
    if (command instanceof PutObjectCommand) {
      const input = command.input;
      writes.push(input);
      if (collisions.left > 0) {
        collisions.left -= 1;
        throw answer(409, 'ConditionalRequestConflict');
      }
      if (input.IfNoneMatch === '*' && stored) throw answer(412, 'PreconditionFailed');
      if (input.IfMatch !== undefined && input.IfMatch !== (stored?.eTag ?? '')) {
        throw answer(stored ? 412 : 404, stored ? 'PreconditionFailed' : 'NoSuchKey');
      }
      version += 1;
      stored = {
        text: String(input.Body),
        eTag: conditionalETag === 'quoted' ? `"e${version}"` : `e${version}`,
      };
      return {};
    }
    if (!stored) throw answer(404, 'NoSuchKey');
    const { text, eTag } = stored;
    return { Body: { transformToString: async () => text }, ETag: eTag };
  }) as never);
  const writer = createConditionalWriter({ s3, stateBucket: 'state', conditionalETag });
  return {
    writer,
    writes,
    collisions,
    stored: () => stored,
    replaceBehindTheWritersBack: (text: string) => {
      version += 1;
      stored = { text, eTag: `e${version}` };
    },
  };
}

describe('writeIfUnchanged', () => {
  it('creates once: the first write lands, a second create is lost', async () => {
    const bucket = stateBucket();
    const create = { key: 'k', body: 'a', contentType: 'text/plain', over: 'absent' as const };

    await expect(bucket.writer.writeIfUnchanged(create)).resolves.toBe('written');
    await expect(bucket.writer.writeIfUnchanged({ ...create, body: 'b' })).resolves.toBe('lost');
    expect(bucket.stored()?.text).toBe('a');
    expect(bucket.writes[0]).toMatchObject({ Bucket: 'state', Key: 'k', IfNoneMatch: '*' });
  });

  it('replaces only the object read: a stale ETag or a vanished object is lost, a 409 collided', async () => {
    const bucket = stateBucket();
    await bucket.writer.writeIfUnchanged({ key: 'k', body: 'a', contentType: 'text/plain', over: 'absent' });
    const read = await bucket.writer.read('k');
    bucket.replaceBehindTheWritersBack('b');

    const stale = await bucket.writer.writeIfUnchanged({
      key: 'k',
      body: 'c',
      contentType: 'text/plain',
      over: { eTag: read?.eTag ?? '' },
    });
    bucket.collisions.left = 1;
    const collided = await bucket.writer.writeIfUnchanged({
      key: 'k',
      body: 'c',
      contentType: 'text/plain',
      over: { eTag: 'e2' },
    });

    expect(stale).toBe('lost');
    expect(collided).toBe('collided');
    expect(bucket.stored()?.text).toBe('b');
  });

  it('names the ETag as the S3 in use takes it: quoted for AWS, bare for Ceph RGW', async () => {
    const quoted = stateBucket('quoted');
    await quoted.writer.writeIfUnchanged({
      key: 'k',
      body: 'a',
      contentType: 'text/plain',
      over: { eTag: 'e1' },
    });
    const bare = stateBucket('unquoted');
    await bare.writer.writeIfUnchanged({
      key: 'k',
      body: 'a',
      contentType: 'text/plain',
      over: { eTag: '"e1"' },
    });

    expect(quoted.writes[0]?.IfMatch).toBe('"e1"');
    expect(bare.writes[0]?.IfMatch).toBe('e1');
  });

  it('throws any other S3 error', async () => {
    const s3 = createS3Client({ region: 'us-east-1' });
    vi.spyOn(s3, 'send').mockRejectedValue(answer(403, 'AccessDenied') as never);
    const writer = createConditionalWriter({ s3, stateBucket: 'state', conditionalETag: 'quoted' });

    await expect(
      writer.writeIfUnchanged({ key: 'k', body: 'a', contentType: 'text/plain', over: 'absent' }),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('swapStateObject', () => {
  const counter = (current: { text: string } | undefined) => {
    const next = Number(current?.text ?? '0') + 1;
    return { body: String(next), result: next };
  };
  const options = (whenLost: 'settled' | 'retry', tries = 5) => ({
    contentType: 'text/plain',
    whenLost,
    pauseBefore: (attempt: number) => (attempt < tries ? 0 : undefined),
    givenUp: () => new Error('gave up'),
  });

  it('applies a change over exactly what it read, and writes nothing when the decision has no body', async () => {
    const bucket = stateBucket();

    await swapStateObject(bucket.writer, 'k', counter, options('retry'));
    await swapStateObject(bucket.writer, 'k', counter, options('retry'));
    const unchanged = await swapStateObject(bucket.writer, 'k', () => ({ result: 'kept' }), options('retry'));

    expect(bucket.stored()?.text).toBe('2');
    expect(unchanged).toBe('kept');
    expect(bucket.writes).toHaveLength(2);
    expect(bucket.writes[1]?.IfMatch).toBe('e1');
  });

  it('reads again and decides anew after a lost write (retry), or takes the other write as its own (settled)', async () => {
    const retried = stateBucket();
    let first = true;
    const racing = async (current: { text: string } | undefined) => {
      if (first) {
        first = false;
        retried.replaceBehindTheWritersBack('10');
      }
      return counter(current);
    };
    const settled = stateBucket();
    let once = true;
    const racingSettled = async (current: { text: string } | undefined) => {
      if (once) {
        once = false;
        settled.replaceBehindTheWritersBack('10');
      }
      return counter(current);
    };

    const retriedResult = await swapStateObject(retried.writer, 'k', racing, options('retry'));
    const settledResult = await swapStateObject(settled.writer, 'k', racingSettled, options('settled'));

    expect(retriedResult).toBe(11);
    expect(retried.stored()?.text).toBe('11');
    expect(settledResult).toBe(1);
    expect(settled.stored()?.text).toBe('10');
  });

  it('always tries a collided write again, and gives up with the caller’s error once its pauses run out', async () => {
    const bucket = stateBucket();
    bucket.collisions.left = 2;
    const landed = await swapStateObject(bucket.writer, 'k', counter, options('settled'));
    bucket.collisions.left = 10;

    const givenUp = swapStateObject(bucket.writer, 'k', counter, options('settled', 3));

    expect(landed).toBe(1);
    await expect(givenUp).rejects.toThrow('gave up');
    expect(bucket.stored()?.text).toBe('1');
  });

  it('lets an error of the decision through, with nothing written', async () => {
    const bucket = stateBucket();
    const refusing = () => {
      throw new Error('over quota');
    };

    await expect(swapStateObject(bucket.writer, 'k', refusing, options('retry'))).rejects.toThrow(
      'over quota',
    );
    expect(bucket.writes).toHaveLength(0);
  });
});
