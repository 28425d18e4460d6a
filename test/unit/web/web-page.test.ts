import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler as webPage } from '../../../handlers/web-page.js';
import { parseUploadRules } from '../../../lib/config/upload-rules.js';
import { DEFAULT_UPLOAD_RULES } from '../../../lib/core/media-types.js';
import { jsonForScript, renderWebPage, storageOrigin } from '../../../lib/web/web-page.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const getPage = () =>
  (webPage as unknown as Handler)(apiEvent({ method: 'GET', path: '/' }), lambdaContext());

/** The JSON data block the page script reads its rules from. */
function embeddedRules(html: string): unknown {
  const match = /<script type="application\/json" id="upload-rules">([\s\S]*?)<\/script>/.exec(html);
  if (!match?.[1]) throw new Error('no rules block in the page');
  return JSON.parse(match[1]);
}

const AWS_BUCKET = { bucket: 'presign-dev-uploads', region: 'eu-west-1' };

describe('GET / (upload page)', () => {
  it('answers 200 HTML that must not be cached, sniffed or framed', async () => {
    // Act
    const response = await getPage();

    // Assert
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers?.['x-content-type-options']).toBe('nosniff');
    expect(response.headers?.['cache-control']).toBe('no-store');
    expect(response.headers?.['x-frame-options']).toBe('DENY');
    expect(response.body).toMatch(/^<!doctype html>/);
    expect(response.body).toContain('<label for="token">');
    expect(response.body).toContain('<label for="files">');
    expect(response.body).toContain('role="status"');
    expect(response.body).toContain('npm run token -- &lt;you&gt;');
  });

  it('sends a strict CSP: hashed inline script and style, connections to the API and the bucket only', async () => {
    // Act
    const response = await getPage();

    // Assert
    const csp = String(response.headers?.['content-security-policy']);
    const directives = new Map(
      csp.split(';').map((part) => {
        const [name = '', ...values] = part.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual([expect.stringMatching(/^'sha256-[A-Za-z0-9+/]+=*'$/)]);
    expect(directives.get('style-src')).toEqual([expect.stringMatching(/^'sha256-[A-Za-z0-9+/]+=*'$/)]);
    // The unit environment has no S3_ENDPOINT: the bucket's AWS origin.
    expect(directives.get('connect-src')).toEqual([
      "'self'",
      'https://unit-test-bucket.s3.us-east-1.amazonaws.com',
    ]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
  });

  it('lets only the page’s own script and style run: their hashes match the CSP', async () => {
    // Act
    const response = await getPage();

    // Assert
    const html = String(response.body);
    const csp = String(response.headers?.['content-security-policy']);
    const { createHash } = await import('node:crypto');
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const inlineScripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    const inlineStyles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(inlineScripts).toHaveLength(1);
    expect(inlineStyles).toHaveLength(1);
    expect(csp).toContain(`script-src ${hash(inlineScripts[0] ?? '')}`);
    expect(csp).toContain(`style-src ${hash(inlineStyles[0] ?? '')}`);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);
  });

  it('serves the configured upload rules, not a copy', async () => {
    // Act
    const response = await getPage();

    // Assert
    expect(embeddedRules(String(response.body))).toEqual(DEFAULT_UPLOAD_RULES);
  });

  it('carries no token, key or secret', async () => {
    // Arrange
    const secrets = [
      process.env.SHARE_SECRET,
      process.env.AWS_SECRET_ACCESS_KEY,
      process.env.AWS_ACCESS_KEY_ID,
    ] as string[];

    // Act
    const response = await getPage();

    // Assert
    const page = `${response.body}\n${JSON.stringify(response.headers)}`;
    for (const secret of secrets) expect(page).not.toContain(secret);
    expect(page).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT
    expect(page).not.toMatch(/X-Amz-(Signature|Credential)/i);
    expect(page).not.toContain(process.env.AUTH_JWKS);
  });
});

describe('renderWebPage', () => {
  it('escapes rule keys so that nothing can close the script element', () => {
    // Arrange: the rules parser refuses such a key outright…
    expect(() => parseUploadRules({ 'image/png</script><script>alert(1)</script>': 1 })).toThrow(
      /invalid UPLOAD_RULES/,
    );
    // …and the renderer stays safe even if a key got through.
    const hostile = new Map([['x/</script><script>alert(1)</script><!--', 5]]);

    // Act
    const { html } = renderWebPage(hostile, AWS_BUCKET);

    // Assert
    expect(html.match(/<\/script>/gi)).toHaveLength(2); // the data block's and the app script's own
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<!--');
    expect(embeddedRules(html)).toEqual({ 'x/</script><script>alert(1)</script><!--': 5 });
  });

  it('writes markup characters of valid rules as \\u escapes that parse back', () => {
    // Arrange: `&` is a legal character in a media type token.
    const rules = parseUploadRules({ 'application/x-a&b': 1024, 'image/png': 2048 });

    // Act
    const { html } = renderWebPage(rules, AWS_BUCKET);

    // Assert
    expect(html).toContain('"application/x-a\\u0026b":1024');
    expect(embeddedRules(html)).toEqual({ 'application/x-a&b': 1024, 'image/png': 2048 });
  });

  it('allows connections to the configured S3 endpoint origin', () => {
    // Act
    const { contentSecurityPolicy } = renderWebPage(parseUploadRules(undefined), {
      ...AWS_BUCKET,
      endpoint: 'http://127.0.0.1:7480/some/path',
    });

    // Assert
    expect(contentSecurityPolicy).toContain("connect-src 'self' http://127.0.0.1:7480;");
  });
});

describe('storageOrigin', () => {
  it('is the bucket’s virtual-hosted AWS origin, or path-style for dotted names', () => {
    expect(storageOrigin(AWS_BUCKET)).toBe('https://presign-dev-uploads.s3.eu-west-1.amazonaws.com');
    expect(storageOrigin({ bucket: 'a.b.c', region: 'us-east-1' })).toBe(
      'https://s3.us-east-1.amazonaws.com',
    );
  });
});

describe('jsonForScript', () => {
  it('escapes <, >, & and line separators', () => {
    expect(jsonForScript({ k: '</script>&\u2028\u2029' })).toBe(
      '{"k":"\\u003c/script\\u003e\\u0026\\u2028\\u2029"}',
    );
  });
});
