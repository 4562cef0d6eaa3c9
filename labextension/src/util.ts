/**
 * Small DOM helpers, error wording and a poller shared by the panels.
 */

/**
 * Remove every child of a node.
 */
export function clear(node: Element): void {
  while (node.firstChild) {
    node.removeChild(node.firstChild);
  }
}

/**
 * A new element with a class, optional text and an optional `data-testid`.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
  testid?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  if (testid) {
    node.setAttribute('data-testid', testid);
  }
  return node;
}

/**
 * Run `render` (which rebuilds part of `root`) and give the focus back to the
 * element with the same `data-testid` as the one focused before, so a refresh
 * does not throw a keyboard user out.
 */
export function keepFocus(root: HTMLElement, render: () => void): void {
  const active = document.activeElement as HTMLElement | null;
  const testid = active && root.contains(active) ? active.getAttribute('data-testid') : null;
  render();
  if (testid && !root.contains(document.activeElement)) {
    const again = Array.from(root.querySelectorAll<HTMLElement>('[data-testid]')).find(
      n => n.getAttribute('data-testid') === testid
    );
    again?.focus();
  }
}

/**
 * A JupyterLab-styled button.
 */
export function button(
  label: string,
  onClick: () => void,
  options: { testid?: string; title?: string; accent?: boolean; className?: string } = {}
): HTMLButtonElement {
  const b = el(
    'button',
    `jp-Button jp-mod-styled ${options.accent ? 'jp-mod-accept' : 'jp-mod-reject'} jp-SubmarinePanel-button ${options.className ?? ''}`.trim(),
    label,
    options.testid
  );
  b.type = 'button';
  if (options.title) {
    b.title = options.title;
  }
  b.addEventListener('click', onClick);
  return b;
}

/**
 * The person-readable text shown for an error.
 *
 * A string is the panel's own message (a value it refused before sending).
 * A reply with an HTTP status (see `SubmarineAPIError`) means the service
 * answered but refused: its message says what to do. Any other error means
 * it could not be reached.
 */
export function errorText(err: unknown): string {
  if (typeof err === 'string') {
    return err; // the panel's own words (a value it checked before sending)
  }
  const message = err instanceof Error ? err.message : 'unknown error';
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number') {
    if (status === 401) {
      return `Your login has expired (${message}). Reload the page to log in again.`;
    }
    if (status >= 500) {
      return `The Submarine service answered with an error (HTTP ${status}): ${message}. Try again in a moment; if it persists, tell your hub admin.`;
    }
    return message;
  }
  return `Could not reach the Submarine service: ${message}. Check your connection and try again.`;
}

/**
 * An alert box for an error (role=alert, so screen readers announce it).
 */
export function errorBox(err: unknown, testid = 'submarine-error'): HTMLElement {
  const box = el('div', 'jp-SubmarinePanel-error', errorText(err), testid);
  box.setAttribute('role', 'alert');
  return box;
}

/** `3 min ago`-style wording of an ISO time, relative to `now`. */
export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) {
    return '';
  }
  const t = Date.parse(iso);
  if (Number.isNaN(t)) {
    return '';
  }
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) {
    return `${s} s ago`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ago`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ago`;
  }
  return `${Math.floor(s / 86400)} d ago`;
}

/** `1 min 5 s`-style wording of a duration in seconds. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '';
  }
  const s = Math.round(seconds);
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `1.2 kB`-style wording of a size in bytes. */
export function size(bytes: number): string {
  if (!Number.isFinite(bytes)) {
    return '';
  }
  if (bytes < 1000) {
    return `${bytes} B`;
  }
  const units = ['kB', 'MB', 'GB'];
  let v = bytes;
  let unit = 'B';
  for (const u of units) {
    if (v < 1000) {
      break;
    }
    v /= 1000;
    unit = u;
  }
  return `${Number(v.toPrecision(3))} ${unit}`;
}

/**
 * Calls `tick` every `interval` ms while `active()` says so, never two at once.
 * `refresh()` calls it now (and restarts the wait).
 */
export class Poller {
  constructor(
    private readonly tick: () => Promise<void>,
    private readonly active: () => boolean,
    public interval: number
  ) {}

  get running(): boolean {
    return this._started;
  }

  start(): void {
    if (this._started) {
      return;
    }
    this._started = true;
    this._schedule();
  }

  stop(): void {
    this._started = false;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  async refresh(): Promise<void> {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    await this._run();
    this._schedule();
  }

  private _schedule(): void {
    if (!this._started || this._timer !== null) {
      return;
    }
    this._timer = setTimeout(
      () => {
        this._timer = null;
        void this._run().then(() => this._schedule());
      },
      Math.max(250, this.interval)
    );
  }

  private async _run(): Promise<void> {
    if (this._busy) {
      return this._busy;
    }
    if (!this.active()) {
      return;
    }
    this._busy = this.tick()
      .catch(() => undefined)
      .finally(() => {
        this._busy = null;
      });
    return this._busy;
  }

  private _started = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _busy: Promise<void> | null = null;
}
