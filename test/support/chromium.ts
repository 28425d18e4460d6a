import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's headless Chromium, as the browser tests drive it: never a browser a
 * tool downloads, and with the background networking that this machine's
 * closed network refuses switched off.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
