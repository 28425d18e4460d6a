import { type AddressInfo, connect } from 'node:net';
import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeS3EventKey, parseS3Event } from '../../../lib/validation/s3-event.js';
import {
  awsEventKey,
  createdObjects,
  isReadinessProbe,
  keyLane,
  laneScheduler,
  startEventBridge,
  toAwsS3Event,
} from '../../../scripts/ceph-event-bridge.js';
import { loopbackServers } from '../../support/loopback-servers.js';
import { until } from '../../support/until.js';

// A push exactly as Ceph RGW 16 sent it for a form POST (docs/rgw-notes.md), with a
// session token among the request headers it echoes.
const cephPush = () => ({
  Records: [
    {
      eventVersion: '2.2',
      eventSource: 'ceph:s3',
      awsRegion: '',
      eventTime: '2026-11-23T10:47:59.715262Z',
      eventName: 'ObjectCreated:Post',
      userIdentity: { principalId: 'presign-admin' },
      requestParameters: { sourceIPAddress: '' },
      responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': '1016-default-default' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'sync',
        bucket: {
          name: 'b',
          ownerIdentity: { principalId: 'presign-admin' },
          arn: 'arn:aws:s3:::b',
          id: 'x',
        },
        object: {
          key: 'uploads/u1/post 1+%é',
          size: 5,
          eTag: '827ccb0eea8a706c4c34a16891f84e7b',
          versionId: '',
          sequencer: 'DF19046BA22AB32A',
          metadata: [{ key: 'x-amz-security-token', val: 'SECRET-SESSION-TOKEN' }],
          tags: [{ key: 'validation-status', val: 'pending' }],
        },
      },
      eventId: '1795430879.716384.827ccb0eea8a706c4c34a16891f84e7b',
      opaqueData: '',
    },
  ],
});

describe('Ceph RGW push → AWS S3 event', () => {
  it.each([
    ['uploads/a b/c.png', 'uploads/a+b/c.png'],
    ['uploads/a+b.png', 'uploads/a%2Bb.png'],
    ['uploads/100%.pdf', 'uploads/100%25.pdf'],
    ['uploads/zoë/日.jpg', 'uploads/zo%C3%AB/%E6%97%A5.jpg'],
  ])('encodes %j as AWS does (%j)', (raw, encoded) => {
    expect(awsEventKey(raw)).toBe(encoded);
    expect(decodeS3EventKey(encoded)).toBe(raw);
  });

  it('rewrites source, region and key, and drops Ceph-only fields that leak request headers', () => {
    const event = toAwsS3Event(cephPush(), 'us-east-1');
    const [record] = event.Records;
    expect(record?.eventSource).toBe('aws:s3');
    expect(record?.awsRegion).toBe('us-east-1');
    expect(record?.s3.object.key).toBe('uploads/u1/post+1%2B%25%C3%A9');
    expect(record?.s3.object.eTag).toBe('827ccb0eea8a706c4c34a16891f84e7b');
    expect(JSON.stringify(event)).not.toContain('SECRET-SESSION-TOKEN');
    expect(record?.s3.object).not.toHaveProperty('tags');
  });

  it('turns a push into an event that the validator reads as AWS delivers it', () => {
    // Act
    const event = toAwsS3Event(cephPush(), 'us-east-1');

    // Assert: Powertools' S3 schema accepts it, and the validator reads the decoded key.
    expect(S3Schema.safeParse(event).error).toBeUndefined();
    expect(parseS3Event(event)).toEqual([
      {
        eventName: 'ObjectCreated:Post',
        bucket: 'b',
        key: 'uploads/u1/post 1+%é',
        size: 5,
        eTag: '827ccb0eea8a706c4c34a16891f84e7b',
        sequencer: 'DF19046BA22AB32A',
      },
    ]);
  });

  it('records what each pushed object was created with, without the request headers RGW echoes', () => {
    // Act
    const created = createdObjects(cephPush());

    // Assert
    expect(created).toEqual([
      {
        eventName: 'ObjectCreated:Post',
        key: 'uploads/u1/post 1+%é',
        eTag: '827ccb0eea8a706c4c34a16891f84e7b',
        tags: [{ key: 'validation-status', val: 'pending' }],
      },
    ]);
    expect(JSON.stringify(created)).not.toContain('SECRET-SESSION-TOKEN');
    expect(createdObjects({ hello: 'world' })).toEqual([]);
  });

  it('refuses a body without records', () => {
    expect(() => toAwsS3Event({ hello: 'world' }, 'us-east-1')).toThrow(/Records/);
  });
});

