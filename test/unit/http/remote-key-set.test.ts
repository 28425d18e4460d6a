import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  KEY_SET_COOLDOWN_MS,
  KEY_SET_MAX_AGE_MS,
  MAX_KEY_SET_BYTES,
  readKeySetOverHttp,
  remoteKeySet,
} from '../../../lib/http/remote-key-set.js';
import { loopbackServers } from '../../support/loopback-servers.js';

const servers = loopbackServers();

/** An issuer's JWKS URL on loopback, answering as `answer` says; counts the fetches. */
async function issuer(answer: (request: IncomingMessage, response: ServerResponse) => void) {
  let fetches = 0;
  const origin = await servers.listen((request, response) => {
    fetches++;
    answer(request, response);
  });
  return { url: new URL(`${origin}/.well-known/jwks.json`), fetches: () => fetches };
}

/** A signing key with its public JWK under `kid`. */
async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const sign = () =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setSubject('user-1').sign(privateKey);
  return { jwk, sign };
}

/** A JWKS answer of whatever `keys()` holds when the fetch arrives. */
const serving = (keys: () => JWK[]) => (_: IncomingMessage, response: ServerResponse) =>
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys() }));

afterEach(() => servers.closeAll());

describe('remoteKeySet', () => {
  it('fetches the key set on first use, once for concurrent requests, and then serves from it', async () => {
    // Arrange
    const key = await signingKey('k1');
    const { url, fetches } = await issuer(serving(() => [key.jwk]));
    const keys = remoteKeySet(url);
    const token = await key.sign();

    // Act
    const verified = await Promise.all([1, 2, 3].map(() => jwtVerify(token, keys)));
    await jwtVerify(token, keys);

    // Assert
    expect(verified.map(({ payload }) => payload.sub)).toEqual(['user-1', 'user-1', 'user-1']);
    expect(fetches()).toBe(1);
  });

  it('fetches again for an unknown kid once the cooldown has passed, so a rotated-in key is taken', async () => {
    // Arrange
    const [old, rotated] = [await signingKey('old'), await signingKey('new')];
    let published = [old.jwk];
    const { url, fetches } = await issuer(serving(() => published));
    let now = 1_000_000;
    const keys = remoteKeySet(url, { now: () => now });
    await jwtVerify(await old.sign(), keys);
    published = [old.jwk, rotated.jwk];

    // Act: within the cooldown the set is not fetched again; after it, it is
    const early = jwtVerify(await rotated.sign(), keys);
    await expect(early).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    now += KEY_SET_COOLDOWN_MS;
    const late = await jwtVerify(await rotated.sign(), keys);

    // Assert
    expect(late.payload.sub).toBe('user-1');
    expect(fetches()).toBe(2);
  });

  it('refuses a kid the issuer does not publish after one fetch, and fetches no more within the cooldown', async () => {
    // Arrange
    const [known, stranger] = [await signingKey('known'), await signingKey('stranger')];
    const { url, fetches } = await issuer(serving(() => [known.jwk]));
    let now = 1_000_000;
    const keys = remoteKeySet(url, { now: () => now });
    await jwtVerify(await known.sign(), keys);
    now += KEY_SET_COOLDOWN_MS;

    // Act
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map(async () => jwtVerify(await stranger.sign(), keys)),
    );

    // Assert
    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(fetches()).toBe(2);
  });

  it('fetches the key set again once it is older than its maximum age', async () => {
    // Arrange
    const key = await signingKey('k1');
    const { url, fetches } = await issuer(serving(() => [key.jwk]));
    let now = 1_000_000;
    const keys = remoteKeySet(url, { now: () => now });
    const token = await key.sign();
    await jwtVerify(token, keys);

    // Act
    now += KEY_SET_MAX_AGE_MS - 1;
    await jwtVerify(token, keys);
    const before = fetches();
    now += 1;
    await jwtVerify(token, keys);

    // Assert
    expect([before, fetches()]).toEqual([1, 2]);
  });

  it('fails verification while the key set cannot be read, and recovers once it can', async () => {
    // Arrange
    const key = await signingKey('k1');
    let up = false;
    const { url } = await issuer((request, response) =>
      up ? serving(() => [key.jwk])(request, response) : response.writeHead(503).end(),
    );
    const keys = remoteKeySet(url);
    const token = await key.sign();

    // Act
    const down = jwtVerify(token, keys);
    await expect(down).rejects.toBeInstanceOf(errors.JOSEError);
    up = true;

    // Assert
    expect((await jwtVerify(token, keys)).payload.sub).toBe('user-1');
  });

  it('prefetch: fetches the key set before any token, once, and the first verification uses it', async () => {
    // Arrange
    const key = await signingKey('k1');
    let arrived: () => void = () => undefined;
    const fetched = new Promise<void>((done) => {
      arrived = done;
    });
    const { url, fetches } = await issuer((request, response) => {
      serving(() => [key.jwk])(request, response);
      arrived();
    });
    // Reads are counted as they start: a prefetch that fetched again would show at once.
    const read = vi.fn((from: URL) => readKeySetOverHttp(from));
    const keys = remoteKeySet(url, { read });

    // Act
    keys.prefetch();
    keys.prefetch();
    await fetched;
    const verified = await jwtVerify(await key.sign(), keys);
    keys.prefetch();

    // Assert
    expect(verified.payload.sub).toBe('user-1');
    expect(read).toHaveBeenCalledTimes(1);
    expect(fetches()).toBe(1);
  });

  it('prefetch: a fetch that fails is forgotten, and the first verification fetches again at once', async () => {
    // Arrange: the first read fails when the test says so, the next succeeds
    const key = await signingKey('k1');
    let failFirst: (error: Error) => void = () => undefined;
    const first = new Promise<unknown>((_, reject) => {
      failFirst = reject;
    });
    const read = vi
      .fn()
      .mockReturnValueOnce(first)
      .mockResolvedValue({ keys: [key.jwk] });
    const keys = remoteKeySet(new URL('https://issuer.test/jwks.json'), { read, now: () => 1_000_000 });

    // Act
    keys.prefetch();
    failFirst(new Error('connect ECONNREFUSED'));
    await new Promise(setImmediate);
    const verified = await jwtVerify(await key.sign(), keys);

    // Assert
    expect(verified.payload.sub).toBe('user-1');
    expect(read).toHaveBeenCalledTimes(2);
  });
});

