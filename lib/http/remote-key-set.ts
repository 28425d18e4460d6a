import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** How long one fetch of the key set may take, answer included. */
export const KEY_SET_TIMEOUT_MS = 5_000;
/** A token whose `kid` the key set lacks fetches it again at most this often (a key rotated in). */
export const KEY_SET_COOLDOWN_MS = 30_000;
/** A key set is fetched again once it is this old. */
export const KEY_SET_MAX_AGE_MS = 600_000;
/** An identity provider's key set holds a few keys: a larger answer is refused unread. */
export const MAX_KEY_SET_BYTES = 256 * 1024;

/**
 * GETs a key set's JSON. Rejects with jose's `JWKSTimeout` when no full
 * answer came in time, with a `JOSEError` for any answer but a 200 with JSON
 * within {@link MAX_KEY_SET_BYTES} (a redirect included: none is followed),
 * and with the network's own error otherwise.
 */
export type KeySetReader = (url: URL) => Promise<unknown>;

/** {@link KeySetReader} over Node's own HTTP client. */
export const readKeySetOverHttp = (url: URL, timeoutMs = KEY_SET_TIMEOUT_MS): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const signal = AbortSignal.timeout(timeoutMs);
    const fail = (error: Error) =>
      reject(signal.aborted ? new errors.JWKSTimeout(undefined, { cause: error }) : error);
    const request = send(
      url,
      {
        method: 'GET',
        // Some providers' edges refuse a request that names no client.
        headers: { accept: 'application/json, application/jwk-set+json', 'user-agent': 'presign' },
        signal,
      },
      (response) => {
        response.on('error', fail);
        if (response.statusCode !== 200) {
          response.resume();
          reject(new errors.JOSEError('Expected 200 OK from the JSON Web Key Set HTTP response'));
          return;
        }
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_KEY_SET_BYTES) {
            request.destroy(new errors.JOSEError('The JSON Web Key Set HTTP response is too large'));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (cause) {
            reject(
              new errors.JOSEError('Failed to parse the JSON Web Key Set HTTP response as JSON', { cause }),
            );
          }
        });
      },
    );
    request.on('error', fail);
    request.end();
  });

/** An issuer's key set for jose's `jwtVerify`, which can also be fetched ahead of its first use. */
export interface RemoteKeySet extends JWTVerifyGetKey {
  /**
   * Starts fetching the key set now, unless it is held or on its way: a cold
   * start fetches it while it does its other work. A fetch that fails is
   * only forgotten; the first verification fetches it again.
   */
  prefetch(): void;
}

/**
 * The key set an issuer publishes at `url`, for jose's `jwtVerify`: fetched on
 * first use (or {@link RemoteKeySet.prefetch}), shared by concurrent requests, fetched again once older than
 * {@link KEY_SET_MAX_AGE_MS}, or for a token whose `kid` it lacks when the last
 * fetch is older than {@link KEY_SET_COOLDOWN_MS}. jose's own local key set
 * picks and imports the key.
 *
 * jose's `createRemoteJWKSet` keeps these same rules, but builds a `Headers`
 * when it is created, and Node loads its whole fetch implementation for that:
 * some 20 ms of every cold start. This reads the key set with Node's HTTP
 * client instead.
 */
export function remoteKeySet(
  url: URL,
  { read = readKeySetOverHttp, now = Date.now }: { read?: KeySetReader; now?: () => number } = {},
): RemoteKeySet {
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<ReturnType<typeof createLocalJWKSet>> | undefined;

  const reload = () => {
    pending ??= read(url)
      .then((json) => {
        keys = createLocalJWKSet(json as JSONWebKeySet);
        fetchedAt = now();
        return keys;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const current = keys && now() - fetchedAt < KEY_SET_MAX_AGE_MS ? keys : await reload();
    try {
      return await current(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || now() - fetchedAt < KEY_SET_COOLDOWN_MS)
        throw error;
      return (await reload())(header, token);
    }
  };
  const prefetch = () => {
    if (!keys) reload().catch(() => undefined);
  };
  return Object.assign(getKey, { prefetch });
}
