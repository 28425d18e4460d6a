import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIN_OWNER_SECRET_LENGTH, ownerFromSubject, ownerKeyFrom } from '../../../lib/core/owner.js';

const SECRET = 'owner-test-secret-0123456789abcdef0123456789abcdef';
const OTHER_SECRET = 'another-owner-secret-0123456789abcdef0123456789ab';
const KEY = ownerKeyFrom(SECRET);
/** What a segment was before it was keyed: anyone can compute it from a guessed `sub`. */
const unkeyed = (sub: string) => createHash('sha256').update(sub, 'utf8').digest('hex').slice(0, 32);

const SUBJECTS = [
  'alice@example.com',
  'auth0|5f7c8ec7c33c6c004bbafe82',
  'google-oauth2|109876543210987654321',
  'ünïcödé/../../etc/passwd',
  'x',
  'a'.repeat(512),
];

describe('owner segments', () => {
  it.each(SUBJECTS)('maps %j to 32 lowercase hex characters', (sub) => {
    // Act
    const owner = ownerFromSubject(sub, KEY);

    // Assert
    expect(owner.segment).toMatch(/^[0-9a-f]{32}$/);
    expect(owner.sub).toBe(sub);
    expect(Object.isFrozen(owner)).toBe(true);
  });

  it('is the first 128 bits of HMAC-SHA256 of the sub’s UTF-8 under the owner secret', () => {
    // Arrange
    const sub = 'Zoë@example.com';

    // Act
    const { segment } = ownerFromSubject(sub, KEY);

    // Assert
    expect(segment).toBe(
      createHmac('sha256', Buffer.from(SECRET, 'utf8'))
        .update(Buffer.from(sub, 'utf8'))
        .digest('hex')
        .slice(0, 32),
    );
  });

  it('maps one sub to one segment under one key, whatever key object holds it', () => {
    // Act
    const segments = [
      ownerFromSubject('alice@example.com', KEY).segment,
      ownerFromSubject('alice@example.com', KEY).segment,
      ownerFromSubject('alice@example.com', ownerKeyFrom(SECRET)).segment,
    ];

    // Assert
    expect(new Set(segments).size).toBe(1);
  });

  it('maps different subs to different segments', () => {
    // Act
    const segments = SUBJECTS.map((sub) => ownerFromSubject(sub, KEY).segment);

    // Assert
    expect(new Set(segments).size).toBe(SUBJECTS.length);
  });

  it.each(SUBJECTS)('gives %j another segment under another key', (sub) => {
    expect(ownerFromSubject(sub, ownerKeyFrom(OTHER_SECRET)).segment).not.toBe(
      ownerFromSubject(sub, KEY).segment,
    );
  });

  it.each(SUBJECTS)('never gives %j the unkeyed SHA-256 prefix a guesser could compute', (sub) => {
    expect(ownerFromSubject(sub, KEY).segment).not.toBe(unkeyed(sub));
  });
});

describe('owner keys', () => {
  it(`refuses a secret shorter than ${MIN_OWNER_SECRET_LENGTH} characters, without echoing it`, () => {
    // Arrange
    const short = 's3cr3t-but-far-too-short';

    // Act
    const build = () => ownerKeyFrom(short);

    // Assert
    expect(build).toThrow(/at least 32 characters/);
    expect(build).not.toThrow(new RegExp(short));
    expect(() => ownerKeyFrom('')).toThrow(/at least 32 characters/);
  });

  it('takes a secret of exactly the shortest length', () => {
    expect(ownerKeyFrom('k'.repeat(MIN_OWNER_SECRET_LENGTH)).type).toBe('secret');
  });
});
