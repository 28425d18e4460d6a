import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  endToEndHeaders,
  type FrontDoor,
  isPreflight,
  startS3FrontDoor,
  withoutSignature,
} from '../../../scripts/s3-front-door.js';

// What reaches RGW, and how, is what matters here: the relay runs in front of a
// loopback server that records each request it gets. Against the real RGW see
// test/integration/s3-front-door.test.ts.

describe('withoutSignature', () => {
  it('drops every SigV4 and SigV2 signature parameter and keeps the rest as written', () => {
    const target =
      '/b/uploads/a%20b?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=AK%2F20261127%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261127T061951Z&X-Amz-Expires=900&X-Amz-Security-Token=t%2Bk%3D&X-Amz-Signature=0bfe&X-Amz-SignedHeaders=content-length%3Bhost&partNumber=1&uploadId=2~v7d&x-id=UploadPart';
    expect(withoutSignature(target)).toBe(
      '/b/uploads/a%20b?X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&partNumber=1&uploadId=2~v7d&x-id=UploadPart',
    );
    expect(withoutSignature('/b/k?AWSAccessKeyId=AK&Expires=1&Signature=abc%3D&versionId=v1')).toBe(
      '/b/k?versionId=v1',
    );
  });

  it('matches names in any case and percent-encoding, and leaves a path without a query alone', () => {
    expect(withoutSignature('/b/k?x-amz-signature=1&X%2DAmz%2DDate=2&uploads')).toBe('/b/k?uploads');
    expect(withoutSignature('/b/k?X-Amz-Signature=1')).toBe('/b/k');
    expect(withoutSignature('/b/k')).toBe('/b/k');
    expect(withoutSignature('/b/k?%E0%A4%A=1&X-Amz-Date=2')).toBe('/b/k?%E0%A4%A=1');
  });
});

describe('isPreflight', () => {
  it('is an OPTIONS with both Origin and Access-Control-Request-Method, nothing less', () => {
    const cors = { origin: 'http://a', 'access-control-request-method': 'PUT' };
    expect(isPreflight({ method: 'OPTIONS', headers: cors })).toBe(true);
    expect(isPreflight({ method: 'OPTIONS', headers: { origin: 'http://a' } })).toBe(false);
    expect(isPreflight({ method: 'OPTIONS', headers: { 'access-control-request-method': 'PUT' } })).toBe(
      false,
    );
    expect(isPreflight({ method: 'PUT', headers: cors })).toBe(false);
  });
});

describe('endToEndHeaders', () => {
  it('drops hop-by-hop headers and those Connection names, keeping the others with their case and repeats', () => {
    // biome-ignore format: name, value pairs
    const raw = [
      'Host', '127.0.0.1:7481',
      'Connection', 'keep-alive, X-Hop',
      'X-Hop', '1',
      'Transfer-Encoding', 'chunked',
      'Keep-Alive', 'timeout=5',
      'x-amz-meta-a', '1',
      'X-Amz-Meta-A', '2',
      'Authorization', 'AWS4-HMAC-SHA256 …',
    ];
    // biome-ignore format: name, value pairs
    const kept = [
      'Host', '127.0.0.1:7481',
      'x-amz-meta-a', '1',
      'X-Amz-Meta-A', '2',
      'Authorization', 'AWS4-HMAC-SHA256 …',
    ];
    expect(endToEndHeaders(raw)).toEqual(kept);
    expect(endToEndHeaders(raw, new Set(['authorization']))).not.toContain('Authorization');
  });

  it('never lets Connection take away the body’s framing, the signed Host or Expect', () => {
    // biome-ignore format: name, value pairs
    const raw = [
      'Host', 'signed.example',
      'Connection', 'content-length, Host, expect, transfer-encoding',
      'Content-Length', '5',
      'Expect', '100-continue',
    ];

    expect(endToEndHeaders(raw)).toEqual([
      'Host',
      'signed.example',
      'Content-Length',
      '5',
      'Expect',
      '100-continue',
    ]);
  });
});

