// A few helpers to build the DOM. Text always goes in as text (textContent), never as
// HTML, so that usernames, folder names and log lines cannot inject markup.

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>;

/** h('button', { class: 'primary', onclick: fn }, 'Add') */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attributes = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else if (name === 'checked' && 'checked' in el) (el as HTMLInputElement).checked = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replaceChildren(el: Element, ...children: (Child | Child[])[]): void {
  clear(el);
  append(el, children);
}

/** Put text on the clipboard; select it in `fallback` when the clipboard is not available. */
export async function copyText(text: string, button: HTMLButtonElement): Promise<void> {
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Select and copy by hand';
  }
  setTimeout(() => (button.textContent = label), 1500);
}

/** A table row kept across updates (see syncRows): its cells are drawn again, its actions cell stays. */
export interface KeptRow<T> {
  row: HTMLTableRowElement;
  actions: HTMLTableCellElement;
  /** The item as of the last update: what the row's buttons act on. */
  current: T;
}

/**
 * Brings `tbody` to one row per item, in order. A row and its actions cell (made once by
 * `actions`, which reads the row's current item when pressed) stay the same elements while
 * their key is listed; the other cells are drawn anew. A list drawn anew at every event took a
 * button from under a press (mouse down on one button, up on its successor: no click).
 */
export function syncRows<T>(
  tbody: HTMLTableSectionElement,
  /** The attribute naming each row's key (data-session="12"). */
  keyAttribute: string,
  kept: Map<string, KeptRow<T>>,
  items: readonly T[],
  key: (item: T) => string,
  cells: (item: T) => HTMLTableCellElement[],
  actions: (current: () => T, key: string) => HTMLTableCellElement,
  /** What in the actions cell follows the item (a label), at every update. */
  updateActions?: (cell: HTMLTableCellElement, item: T) => void,
): void {
  const wanted: HTMLTableRowElement[] = [];
  const listed = new Set<string>();
  for (const item of items) {
    const k = key(item);
    listed.add(k);
    let entry = kept.get(k);
    if (!entry) {
      const made: KeptRow<T> = { row: document.createElement('tr'), actions: undefined as unknown as HTMLTableCellElement, current: item };
      made.row.setAttribute(keyAttribute, k);
      made.actions = actions(() => made.current, k);
      made.row.append(made.actions);
      kept.set(k, made);
      entry = made;
    }
    entry.current = item;
    const { row, actions: last } = entry;
    while (row.firstChild && row.firstChild !== last) row.removeChild(row.firstChild);
    for (const cell of cells(item)) row.insertBefore(cell, last);
    updateActions?.(last, item);
    wanted.push(row);
  }
  for (const k of [...kept.keys()]) if (!listed.has(k)) kept.delete(k);
  placeInOrder(tbody, wanted);
}

/** Makes `children` the children of `parent`, in order, moving only those out of place: moving
 * an element takes it out of the page for a moment, and a press on it is lost (or the focus). */
export function placeInOrder(parent: Element, children: readonly Element[]): void {
  const wanted = new Set(children);
  for (const child of [...parent.children]) if (!wanted.has(child)) parent.removeChild(child);
  children.forEach((child, i) => {
    const there = parent.children[i];
    if (there !== child) parent.insertBefore(child, there ?? null);
  });
  while (parent.children.length > children.length) parent.removeChild(parent.lastElementChild!);
}

/** Since when a pointer is pressed in the page (0: none). */
let pressedSince = 0;
const afterPress = new Set<() => void>();
/** The longest a redraw waits for a press to end (a release outside the window is not heard). */
const PRESS_WAIT_MS = 2000;
if (typeof document !== 'undefined') {
  document.addEventListener('pointerdown', () => (pressedSince = Date.now()), true);
  const released = () => {
    pressedSince = 0;
    // After the click that follows the release, in the same task.
    setTimeout(() => {
      const due = [...afterPress];
      afterPress.clear();
      for (const draw of due) draw();
    }, 0);
  };
  for (const type of ['pointerup', 'pointercancel']) document.addEventListener(type, released, true);
  window.addEventListener('blur', released);
}

/**
 * Runs `draw` now, or when the pointer is let go if it is pressed: a screen drawn anew under a
 * press takes the button from under it (mouse down on one button, up on its successor: no click).
 */
export function unlessPressed(draw: () => void): void {
  if (pressedSince === 0 || Date.now() - pressedSince > PRESS_WAIT_MS) draw();
  else afterPress.add(draw);
}