describe('laneScheduler: how the bridge hands events to the validator', () => {
  /** A scheduler whose runs wait until released, recording each batch and the runs in flight. */
  function held(settings: { batchSize: number; concurrency: number }) {
    const batches: string[][] = [];
    const releases: (() => void)[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const scheduler = laneScheduler<string>({
      ...settings,
      laneOf: (item) => item.split(':')[0] ?? '',
      run: async (batch) => {
        batches.push(batch);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((done) => releases.push(done));
        inFlight -= 1;
      },
    });
    const releaseAll = async () => {
      while (releases.length > 0) {
        for (const release of releases.splice(0)) release();
        await new Promise((done) => setTimeout(done, 0));
      }
    };
    return { scheduler, batches, releases, releaseAll, maxInFlight: () => maxInFlight };
  }

  it('serves another key’s event in the next free slot, behind one batch of a flood, never behind the flood', async () => {
    // Arrange: a thousand events of one key, then one of another.
    const { scheduler, batches, releases, releaseAll } = held({ batchSize: 10, concurrency: 2 });
    scheduler.push(Array.from({ length: 1000 }, (_, i) => `flood:${i}`));

    // Act
    scheduler.push(['other:1']);

    // Assert: the flood holds one slot; the other key's event runs at once in the second.
    expect(batches).toEqual([Array.from({ length: 10 }, (_, i) => `flood:${i}`), ['other:1']]);
    expect(releases).toHaveLength(2);
    await releaseAll();
    await scheduler.drained();
    expect(batches.flat()).toHaveLength(1001);
    expect(batches.every((batch) => batch.length <= 10)).toBe(true);
  });

  it('runs at most `concurrency` batches at once and at most one per key, each of at most `batchSize` events', async () => {
    // Arrange
    const { scheduler, batches, releaseAll, maxInFlight } = held({ batchSize: 3, concurrency: 2 });

    // Act
    scheduler.push(['a:1', 'a:2', 'a:3', 'a:4', 'b:1', 'c:1', 'c:2']);
    const first = batches.map((batch) => [...batch]);
    await releaseAll();
    await scheduler.drained();

    // Assert
    expect(first).toEqual([['a:1', 'a:2', 'a:3'], ['b:1']]);
    expect(maxInFlight()).toBe(2);
    expect(batches).toEqual([['a:1', 'a:2', 'a:3'], ['b:1'], ['c:1', 'c:2'], ['a:4']]);
  });

  it('keeps serving when a run fails', async () => {
    // Arrange
    const ran: string[][] = [];
    const scheduler = laneScheduler<string>({
      batchSize: 1,
      concurrency: 1,
      laneOf: (item) => item,
      run: async (batch) => {
        ran.push(batch);
        throw new Error('the validator failed');
      },
    });

    // Act
    scheduler.push(['a', 'b']);
    await scheduler.drained();

    // Assert
    expect(ran).toEqual([['a'], ['b']]);
  });

  it('puts one key’s events in one lane: the object key', () => {
    expect(keyLane({ s3: { object: { key: 'uploads/abc/01J' } } })).toBe('uploads/abc/01J');
    expect(keyLane({})).toBe('');
  });
});

/** The bridges and the validator's stand-ins the tests below start, closed after each. */
const loopback = loopbackServers();
afterEach(() => loopback.closeAll());

/** `cephPush()` as RGW pushes it for an object created in `bucket`. */
const pushIn = (bucket: string) => {
  const push = cephPush();
  for (const record of push.Records)
    record.s3.bucket = { ...record.s3.bucket, name: bucket, arn: `arn:aws:s3:::${bucket}` };
  return push;
};

describe('the readiness probe: a push that only shows RGW pushes the uploads’ queue', () => {
  it('is a push whose every record is of the probe bucket', () => {
    expect(isReadinessProbe(pushIn('presign-local-uploads-probe'), 'presign-local-uploads-probe')).toBe(true);
    expect(isReadinessProbe(pushIn('presign-local-uploads'), 'presign-local-uploads-probe')).toBe(false);
    const mixed = pushIn('presign-local-uploads-probe');
    mixed.Records.push(...pushIn('presign-local-uploads').Records);
    expect(isReadinessProbe(mixed, 'presign-local-uploads-probe')).toBe(false);
    expect(isReadinessProbe({ Records: [] }, 'presign-local-uploads-probe')).toBe(false);
    expect(isReadinessProbe({}, 'presign-local-uploads-probe')).toBe(false);
  });

  it('tells the stack of the probe, and neither records it nor hands it to the validator', async () => {
    // Arrange
    const invocations: unknown[] = [];
    const invokeUrl = await loopback.listen(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      invocations.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(200).end('null');
    });
    const recorded: string[] = [];
    let seen = 0;
    const bridge = await startEventBridge({
      port: 0,
      region: 'us-east-1',
      invokeUrl,
      log: () => undefined,
      record: (created) => {
        recorded.push(created.key);
      },
      readinessProbe: { bucket: 'presign-local-uploads-probe', seen: () => seen++ },
    });
    loopback.add(bridge);
    const bridgeUrl = `http://127.0.0.1:${(bridge.address() as AddressInfo).port}/events`;
    const push = (body: unknown) => fetch(bridgeUrl, { method: 'POST', body: JSON.stringify(body) });

    // Act
    const probe = await push(pushIn('presign-local-uploads-probe'));
    const upload = await push(pushIn('presign-local-uploads'));
    await until(() => invocations.length > 0);

    // Assert
    expect([probe.status, upload.status]).toEqual([200, 200]);
    expect(seen).toBe(1);
    expect(recorded).toEqual(['uploads/u1/post 1+%é']);
    expect(invocations).toHaveLength(1);
    expect(JSON.stringify(invocations[0])).toContain('presign-local-uploads"');
    expect(JSON.stringify(invocations)).not.toContain('presign-local-uploads-probe');
  });
});

