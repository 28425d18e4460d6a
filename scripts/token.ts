// npm run token -- <sub> [ttlSeconds]: prints a local development JWT for that subject.
import { devToken } from './dev-keys.js';

const [sub, ttl] = process.argv.slice(2);
if (!sub) {
  console.error('usage: npm run token -- <sub> [ttlSeconds]');
  process.exit(2);
}
const ttlSeconds = ttl === undefined ? 3600 : Number(ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
  console.error(`ttlSeconds must be a positive integer, got ${JSON.stringify(ttl)}`);
  process.exit(2);
}
console.log(await devToken(sub, ttlSeconds));
