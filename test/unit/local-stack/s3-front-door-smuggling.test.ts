import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type FrontDoor, startS3FrontDoor } from '../../../scripts/s3-front-door.js';
import {
  firstMessage,
  headerOf,
  oneChunk,
  type RawMessage,
  rawExchange,
  statusOf,
} from '../../support/raw-http.js';

// The front door relays many clients' requests to one RGW. Whatever bytes a
// client writes, none may end up in a request RGW reads for another client.
// Here the door runs in front of a raw TCP upstream that frames requests as a
// correct HTTP/1.1 server (RGW) does and keeps every byte it gets per
// connection; clients are raw sockets that write what no HTTP library would.
// Every byte a client writes names it (`client-a` or `client-b`, in paths and
// Host), so the upstream's bytes show whose they are.

interface UpstreamConnection {
  /** Every byte the upstream read on this connection. */
  bytes: Buffer;
  /** The requests it framed out of them, each answered 200 with `X-Request: <its request line>`. */
  requests: RawMessage[];
}

const CLIENTS = ['client-a', 'client-b'];

let upstream: Server | undefined;
let door: FrontDoor | undefined;
const upstreamSockets = new Set<Socket>();

afterEach(async () => {
  await door?.close();
  for (const socket of upstreamSockets) socket.destroy();
  upstreamSockets.clear();
  await new Promise((done) => (upstream ? upstream.close(done) : done(undefined)));
  door = undefined;
  upstream = undefined;
});