interface Seen {
  method: string;
  url: string;
  rawHeaders: string[];
  bytes: number;
  complete: boolean;
}

let upstream: Server | undefined;
let door: FrontDoor | undefined;

afterEach(async () => {
  await door?.close();
  upstream?.closeAllConnections();
  await new Promise((done) => (upstream ? upstream.close(done) : done(undefined)));
  door = undefined;
  upstream = undefined;
});

/** A recording upstream on loopback and a front door before it. */
async function relayTo(
  answer: (request: IncomingMessage, seen: Seen, respond: (status: number, body?: Buffer) => void) => void,
) {
  const seen: Seen[] = [];
  upstream = createServer((request, response) => {
    const entry: Seen = {
      method: request.method ?? '',
      url: request.url ?? '',
      rawHeaders: request.rawHeaders,
      bytes: 0,
      complete: false,
    };
    seen.push(entry);
    request.on('data', (chunk: Buffer) => {
      entry.bytes += chunk.length;
    });
    request.on('end', () => {
      entry.complete = true;
    });
    answer(request, entry, (status, body) => response.writeHead(status, { 'x-upstream': 'yes' }).end(body));
  });
  await new Promise<void>((done) => upstream?.listen(0, '127.0.0.1', done));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  door = await startS3FrontDoor({
    port: 0,
    rgwEndpoint: `http://127.0.0.1:${upstreamPort}`,
    log: () => undefined,
  });
  const port = (door.server.address() as AddressInfo).port;
  return { seen, url: `http://127.0.0.1:${port}` };
}

