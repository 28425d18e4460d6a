import {
  Agent,
  createServer,
  request as forwardRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';

/**
 * The local stack's S3 endpoint: a loopback HTTP relay in front of Ceph RGW,
 * there only because RGW 16 gets one thing wrong. A browser sends every `PUT`
 * to a presigned URL (a multipart part) after a CORS preflight: `OPTIONS` on
 * the very URL, without credentials. S3 answers a preflight from the bucket's
 * CORS rules alone; RGW 16 checks the URL's query signature on the preflight,
 * which lacks the headers the URL signs (a part URL signs its `content-length`),
 * and answers 403 without CORS headers, so the browser never sends the `PUT`
 * (docs/rgw-notes.md). AWS needs nothing of this.
 *
 * A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
 * reaches RGW without the URL's signature, so RGW evaluates it anonymously
 * against the bucket's own CORS rules, as S3 does: an allowed origin and
 * method get RGW's `Access-Control-*` headers, anything else RGW's 403
 * without them. Every other request goes to RGW unchanged: method, path and
 * query, headers (the `Host` that SigV4 signs included) and body, streamed
 * both ways with backpressure; RGW checks every signature itself.
 *
 * Many clients' requests reach one RGW through it, so the bytes a client
 * writes must reach RGW as that client's request and nothing else. A body
 * goes to RGW framed as Node read it (its Content-Length, or chunked again by
 * Node), whatever the client's `Connection` header names; a body on a method
 * that has none, or a transfer coding other than chunked, is refused; and each
 * client connection has its own connection to RGW, so that even a
 * disagreement between Node and RGW on where a request ends stays within the
 * connection of the client that caused it.
 */

/** The query parameters that carry a presigned URL's signature (SigV4 and SigV2). */
const SIGNATURE_PARAMETERS = new Set(
  [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-Expires',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
    'X-Amz-Security-Token',
    'AWSAccessKeyId',
    'Signature',
    'Expires',
  ].map((name) => name.toLowerCase()),
);

/** Headers that describe one connection, not the request: each side of the relay has its own. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Headers a `Connection` header cannot take away: the body's framing and the
 * `Host` that SigV4 signs, which RGW needs to read the request as Node read
 * it, and `Expect`, on which the relay waits for RGW's 100 Continue.
 */
const NEVER_CONNECTION_OPTIONS = new Set(['host', 'content-length', 'transfer-encoding', 'expect']);

/** Methods that carry no body in S3's API (nor in HTTP's common use). */
const BODILESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

/** Whether a request is a browser's CORS preflight. */
export function isPreflight(request: Pick<IncomingMessage, 'method' | 'headers'>): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined
  );
}

/**
 * A request target without the signature's query parameters; every other
 * parameter stays, as it was written.
 */
export function withoutSignature(target: string): string {
  const question = target.indexOf('?');
  if (question < 0) return target;
  const kept = target
    .slice(question + 1)
    .split('&')
    .filter((pair) => {
      const name = pair.split('=', 1)[0] ?? '';
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {}
      return pair !== '' && !SIGNATURE_PARAMETERS.has(decoded.toLowerCase());
    });
  return kept.length > 0 ? `${target.slice(0, question)}?${kept.join('&')}` : target.slice(0, question);
}

/**
 * Raw headers (`[name, value, name, value, …]`, as Node reads them) without
 * the hop-by-hop ones, those the `Connection` header names (but never the
 * framing, `Host` or `Expect`), and `drop`.
 */
export function endToEndHeaders(raw: string[], drop: ReadonlySet<string> = new Set()): string[] {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] ?? '').split(',').map((name) => name.trim().toLowerCase()))
      if (!NEVER_CONNECTION_OPTIONS.has(token)) named.add(token);
  }
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue;
    kept.push(raw[i] ?? '', raw[i + 1] ?? '');
  }
  return kept;
}

/**
 * Why the front door refuses a request before RGW sees any of it, or
 * undefined. A body on a GET, HEAD, DELETE or OPTIONS is refused (400): no S3
 * request has one, and what a server does with one is where relays and
 * servers disagree. A transfer coding other than chunked is refused (501):
 * Node removes only the chunking, so RGW would not get the body the client meant.
 */
export function framingRefusal(
  request: Pick<IncomingMessage, 'method' | 'headers'>,
): { status: 400 | 501; reason: string } | undefined {
  const coding = request.headers['transfer-encoding'];
  if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked')
    return { status: 501, reason: 'transfer coding not supported' };
  const hasBody = coding !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
  if (hasBody && BODILESS_METHODS.has(request.method ?? ''))
    return { status: 400, reason: `a ${request.method} request has no body` };
  return undefined;
}

/**
 * The framing header (name, value) RGW gets for a request's body, in place of
 * the client's own: the Content-Length Node read, or chunked (Node chunks the
 * body again as it sends it), or none on a bodiless method without a body.
 * So RGW reads exactly the body Node read, and the request ends where Node
 * saw it end, whatever the client's `Connection` header named.
 */
export function bodyFraming(request: Pick<IncomingMessage, 'method' | 'headers'>): string[] {
  if (request.headers['transfer-encoding'] !== undefined) return ['Transfer-Encoding', 'chunked'];
  const length = request.headers['content-length'];
  if (length !== undefined) return ['Content-Length', length];
  return BODILESS_METHODS.has(request.method ?? '') ? [] : ['Content-Length', '0'];
}

