import { createHash } from 'node:crypto';
// The page script (web/app/main.ts) as built by esbuild when this module is
// bundled (web/build/page-script.cjs): text in the bundle, no file read at run time.
import APP_SCRIPT from 'virtual:page-script';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { indexHtml } from '../../web/index-html.js';
import { PAGE_STYLE } from '../../web/style.js';
import type { Environment } from '../config/environment.js';
import type { UploadRules } from '../config/upload-rules.js';

/** Where presigned POSTs go, from the same settings the S3 client uses. */
export interface StorageSettings {
  /** `S3_ENDPOINT` (the local RGW), unset in AWS. */
  endpoint?: string;
  bucket: string;
  region: string;
}

/** A rendered page: the HTML and the CSP that lets exactly its script and style run. */
export interface WebPage {
  html: string;
  contentSecurityPolicy: string;
}

/**
 * The origin the browser uploads to: the configured endpoint's origin, or the
 * bucket's virtual-hosted AWS URL (path-style for names with dots, as the SDK
 * presigns them).
 */
export function storageOrigin(settings: StorageSettings): string {
  if (settings.endpoint) return new URL(settings.endpoint).origin;
  return settings.bucket.includes('.')
    ? `https://s3.${settings.region}.amazonaws.com`
    : `https://${settings.bucket}.s3.${settings.region}.amazonaws.com`;
}

const UNSAFE_IN_SCRIPT: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * JSON that is safe inside a `<script>` element: `<`, `>` and `&` (and the
 * JavaScript line separators) are written as `\u` escapes, so no value can
 * close the element or open a comment, and `JSON.parse` still reads it back.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => UNSAFE_IN_SCRIPT[char] ?? char);
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Renders the upload page for these rules. Script and style are inline and
 * allowed by hash; the only connections allowed are this API (`'self'`) and
 * the storage origin. Throws when a page part could close its element.
 */
export function renderWebPage(rules: UploadRules, storage: StorageSettings): WebPage {
  if (/<\/(script|style)/i.test(APP_SCRIPT + PAGE_STYLE))
    throw new Error('page script or style closes its element');
  const html = indexHtml({
    style: PAGE_STYLE,
    script: APP_SCRIPT,
    rulesJson: jsonForScript(Object.fromEntries(rules)),
  });
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(APP_SCRIPT)}`,
    `style-src ${sha256(PAGE_STYLE)}`,
    `connect-src 'self' ${storageOrigin(storage)}`,
    'img-src data:',
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

/** The page's HTTP response: HTML, never cached, never sniffed, never framed. */
export function webPageResponse(page: WebPage): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': page.contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
    },
    body: page.html,
  };
}

/** The page for this deployment's rules and bucket. */
export function configuredWebPage(
  environment: Pick<Environment, 'S3_ENDPOINT' | 'UPLOADS_BUCKET' | 'AWS_REGION'>,
  rules: UploadRules,
): WebPage {
  return renderWebPage(rules, {
    ...(environment.S3_ENDPOINT ? { endpoint: environment.S3_ENDPOINT } : {}),
    bucket: environment.UPLOADS_BUCKET,
    region: environment.AWS_REGION,
  });
}
