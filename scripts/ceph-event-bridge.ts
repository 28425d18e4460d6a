import { createServer, type Server } from 'node:http';
import type { S3Event } from 'aws-lambda';

/**
 * Encodes an object key as AWS writes it into S3 event notifications:
 * form-style URL encoding (`+` for a space, `%2B` for a plus), slashes kept.
 */
export function awsEventKey(key: string): string {
  return encodeURIComponent(key).replaceAll('%20', '+').replaceAll('%2F', '/');
}

interface CephRecord {
  s3?: { object?: { key?: string } };
  [field: string]: unknown;
}

/**
 * Turns the body Ceph RGW pushes (`{"Records":[…]}` with `eventSource`
 * `ceph:s3`, no region and raw keys) into the event AWS would deliver, so the
 * validator only ever sees AWS's shape. Throws when the body has no records.
 */
export function toAwsS3Event(pushed: unknown, region: string): S3Event {
  const records = (pushed as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) throw new Error('push body has no Records array');
  return {
    Records: records.map((record: CephRecord) => ({
      ...record,
      eventSource: 'aws:s3',
      awsRegion: region,
      s3: {
        ...record.s3,
        object: { ...record.s3?.object, key: awsEventKey(record.s3?.object?.key ?? '') },
      },
    })),
  } as unknown as S3Event;
}

export interface BridgeSettings {
  port: number;
  region: string;
  /** serverless-offline's Lambda Invoke URL of the validator function. */
  invokeUrl: string;
  log: (line: string) => void;
}

const MAX_PUSH_BYTES = 1024 * 1024;

/**
 * Receives RGW's HTTP pushes and invokes the validator synchronously. It
 * answers 200 only when the function succeeded, so RGW's persistent topic
 * redelivers what failed: at-least-once, like S3 to Lambda.
 */
export function startEventBridge(settings: BridgeSettings): Promise<Server> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_PUSH_BYTES) {
        response.writeHead(413).end();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    try {
      const event = toAwsS3Event(JSON.parse(Buffer.concat(chunks).toString('utf8')), settings.region);
      const invoked = await fetch(settings.invokeUrl, { method: 'POST', body: JSON.stringify(event) });
      const failed = !invoked.ok || invoked.headers.has('x-amz-function-error');
      const detail = await invoked.text();
      if (failed) settings.log(`validator failed (${invoked.status}): ${detail.slice(0, 300)}`);
      response.writeHead(failed ? 502 : 200).end();
    } catch (error) {
      settings.log(`event bridge: ${(error as Error).message}`);
      response.writeHead(400).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, '127.0.0.1', () => resolve(server));
  });
}