describe('startS3FrontDoor', () => {
  it('hands a preflight on without the signature and Authorization, and its answer back', async () => {
    // Arrange
    const { seen, url } = await relayTo((request, _seen, respond) =>
      request.on('end', () => respond(200)).resume(),
    );

    // Act
    const answered = await fetch(`${url}/b/k?X-Amz-Signature=abc&partNumber=1`, {
      method: 'OPTIONS',
      headers: { origin: 'http://a', 'access-control-request-method': 'PUT', authorization: 'x' },
    });

    // Assert
    expect(answered.status).toBe(200);
    expect(answered.headers.get('x-upstream')).toBe('yes');
    expect(seen[0]?.url).toBe('/b/k?partNumber=1');
    expect(seen[0]?.rawHeaders.map((h) => h.toLowerCase())).not.toContain('authorization');
  });

  it('passes any other request as it came: signature, Host and body', async () => {
    // Arrange
    const { seen, url } = await relayTo((request, _seen, respond) =>
      request.on('end', () => respond(200, Buffer.from('stored'))).resume(),
    );
    const body = Buffer.alloc(3 * 1024 * 1024, 7);

    // Act
    const answered = await fetch(`${url}/b/k?X-Amz-Signature=abc`, {
      method: 'PUT',
      headers: { 'x-amz-meta-a': 'b' },
      body,
    });

    // Assert
    expect(await answered.text()).toBe('stored');
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/b/k?X-Amz-Signature=abc', bytes: body.length });
    const headers = seen[0]?.rawHeaders ?? [];
    expect(headers[headers.findIndex((h) => h.toLowerCase() === 'host') + 1]).toBe(`${new URL(url).host}`);
    expect(headers).toContain('x-amz-meta-a');
  });

  it('keeps the Host header the client sent (SigV4 signs it)', async () => {
    // Arrange
    const { seen, url } = await relayTo((request, _seen, respond) =>
      request.on('end', () => respond(204)).resume(),
    );

    // Act: node:http lets a client set Host, as a virtual-hosted or proxied URL would.
    await new Promise<void>((done, fail) => {
      const sent = httpRequest(`${url}/b/k`, { method: 'GET', headers: { host: 'signed.example:1' } });
      sent.on('response', (response) => response.resume().on('end', done));
      sent.on('error', fail);
      sent.end();
    });

    // Assert
    const headers = seen[0]?.rawHeaders ?? [];
    expect(headers[headers.findIndex((h) => h.toLowerCase() === 'host') + 1]).toBe('signed.example:1');
  });

  it('destroys the upstream request when the client breaks off mid-body: the upstream never sees it complete', async () => {
    // Arrange
    let upstreamClosed: () => void = () => undefined;
    const closed = new Promise<void>((done) => {
      upstreamClosed = done;
    });
    const { seen, url } = await relayTo((request) => request.on('close', () => upstreamClosed()).resume());

    // Act: announces 1 MiB, sends 64 KiB, then resets.
    await new Promise<void>((done) => {
      const sent = httpRequest(`${url}/b/k`, { method: 'PUT', headers: { 'content-length': 1024 * 1024 } });
      sent.on('error', () => done());
      sent.on('close', () => done());
      sent.write(Buffer.alloc(64 * 1024), () => setTimeout(() => sent.destroy(), 100));
    });
    await closed;

    // Assert
    expect(seen[0]?.complete).toBe(false);
    expect(seen[0]?.bytes).toBeLessThan(1024 * 1024);
  });

  it('waits for the upstream’s 100 Continue before sending a body, and sends none after a final answer', async () => {
    // Arrange: the upstream refuses at once, without reading the body.
    const { seen, url } = await relayTo((_request, _seen, respond) => respond(403));
    upstream?.on('checkContinue', (request, response) => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        rawHeaders: [],
        bytes: 0,
        complete: false,
      });
      request.on('data', (chunk: Buffer) => {
        (seen.at(-1) as Seen).bytes += chunk.length;
      });
      response.writeHead(403).end();
    });

    // Act
    const status = await new Promise<number>((done, fail) => {
      const sent = httpRequest(`${url}/b/k`, {
        method: 'PUT',
        headers: { 'content-length': 1024, expect: '100-continue' },
      });
      sent.on('continue', () => sent.end(Buffer.alloc(1024)));
      sent.on('response', (response) => {
        response.resume();
        done(response.statusCode ?? 0);
        sent.destroy();
      });
      sent.on('error', fail);
    });

    // Assert
    expect(status).toBe(403);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.bytes).toBe(0);
  });

  it('brings an early refusal to the client, whether the upstream closes or waits, and the client’s connection goes on', async () => {
    for (const upstreamCloses of [true, false]) {
      // Arrange: answers at once without reading the body, as RGW refuses a bad signature.
      const { seen, url } = await relayTo((request, _seen, respond) => {
        respond(403, Buffer.from('<Error><Code>AccessDenied</Code></Error>'));
        if (upstreamCloses) setTimeout(() => request.socket.destroy(), 20);
      });

      // Act
      const answered = await fetch(`${url}/b`, {
        method: 'POST',
        body: Buffer.alloc(8 * 1024 * 1024),
        signal: AbortSignal.timeout(5000),
      });

      const next = await fetch(`${url}/b`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(5000) });

      // Assert: the client reads the whole refusal, and its connection serves the next request.
      expect(answered.status).toBe(403);
      expect(await answered.text()).toContain('AccessDenied');
      expect(seen[0]?.complete).toBe(false);
      expect(next.status).toBe(403);
      expect(seen).toHaveLength(2);
      await door?.close();
      upstream?.closeAllConnections();
      await new Promise((done) => upstream?.close(done));
      door = undefined;
      upstream = undefined;
    }
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    // Arrange: an upstream that is gone.
    const { url } = await relayTo((_request, _seen, respond) => respond(200));
    await new Promise((done) => upstream?.close(done));
    upstream = undefined;

    // Act
    const answered = await fetch(`${url}/b/k`);

    // Assert
    expect(answered.status).toBe(502);
  });
});
