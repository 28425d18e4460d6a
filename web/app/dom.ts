/** An element class such as `HTMLInputElement`: what {@link byId} checks the element against. */
interface ElementClass<T extends HTMLElement> {
  new (): T;
  prototype: T;
}

/**
 * The page's element with this id, of this class. Throws when it is missing or
 * of another kind: the page and its script disagree, and nothing should run.
 */
export function byId<T extends HTMLElement>(id: string, kind: ElementClass<T>): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`upload page: no element #${id}`);
  if (!(element instanceof kind)) throw new Error(`upload page: #${id} is not a ${kind.name}`);
  return element;
}

/** A new element with these properties and text or child nodes: text only, never HTML. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  properties: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  const { dataset, ...rest } = properties;
  Object.assign(created, rest);
  for (const [name, value] of Object.entries(dataset ?? {})) created.dataset[name] = value;
  created.append(...children);
  return created;
}

/** A button that names what it acts on for screen readers (`Delete cat.png`) while showing a short label. */
export function actionButton(label: string, target: string, onClick: () => void): HTMLButtonElement {
  const button = element('button', { type: 'button', textContent: label });
  button.setAttribute('aria-label', `${label} ${target}`);
  button.addEventListener('click', onClick);
  return button;
}
