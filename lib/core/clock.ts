/**
 * Where code that compares dates reads the time: the system clock in a
 * function, a fixed or moving instant in tests. Passed in, never read from
 * `Date` directly, so behaviour that depends on the date is the same on any day.
 */
export type Clock = () => Date;

/** The system clock. */
export const systemClock: Clock = () => new Date();
