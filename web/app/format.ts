const UNITS = ['bytes', 'KiB', 'MiB', 'GiB'] as const;

/** A byte count for people: `512 bytes`, `1.5 KiB`, `10 MiB`. */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const amount = unit === 0 ? String(value) : value.toFixed(value < 10 ? 1 : 0).replace(/\.0$/, '');
  return `${amount} ${UNITS[unit]}`;
}
