import type { Clock } from '../../lib/core/clock.js';

/** A clock stopped at `at`: the instant every comparison of dates in a test is made at. */
export const fixedClock =
  (at: Date | string | number): Clock =>
  () =>
    new Date(at);

/**
 * The instant unit tests run at unless they say otherwise: fixed, so that no
 * test compares a fixed date with the real clock, whatever the day.
 */
export const TEST_NOW = new Date('2026-11-23T09:00:00.000Z');

/** A clock stopped at {@link TEST_NOW}. */
export const testClock: Clock = fixedClock(TEST_NOW);

/** A clock a test moves by hand: it reads `at` until `set` moves it. */
export function movableClock(at: Date | number): Clock & { set: (next: Date | number) => void } {
  let now = new Date(at).getTime();
  return Object.assign(() => new Date(now), {
    set: (next: Date | number) => {
      now = new Date(next).getTime();
    },
  });
}

/** {@link TEST_NOW} in whole seconds since the epoch, as tokens and share links count time. */
export const TEST_SECONDS = Math.floor(TEST_NOW.getTime() / 1000);

/** An instant as SigV4's `X-Amz-Date` writes it (`20261123T090000Z`). */
export const amzDate = (at: Date): string =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
