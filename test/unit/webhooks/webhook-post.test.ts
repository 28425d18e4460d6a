import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { postOverHttp } from '../../../lib/webhooks/webhook-post.js';
import { loopbackServers } from '../../support/loopback-servers.js';

const servers = loopbackServers();

/** A receiver on loopback answering with `answer`; what it was sent is recorded. */
async function receiver(answer: (request: IncomingMessage, response: ServerResponse) => void) {
  const received: { method?: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const origin = await servers.listen((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method,
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      });
      answer(request, response);
    });
  });
  return { url: new URL(`${origin}/hooks`), received };
}

const post = (signal = new AbortController().signal) => ({
  headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
  body: '{"type":"file.validated"}',
  signal,
});

afterEach(() => servers.closeAll());

describe('postOverHttp', () => {
  it('POSTs the body with its headers and resolves with the status once the answer is read', async () => {
    // Arrange
    const { url, received } = await receiver((_, response) =>
      response.writeHead(202).end('x'.repeat(100_000)),
    );

    // Act
    const status = await postOverHttp(url, post());

    // Assert
    expect(status).toBe(202);
    expect(received).toEqual([
      {
        method: 'POST',
        headers: expect.objectContaining({
          'content-type': 'application/json',
          'webhook-id': 'msg_1',
          'content-length': '25',
        }),
        body: '{"type":"file.validated"}',
      },
    ]);
  });

  it('follows no redirect: a 302 is the answer, and its target is sent nothing', async () => {
    // Arrange
    const target = await receiver((_, response) => response.writeHead(204).end());
    const { url } = await receiver((_, response) =>
      response.writeHead(302, { location: target.url.href }).end(),
    );

    // Act
    const status = await postOverHttp(url, post());

    // Assert
    expect(status).toBe(302);
    expect(target.received).toEqual([]);
  });

  it('rejects with AbortError when the signal ends a try the receiver never answers', async () => {
    // Arrange
    const { url } = await receiver(() => undefined);
    const controller = new AbortController();

    // Act
    const sent = postOverHttp(url, post(controller.signal));
    setTimeout(() => controller.abort(new DOMException('too slow', 'TimeoutError')), 50);

    // Assert
    await expect(sent).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects when the signal ends a try in the middle of the answer', async () => {
    // Arrange
    const { url } = await receiver((_, response) => {
      response.writeHead(200, { 'content-length': '1000' });
      response.write('partial');
    });
    const controller = new AbortController();

    // Act
    const sent = postOverHttp(url, post(controller.signal));
    setTimeout(() => controller.abort(new DOMException('too slow', 'TimeoutError')), 50);

    // Assert
    await expect(sent).rejects.toBeInstanceOf(Error);
  });

  it('rejects with the network error’s code when nothing listens', async () => {
    // Arrange
    const { url } = await receiver(() => undefined);
    await servers.closeLatest();

    // Act + Assert
    await expect(postOverHttp(url, post())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