/** The client's own framing is replaced by `bodyFraming`'s. */
const REQUEST_DROPS = new Set(['content-length']);
/** A preflight carries no credentials; one that does is still answered from the CORS rules alone. */
const PREFLIGHT_DROPS = new Set([...REQUEST_DROPS, 'authorization']);

export interface FrontDoorSettings {
  /** Where it listens, on 127.0.0.1. */
  port: number;
  /** RGW's address, e.g. `http://127.0.0.1:7480`. */
  rgwEndpoint: string;
  log: (line: string) => void;
  /** The fault tests' S3 failures (scripts/event-faults.ts): a request it names is answered 500, unsent. */
  fails?: (request: IncomingMessage) => boolean;
}

export interface FrontDoor {
  server: Server;
  /** Stops listening and ends every connection, to clients and to RGW. */
  close(): Promise<void>;
}

/**
 * Starts the front door on 127.0.0.1:`port` before RGW; it relays until
 * `close`. Throws when it cannot listen (the port taken).
 */
export async function startS3FrontDoor(settings: FrontDoorSettings): Promise<FrontDoor> {
  const rgw = new URL(settings.rgwEndpoint);
  // One kept-alive connection to RGW per client connection, one request at a time (a pipelining
  // client's requests reach RGW in their order), closed with it: RGW's connections are never
  // shared between clients.
  const agents = new Map<Socket, Agent>();
  const agentFor = (client: Socket): Agent => {
    const existing = agents.get(client);
    if (existing) return existing;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.set(client, agent);
    client.once('close', () => {
      agents.delete(client);
      agent.destroy();
    });
    return agent;
  };

  const relay = (request: IncomingMessage, response: ServerResponse, expectsContinue: boolean) => {
    const refusal = framingRefusal(request);
    if (refusal) {
      // Its body is never read, so the connection ends with the answer.
      response.shouldKeepAlive = false;
      response.writeHead(refusal.status, { 'content-type': 'text/plain' }).end(`${refusal.reason}\n`);
      return;
    }
    if (settings.fails?.(request)) {
      request.resume();
      response
        .writeHead(500, { 'content-type': 'application/xml' })
        .end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code></Error>');
      return;
    }
    const preflight = isPreflight(request);
    const upstream = forwardRequest({
      host: rgw.hostname,
      port: rgw.port,
      method: request.method,
      path: preflight ? withoutSignature(request.url ?? '/') : request.url,
      headers: [
        ...endToEndHeaders(request.rawHeaders, preflight ? PREFLIGHT_DROPS : REQUEST_DROPS),
        ...bodyFraming(request),
      ],
      agent: agentFor(request.socket),
    });
    upstream.setNoDelay(true);
    // A client that goes away before its answer is complete takes RGW's request down with it.
    response.once('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    let continued = false;
    upstream.once('response', (answer) => {
      // An answer before the whole body is RGW's refusal: the rest of the body is not wanted. The
      // client's connection stays usable: the rest is read and dropped (a client that was never told to
      // continue sends none, so its connection ends with the answer). RGW's, mid-request, ends.
      const early = !request.complete;
      if (early) {
        request.unpipe(upstream);
        if (expectsContinue && !continued) response.shouldKeepAlive = false;
        else request.resume();
      }
      response.sendDate = false; // RGW's own Date is among its headers
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndHeaders(answer.rawHeaders));
      pipeline(answer, response, () => {
        if (early) upstream.destroy();
      });
    });
    upstream.once('error', (error) => {
      // The rest of a body RGW no longer takes is read and dropped, so that its answer still reaches the client.
      request.unpipe(upstream);
      request.resume();
      // An answer under way is cut by its own stream; a client that broke off is no news.
      if (response.headersSent || response.destroyed) return;
      settings.log(`S3 front door: RGW unreachable: ${error.message}`);
      response.writeHead(502, { 'content-type': 'text/plain' }).end('RGW unreachable\n');
    });
    // The body goes on as it comes, with backpressure. Not with pipeline(): when RGW answers early
    // (a refused signature) and closes, that would destroy the client's connection before the answer.
    const sendBody = () => {
      request.pipe(upstream);
      // A client that breaks off mid-body destroys RGW's request: RGW never takes a short body.
      request.once('close', () => {
        if (!request.complete) upstream.destroy();
      });
    };
    if (!expectsContinue) sendBody();
    else
      upstream.once('continue', () => {
        continued = true;
        response.writeContinue();
        sendBody();
      });
  };

  const server = createServer(
    // No cap on a request's duration: a large part may take minutes. RGW keeps idle connections a minute.
    { requestTimeout: 0, keepAliveTimeout: 65_000 },
    (request, response) => relay(request, response, false),
  );
  // `Expect: 100-continue`: RGW decides whether the body is wanted, as it would without the relay.
  server.on('checkContinue', (request, response) => relay(request, response, true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    close: async () => {
      const closed = new Promise((done) => server.close(done));
      server.closeAllConnections();
      for (const agent of agents.values()) agent.destroy();
      await closed;
    },
  };
}
