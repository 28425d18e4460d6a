import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createContext, runInContext, Script } from 'node:vm';
import APP_SCRIPT from 'virtual:page-script';
import { describe, expect, it } from 'vitest';
import { renderWebPage } from '../../../lib/web/web-page.js';
import { buildPageScript, PAGE_SCRIPT_ENTRY } from '../../../web/build/page-script.cjs';

const AWS_BUCKET = { bucket: 'presign-dev-uploads', region: 'eu-west-1' };
const MiB = 1024 * 1024;
const RULES = new Map([
  ['image/png', 10 * MiB],
  ['application/pdf', 1536],
]);

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const inlineScript = (html: string) => /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];

/**
 * Just enough of the DOM to run the built script against a rendered page: one
 * object per element with an id, of the class its tag has in a browser.
 */
class FakeElement {
  textContent: string | null = '';
  dataset: Record<string, string> = {};
  hidden = false;
  focused = 0;
  readonly attributes = new Map<string, string>();
  readonly listeners = new Map<string, ((event: unknown) => unknown)[]>();
  constructor(readonly id: string) {}
  addEventListener(type: string, listener: (event: unknown) => unknown) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  setAttribute(name: string, value: string) {
    this.attributes.set(name, value);
  }
  removeAttribute(name: string) {
    this.attributes.delete(name);
  }
  focus() {
    this.focused += 1;
  }
  fire(type: string, event: unknown = {}) {
    return Promise.all((this.listeners.get(type) ?? []).map((listener) => listener(event)));
  }
}
class FakeInput extends FakeElement {
  value = '';
  accept = '';
  files: { name: string; type: string; size: number }[] | null = null;
}
class FakeForm extends FakeElement {}
class FakeButton extends FakeElement {
  disabled = false;
}
class FakeProgress extends FakeElement {
  value = 0;
}
class FakeAnchor extends FakeElement {
  href = '';
}
class FakeScript extends FakeElement {}
class FakeList extends FakeElement {
  children: unknown[] = [];
  replaceChildren(...children: unknown[]) {
    this.children = children;
  }
}
const CLASS_OF_TAG: Record<string, typeof FakeElement> = {
  input: FakeInput,
  form: FakeForm,
  button: FakeButton,
  progress: FakeProgress,
  a: FakeAnchor,
  script: FakeScript,
  ul: FakeList,
};

/** Runs `script` in a fresh context whose document holds the elements of `html` that have an id. */
function runOnPage(html: string, script: string, storedToken: string | null = null) {
  const elements = new Map<string, FakeElement>();
  for (const [, tag = '', id = '', text = ''] of html.matchAll(
    /<([a-z]+)\b[^>]*?\sid="([^"]+)"[^>]*>([^<]*)/g,
  )) {
    const element = new (CLASS_OF_TAG[tag] ?? FakeElement)(id);
    element.textContent = text;
    elements.set(id, element);
  }
  const context = createContext({
    document: { getElementById: (id: string) => elements.get(id) ?? null, baseURI: 'http://page.test/' },
    sessionStorage: { getItem: () => storedToken, setItem: () => undefined },
    fetch: () => Promise.reject(new Error('no network in this test')),
    URL,
    HTMLElement: FakeElement,
    HTMLInputElement: FakeInput,
    HTMLFormElement: FakeForm,
    HTMLButtonElement: FakeButton,
    HTMLProgressElement: FakeProgress,
    HTMLAnchorElement: FakeAnchor,
    HTMLScriptElement: FakeScript,
    HTMLUListElement: FakeList,
  });
  runInContext(script, context);
  const element = <T extends FakeElement>(id: string, kind: new (id: string) => T): T => {
    const found = elements.get(id);
    if (!(found instanceof kind)) throw new Error(`no ${kind.name} #${id}`);
    return found;
  };
  return { element, elements };
}

describe('the page script', () => {
  it('is the esbuild build of web/app/main.ts, served as is and allowed by its hash', async () => {
    // Arrange
    const built = await buildPageScript();

    // Act
    const { html, contentSecurityPolicy } = renderWebPage(RULES, AWS_BUCKET);

    // Assert
    expect(built.inputs).toContain(PAGE_SCRIPT_ENTRY);
    expect(APP_SCRIPT).toBe(built.text);
    expect(inlineScript(html)).toBe(built.text);
    expect(contentSecurityPolicy).toContain(`script-src ${hash(built.text)};`);
  });

  it('is one minified classic script: no TypeScript, no module syntax, no source map', () => {
    // Assert: the TypeScript source does not parse as a script, the built text does.
    expect(() => new Script(readFileSync(PAGE_SCRIPT_ENTRY, 'utf8'))).toThrow(SyntaxError);
    expect(() => new Script(APP_SCRIPT, { filename: 'page-script.js' })).not.toThrow();
    expect(APP_SCRIPT).toMatch(/^"use strict";\(\(\)=>\{[\s\S]*\}\)\(\);\n$/);
    expect(APP_SCRIPT.trimEnd().split('\n')).toHaveLength(1);
    expect(APP_SCRIPT).not.toContain('sourceMappingURL');
    expect(APP_SCRIPT).not.toMatch(/[^\x20-\x7e\n]/); // ASCII only: the hash does not depend on an encoding
    expect(APP_SCRIPT).not.toMatch(/<\/(script|style)/i);
  });

  it('writes text only: no HTML sinks, no eval', () => {
    expect(APP_SCRIPT).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|Function\(/,
    );
  });

  it('runs on the served page: lists the accepted types, restores the token, listens for files and drops', () => {
    // Arrange
    const { html } = renderWebPage(RULES, AWS_BUCKET);

    // Act
    const { element } = runOnPage(html, String(inlineScript(html)), 'stored-token');

    // Assert
    expect(element('allowed-types', FakeElement).textContent).toBe(
      'image/png up to 10 MiB, application/pdf up to 1.5 KiB',
    );
    expect(element('files', FakeInput).accept).toBe('image/png,application/pdf');
    expect(element('token', FakeInput).value).toBe('stored-token');
    expect(element('upload-form', FakeForm).listeners.has('submit')).toBe(true);
    expect(element('files', FakeInput).listeners.has('change')).toBe(true);
    expect(element('token', FakeInput).listeners.has('input')).toBe(true);
    expect([...element('drop-zone', FakeElement).listeners.keys()].sort()).toEqual([
      'dragenter',
      'dragleave',
      'dragover',
      'drop',
    ]);
  });

  it('asks for a token first, then for files, before anything is sent', async () => {
    // Arrange
    const { html } = renderWebPage(RULES, AWS_BUCKET);
    const { element } = runOnPage(html, String(inlineScript(html)));
    const error = element('error', FakeElement);
    const submit = () => element('upload-form', FakeForm).fire('submit', { preventDefault: () => undefined });

    // Act
    await submit();
    const withoutToken = error.textContent;
    element('token', FakeInput).value = 'a-token';
    await submit();

    // Assert
    expect(withoutToken).toBe('Paste an access token first.');
    expect(element('token', FakeInput).focused).toBe(1);
    expect(error.textContent).toBe('Choose files first.');
    expect(element('files', FakeInput).focused).toBe(1);
  });

  it('fails loudly when the page lacks an element it needs', () => {
    // Arrange
    const { html } = renderWebPage(RULES, AWS_BUCKET);
    const withoutQueue = html.replace('id="queue"', 'id="something-else"');

    // Act / Assert
    expect(() => runOnPage(withoutQueue, String(inlineScript(html)))).toThrow(/no element #queue/);
  });
});
