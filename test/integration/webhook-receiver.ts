import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { TEST_WEBHOOK_PATH } from '../support/webhooks.js';

/** How the receiver answers the webhooks of one file. */
export type Behavior =
  /** Answer 503 to the first `fail` tries, then 204. */
  | { fail: number }
  /** Never answer. */
  | 'hang';

/** One POST the receiver got. */
export interface Delivery {
  webhookId: string;
  webhookTimestamp: string;
  /** Whether the signature verified with the receiver's secret (standardwebhooks' Webhook.verify). */
  verified: boolean;
  /** The body, parsed (a verified one), or `null`. */
  event: { type: string; timestamp: string; data: Record<string, unknown> } | null;
  /** What the receiver answered: a status, or `hang`. */
  answer: number | 'hang';
  receivedAt: number;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The integration tests' webhook receiver, on loopback, run by the global
 * setup for the whole run (every test file's uploads send webhooks to it):
 * it verifies each POST to {@link TEST_WEBHOOK_PATH} with the test secret,
 * records it, and answers 204, or as `POST /control {fileId, behavior}` set
 * for that file. `GET /deliveries` lists what arrived (`?fileId=` for one file's).
 */
export function startWebhookReceiver(port: number, secret: string): Promise<Server> {
  const webhook = new Webhook(secret);
  const behaviors = new Map<string, Behavior>();
  const tries = new Map<string, number>();
  const deliveries: Delivery[] = [];
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://receiver');
    const body = await readBody(request);
    if (request.method === 'POST' && url.pathname === '/control') {
      const { fileId, behavior } = JSON.parse(body) as { fileId: string; behavior: Behavior };
      behaviors.set(fileId, behavior);
      response.writeHead(204).end();
      return;
    }
    if (request.method === 'GET' && url.pathname === '/deliveries') {
      const fileId = url.searchParams.get('fileId');
      const listed = fileId ? deliveries.filter((entry) => entry.event?.data.fileId === fileId) : deliveries;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listed));
      return;
    }
    if (request.method !== 'POST' || url.pathname !== TEST_WEBHOOK_PATH) {
      response.writeHead(404).end();
      return;
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
    );
    let event: Delivery['event'] = null;
    try {
      event = webhook.verify(body, headers) as Delivery['event'];
    } catch {}
    const fileId = String(event?.data.fileId ?? '');
    const behavior = behaviors.get(fileId);
    const tried = (tries.get(fileId) ?? 0) + 1;
    tries.set(fileId, tried);
    const answer: Delivery['answer'] = !event
      ? 401
      : behavior === 'hang'
        ? 'hang'
        : behavior && tried <= behavior.fail
          ? 503
          : 204;
    deliveries.push({
      webhookId: headers['webhook-id'] ?? '',
      webhookTimestamp: headers['webhook-timestamp'] ?? '',
      verified: event !== null,
      event,
      answer,
      receivedAt: Date.now(),
    });
    if (answer !== 'hang') response.writeHead(answer).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`the webhook receiver's port ${port} is in use: free it or set WEBHOOK_TEST_PORT`)
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Closes the receiver, dropping the requests it leaves hanging. */
export function stopWebhookReceiver(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((done) => server.close(() => done()));
}
