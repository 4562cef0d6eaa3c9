import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import type { IMe } from './api';

/**
 * Remove every child of a node.
 */
function clear(node: HTMLElement): void {
  while (node.firstChild) {
    node.removeChild(node.firstChild);
  }
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
  testid?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  if (testid) {
    node.setAttribute('data-testid', testid);
  }
  return node;
}

/**
 * Render the "loading" state into `node` (replacing its content).
 */
export function renderLoading(node: HTMLElement): void {
  clear(node);
  node.appendChild(
    el('p', 'jp-SubmarinePanel-loading', 'Loading…', 'submarine-loading')
  );
}

/**
 * Render the user and their teams into `node` (replacing its content).
 */
export function renderMe(node: HTMLElement, me: IMe): void {
  clear(node);

  const section = el('section', 'jp-SubmarinePanel-section');
  section.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Signed in as'));
  const row = el('div', 'jp-SubmarinePanel-userRow');
  row.appendChild(el('span', 'jp-SubmarinePanel-user', me.name, 'submarine-user'));
  if (me.admin === true) {
    const badge = el('span', 'jp-SubmarinePanel-badge', 'admin', 'submarine-admin');
    badge.title = 'You are a Submarine administrator';
    row.appendChild(badge);
  }
  section.appendChild(row);
  node.appendChild(section);

  const teams = Array.isArray(me.teams) ? me.teams : [];
  const teamSection = el('section', 'jp-SubmarinePanel-section');
  teamSection.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Teams'));
  const list = el('ul', 'jp-SubmarinePanel-teams', undefined, 'submarine-teams');
  for (const team of teams) {
    const item = el('li', 'jp-SubmarinePanel-team', team.name);
    if (team.description) {
      item.title = team.description;
    }
    list.appendChild(item);
  }
  teamSection.appendChild(list);
  if (teams.length === 0) {
    teamSection.appendChild(
      el(
        'p',
        'jp-SubmarinePanel-empty',
        'You are not in any team yet.',
        'submarine-no-teams'
      )
    );
  }
  node.appendChild(teamSection);
}

/**
 * The person-readable text shown for an error.
 *
 * A reply with an HTTP status (see `SubmarineAPIError`) means the service
 * answered but refused; anything else means it could not be reached.
 */
export function errorText(err: unknown): string {
  const message =
    err instanceof Error
      ? err.message
      : typeof err === 'string'
        ? err
        : 'unknown error';
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number') {
    return `The Submarine service answered with an error (HTTP ${status}): ${message}`;
  }
  return `Could not reach the Submarine service: ${message}`;
}

/**
 * Render an error into `node` (replacing its content).
 */
export function renderError(node: HTMLElement, err: unknown): void {
  clear(node);
  const box = el('div', 'jp-SubmarinePanel-error', errorText(err), 'submarine-error');
  box.setAttribute('role', 'alert');
  node.appendChild(box);
}

/**
 * The left-sidebar panel: a header, a Refresh button and the user's details.
 */
export class SubmarinePanel extends Widget {
  constructor(options: SubmarinePanel.IOptions) {
    super();
    this._fetchMe = options.fetchMe;
    this.addClass('jp-SubmarinePanel');

    const header = el('div', 'jp-SubmarinePanel-header');
    header.appendChild(el('h2', 'jp-SubmarinePanel-title', 'Submarine'));
    this._refreshButton = el(
      'button',
      'jp-Button jp-mod-styled jp-SubmarinePanel-refresh',
      'Refresh',
      'submarine-refresh'
    );
    this._refreshButton.type = 'button';
    this._refreshButton.title = 'Fetch your user and teams again';
    this._refreshButton.addEventListener('click', () => {
      void this.refresh();
    });
    header.appendChild(this._refreshButton);

    this._content = el('div', 'jp-SubmarinePanel-content');
    this.node.appendChild(header);
    this.node.appendChild(this._content);
  }

  /**
   * The node the data is rendered into.
   */
  get contentNode(): HTMLElement {
    return this._content;
  }

  /**
   * Fetch the data again and render it (or the error).
   *
   * Only the latest call renders; replies of earlier calls are dropped.
   */
  async refresh(): Promise<void> {
    const call = ++this._calls;
    this._loaded = true;
    this._refreshButton.disabled = true;
    renderLoading(this._content);
    try {
      const me = await this._fetchMe();
      if (call === this._calls && !this.isDisposed) {
        renderMe(this._content, me);
      }
    } catch (err) {
      if (call === this._calls && !this.isDisposed) {
        renderError(this._content, err);
      }
    } finally {
      if (call === this._calls && !this.isDisposed) {
        this._refreshButton.disabled = false;
      }
    }
  }

  /**
   * Load the data the first time the panel is shown.
   */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!this._loaded) {
      void this.refresh();
    }
  }

  private _fetchMe: () => Promise<IMe>;
  private _content: HTMLElement;
  private _refreshButton: HTMLButtonElement;
  private _calls = 0;
  private _loaded = false;
}

/**
 * A namespace for SubmarinePanel statics.
 */
export namespace SubmarinePanel {
  export interface IOptions {
    /**
     * Fetch the current user's details (e.g. `() => getMe(settings)`).
     */
    fetchMe: () => Promise<IMe>;
  }
}