/** A recording raw upstream on loopback and a front door before it; the door's port. */
async function doorBeforeRawUpstream(): Promise<{ port: number; connections: UpstreamConnection[] }> {
  const connections: UpstreamConnection[] = [];
  upstream = createServer((socket) => {
    const connection: UpstreamConnection = { bytes: Buffer.alloc(0), requests: [] };
    connections.push(connection);
    upstreamSockets.add(socket);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      connection.bytes = Buffer.concat([connection.bytes, chunk]);
      pending = Buffer.concat([pending, chunk]);
      for (let next = firstMessage(pending); next; next = firstMessage(pending)) {
        pending = next.rest;
        connection.requests.push(next.message);
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Request: ${encodeURIComponent(next.message.startLine)}\r\n\r\n`,
        );
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((done) => upstream?.listen(0, '127.0.0.1', done));
  door = await startS3FrontDoor({
    port: 0,
    rgwEndpoint: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    log: () => undefined,
  });
  return { port: (door.server.address() as AddressInfo).port, connections };
}

/** The clients whose bytes reached one upstream connection. */
const clientsOn = (connection: UpstreamConnection) =>
  CLIENTS.filter((client) => connection.bytes.includes(client));

/** The request line the upstream answered with this answer. */
const answeredFor = (answer: RawMessage | undefined) =>
  decodeURIComponent(answer ? (headerOf(answer, 'x-request') ?? '') : '');

const allRequests = (connections: UpstreamConnection[]) => connections.flatMap((c) => c.requests);

/** Client B's ordinary request: a presigned download, signature and all. */
const B_REQUEST_LINE = 'GET /client-b/report.pdf?X-Amz-Signature=b0b0b0 HTTP/1.1';
const B_REQUEST = `${B_REQUEST_LINE}\r\nHost: client-b.example\r\n\r\n`;

/** What client A hides in its body: a part PUT whose Content-Length would take the next bytes RGW reads. */
const SMUGGLED =
  'PUT /client-a/film.mp4?partNumber=2 HTTP/1.1\r\nHost: client-a.example\r\nContent-Length: 40\r\n\r\n';

/** The ways a body on a method that has none was framed for Node and unframed for RGW. */
const BODY_FRAMINGS = {
  'a chunked body': `Transfer-Encoding: chunked\r\n\r\n${oneChunk(SMUGGLED)}`,
  'Connection: content-length': `Connection: content-length\r\nContent-Length: ${Buffer.byteLength(SMUGGLED)}\r\n\r\n${SMUGGLED}`,
};

describe('the S3 front door against request smuggling, in raw HTTP/1.1', () => {
  const cases = ['GET', 'HEAD', 'DELETE', 'OPTIONS'].flatMap((method) =>
    Object.entries(BODY_FRAMINGS).map(([framing, rest]) => ({ method, framing, rest })),
  );

  it.each(cases)(
    '$method with $framing: no byte of it reaches the next client’s request, and the door refuses it (400, connection closed)',
    async ({ method, rest }) => {
      // Arrange: an OPTIONS is a preflight, the request the door rewrites.
      const { port, connections } = await doorBeforeRawUpstream();
      const preflight =
        method === 'OPTIONS' ? 'Origin: http://a\r\nAccess-Control-Request-Method: PUT\r\n' : '';
      const attack = `${method} /client-a/1?X-Amz-Signature=a1 HTTP/1.1\r\nHost: client-a.example\r\n${preflight}${rest}`;

      // Act: A's request is answered, then B's follows on a connection of its own.
      const a = await rawExchange(port, attack, [method]);
      const b = await rawExchange(port, B_REQUEST, ['GET']);

      // Assert
      expect(connections.map(clientsOn).filter((clients) => clients.length > 1)).toEqual([]);
      expect(answeredFor(b.answers[0])).toBe(B_REQUEST_LINE);
      expect(allRequests(connections).map((request) => request.startLine)).toEqual([B_REQUEST_LINE]);
      expect(a.answers.map(statusOf)).toEqual([400]);
      expect(headerOf(a.answers[0] as RawMessage, 'connection')).toBe('close');
    },
  );

  it('refuses a transfer coding other than chunked (501): what reached RGW would not be the body the client meant', async () => {
    // Arrange
    const { port, connections } = await doorBeforeRawUpstream();
    const put = `PUT /client-a/1 HTTP/1.1\r\nHost: client-a.example\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${oneChunk('x')}`;

    // Act
    const a = await rawExchange(port, put, ['PUT']);

    // Assert
    expect(a.answers.map(statusOf)).toEqual([501]);
    expect(headerOf(a.answers[0] as RawMessage, 'connection')).toBe('close');
    expect(allRequests(connections)).toEqual([]);
  });

  const BODY = `${SMUGGLED}GET /client-a/inner HTTP/1.1\r\nHost: client-a.example\r\n\r\n`;
  const PUT_FRAMINGS = {
    'a Content-Length that Connection names, with Host': `Connection: content-length, host, transfer-encoding, x-hop\r\nX-Hop: 1\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`,
    'a chunked body': `Transfer-Encoding: chunked\r\n\r\n${oneChunk(BODY)}`,
  };

  it.each(Object.entries(PUT_FRAMINGS))(
    'relays a PUT with %s framed as Node read it, Host kept; the pipelined request after it stays a request of its own',
    async (framing, rest) => {
      // Arrange: the body looks like requests; it is a body.
      const { port, connections } = await doorBeforeRawUpstream();
      const pipelined = `PUT /client-a/1 HTTP/1.1\r\nHost: client-a.example\r\n${rest}GET /client-a/2 HTTP/1.1\r\nHost: client-a.example\r\n\r\n`;

      // Act
      const a = await rawExchange(port, pipelined, ['PUT', 'GET']);

      // Assert
      expect(a.answers.map(answeredFor)).toEqual(['PUT /client-a/1 HTTP/1.1', 'GET /client-a/2 HTTP/1.1']);
      const [put, get, ...more] = allRequests(connections);
      expect(more).toEqual([]);
      expect(put?.startLine).toBe('PUT /client-a/1 HTTP/1.1');
      expect(put?.body.toString('latin1')).toBe(BODY);
      expect(headerOf(put as RawMessage, 'host')).toBe('client-a.example');
      expect(headerOf(put as RawMessage, 'x-hop')).toBeUndefined();
      if (framing.includes('Content-Length'))
        expect(headerOf(put as RawMessage, 'content-length')).toBe(String(Buffer.byteLength(BODY)));
      expect(get?.startLine).toBe('GET /client-a/2 HTTP/1.1');
    },
  );

  it('never lends one client’s upstream connection to another: pipelined and later requests keep to their client', async () => {
    // Arrange
    const { port, connections } = await doorBeforeRawUpstream();
    const host = 'Host: client-a.example\r\n';
    const pipelined = [
      `PUT /client-a/1 HTTP/1.1\r\n${host}Content-Length: 5\r\n\r\nhello`,
      `GET /client-a/2 HTTP/1.1\r\n${host}\r\n`,
      `DELETE /client-a/3 HTTP/1.1\r\n${host}Content-Length: 0\r\n\r\n`,
    ].join('');

    // Act: A's kept-alive upstream connection is idle when B, then A again, come.
    const a = await rawExchange(port, pipelined, ['PUT', 'GET', 'DELETE']);
    const b = await rawExchange(port, B_REQUEST, ['GET']);
    const aAgain = await rawExchange(port, `GET /client-a/4 HTTP/1.1\r\n${host}\r\n`, ['GET']);

    // Assert
    expect(a.answers.map(answeredFor)).toEqual([
      'PUT /client-a/1 HTTP/1.1',
      'GET /client-a/2 HTTP/1.1',
      'DELETE /client-a/3 HTTP/1.1',
    ]);
    expect(b.answers.map(answeredFor)).toEqual([B_REQUEST_LINE]);
    expect(aAgain.answers.map(answeredFor)).toEqual(['GET /client-a/4 HTTP/1.1']);
    expect(connections.map(clientsOn)).toEqual([['client-a'], ['client-b'], ['client-a']]);
  });
});