describe('readKeySetOverHttp', () => {
  it('reads the JSON of a 200, asking for a key set and naming itself', async () => {
    // Arrange
    let asked: IncomingMessage['headers'] = {};
    const { url } = await issuer((request, response) => {
      asked = request.headers;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
    });

    // Act + Assert
    await expect(readKeySetOverHttp(url)).resolves.toEqual({ keys: [] });
    expect(asked).toMatchObject({
      accept: 'application/json, application/jwk-set+json',
      'user-agent': 'presign',
    });
  });

  it.each([
    ['any status but 200', (response: ServerResponse) => response.writeHead(404).end('{"keys":[]}')],
    [
      'a redirect, which it does not follow',
      (response: ServerResponse) => response.writeHead(302, { location: 'http://127.0.0.1:9/jwks' }).end(),
    ],
    ['a body that is not JSON', (response: ServerResponse) => response.writeHead(200).end('<html>')],
    [
      'a body larger than a key set',
      (response: ServerResponse) => response.writeHead(200).end(' '.repeat(MAX_KEY_SET_BYTES + 1)),
    ],
  ])('refuses %s with a JOSEError (the caller’s token is refused: 401)', async (_, answer) => {
    // Arrange
    const { url } = await issuer((_, response) => answer(response));

    // Act
    const read = readKeySetOverHttp(url);

    // Assert
    await expect(read).rejects.toBeInstanceOf(errors.JOSEError);
    await expect(read).rejects.not.toBeInstanceOf(errors.JWKSTimeout);
  });

  it('gives up on an issuer that does not answer in time with JWKSTimeout (our outage: 500)', async () => {
    // Arrange
    const { url } = await issuer(() => undefined);

    // Act + Assert
    await expect(readKeySetOverHttp(url, 100)).rejects.toBeInstanceOf(errors.JWKSTimeout);
  });

  it('gives up on an answer cut short by the time limit with JWKSTimeout', async () => {
    // Arrange
    const { url } = await issuer((_, response) => {
      response.writeHead(200, { 'content-length': '1000' });
      response.write('{"keys":');
    });

    // Act + Assert
    await expect(readKeySetOverHttp(url, 100)).rejects.toBeInstanceOf(errors.JWKSTimeout);
  });

  it('rejects with the network’s own error (not a JOSEError: our outage, 500) when nothing listens', async () => {
    // Arrange
    const { url } = await issuer(() => undefined);
    await servers.closeLatest();

    // Act
    const read = readKeySetOverHttp(url);

    // Assert
    await expect(read).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(read).rejects.not.toBeInstanceOf(errors.JOSEError);
  });
});
