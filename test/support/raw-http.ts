import { connect } from 'node:net';

/**
 * HTTP/1.1 spoken byte by byte over a socket, for tests of what an HTTP
 * library would never send (a body on a GET, `Connection: content-length`,
 * pipelined requests) and of exactly which bytes a server receives. Enough of
 * RFC 9112's message framing for that, nothing more.
 */

/** One HTTP/1.1 message as it came off a connection. */
export interface RawMessage {
  /** The request or status line. */
  startLine: string;
  /** Header names and values, in order, as written. */
  headers: [string, string][];
  /** The body, de-chunked when it came chunked. */
  body: Buffer;
}

/** The value of header `name` (the first, any case), or undefined. */
export const headerOf = (message: RawMessage, name: string): string | undefined =>
  message.headers.find(([header]) => header.toLowerCase() === name.toLowerCase())?.[1];

/** A chunked body at the start of `buffer`: the body and the bytes it took, or undefined while incomplete. */
function chunkedBody(buffer: Buffer): { body: Buffer; length: number } | undefined {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buffer.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw new Error(`not a chunk size: ${buffer.subarray(at, lineEnd)}`);
    at = lineEnd + 2;
    if (size === 0) {
      // Trailers (none here, but allowed), then the empty line.
      const end = buffer.indexOf('\r\n\r\n', at - 2);
      return end < 0 ? undefined : { body: Buffer.concat(chunks), length: end + 4 };
    }
    if (buffer.length < at + size + 2) return undefined;
    chunks.push(buffer.subarray(at, at + size));
    at += size + 2;
  }
}

/**
 * The first complete message in `buffer` and what follows it, or undefined
 * while it is incomplete. A request with neither Content-Length nor chunked
 * Transfer-Encoding has no body; a response without them (`untilClose`) runs
 * to the end of the connection, so it is complete once `closed`. A response
 * to HEAD, a 1xx, 204 or 304 has no body (`bodiless`).
 */
export function firstMessage(
  buffer: Buffer,
  options: { untilClose?: boolean; closed?: boolean; bodiless?: boolean } = {},
): { message: RawMessage; rest: Buffer } | undefined {
  const headEnd = buffer.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [startLine = '', ...lines] = buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const message = { startLine, headers, body: Buffer.alloc(0) };
  const afterHead = buffer.subarray(headEnd + 4);
  if (options.bodiless) return { message, rest: afterHead };
  if (/chunked/i.test(headerOf(message, 'transfer-encoding') ?? '')) {
    const chunked = chunkedBody(afterHead);
    if (!chunked) return undefined;
    return { message: { ...message, body: chunked.body }, rest: afterHead.subarray(chunked.length) };
  }
  const length = headerOf(message, 'content-length');
  if (length !== undefined) {
    if (afterHead.length < Number(length)) return undefined;
    return {
      message: { ...message, body: afterHead.subarray(0, Number(length)) },
      rest: afterHead.subarray(Number(length)),
    };
  }
  if (!options.untilClose) return { message, rest: afterHead };
  return options.closed ? { message: { ...message, body: afterHead }, rest: Buffer.alloc(0) } : undefined;
}

/** The status code of a response. */
export const statusOf = (response: RawMessage): number => Number(response.startLine.split(' ')[1]);

/** What one connection got back: the final answers in order, and whether the server closed it. */
export interface RawExchange {
  answers: RawMessage[];
  closed: boolean;
}

/**
 * Opens a connection to 127.0.0.1:`port`, writes `bytes` at once (pipelined
 * requests are simply one after the other), and reads the final answers to
 * the requests whose `methods` are given, in order (interim 1xx answers are
 * skipped). Settles when they have all come, when the server closes the
 * connection, or after `timeoutMs`; then closes the connection.
 */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  methods: string[],
  timeoutMs = 3000,
): Promise<RawExchange> {
  return new Promise((settle) => {
    const socket = connect(port, '127.0.0.1');
    const answers: RawMessage[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      settle({ answers, closed });
    };
    const timer = setTimeout(finish, timeoutMs);
    const read = () => {
      while (answers.length < methods.length) {
        const head = firstMessage(pending, { bodiless: true });
        if (!head) break;
        const status = statusOf(head.message);
        const bodiless =
          methods[answers.length] === 'HEAD' || status < 200 || status === 204 || status === 304;
        const next = bodiless ? head : firstMessage(pending, { untilClose: true, closed });
        if (!next) break;
        pending = next.rest;
        if (status >= 200) answers.push(next.message);
      }
      if (answers.length === methods.length || closed) finish();
    };
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      read();
    });
    socket.on('close', () => {
      closed = true;
      read();
    });
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

/** A chunked body of one chunk holding `content`, with its last chunk. */
export const oneChunk = (content: string): string =>
  `${Buffer.byteLength(content).toString(16)}\r\n${content}\r\n0\r\n\r\n`;
