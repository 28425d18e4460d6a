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
