import { type Browser, chromium, type Page } from 'playwright-core';

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

/**
 * Makes the page's requests to URLs matching `urlPattern` (CDP's wildcards)
 * that `fails` picks break off as a reset connection, and lets every other one
 * through untouched: CORS preflights included, which reach the real server and
 * face Chromium's real CORS checks. Playwright's `page.route` cannot inject
 * such a fault: while any route is set on a page, Playwright answers every CORS
 * preflight of that page itself, allowing everything. Returns the undo.
 */
export async function resetRequests(
  page: Page,
  urlPattern: string,
  fails: (request: { url: URL; method: string }) => boolean,
): Promise<() => Promise<void>> {
  const session = await page.context().newCDPSession(page);
  session.on('Fetch.requestPaused', ({ requestId, request }) => {
    const reset = fails({ url: new URL(request.url), method: request.method });
    const sent = reset
      ? session.send('Fetch.failRequest', { requestId, errorReason: 'ConnectionReset' })
      : session.send('Fetch.continueRequest', { requestId });
    // A request the page itself gave up on (a reload) is gone before the answer.
    sent.catch(() => undefined);
  });
  await session.send('Fetch.enable', { patterns: [{ urlPattern, requestStage: 'Request' }] });
  return async () => {
    await session.send('Fetch.disable');
    await session.detach();
  };
}