describe('the bridge when a sender goes away mid-request', () => {
  it('survives a push cut off mid-body (RGW killed while it pushes), and takes the next one', async () => {
    // Arrange
    const recorded: string[] = [];
    const logged: string[] = [];
    const bridge = loopback.add(
      await startEventBridge({
        port: 0,
        region: 'us-east-1',
        // Nothing listens there: the validator's invocations fail, which this test does not wait for.
        invokeUrl: 'http://127.0.0.1:9/',
        log: (line) => logged.push(line),
        record: (created) => {
          recorded.push(created.key);
        },
      }),
    );
    const { port } = bridge.address() as AddressInfo;
    const body = JSON.stringify(cephPush());

    // Act: the headers and half the body, then the connection reset.
    await new Promise<void>((done, fail) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 40)}`,
          () => setTimeout(() => socket.resetAndDestroy(), 50),
        );
      });
      socket.once('close', () => done());
      socket.once('error', fail);
    });
    await until(() => logged.length > 0);
    const next = await fetch(`http://127.0.0.1:${port}/events`, { method: 'POST', body });

    // Assert
    expect(logged.join('\n')).toMatch(/event bridge: POST \/events failed: aborted/);
    expect(next.status).toBe(200);
    expect(recorded).toEqual(['uploads/u1/post 1+%é']);
  });
});
