import { PageConfig } from '@jupyterlab/coreutils';
import type { Message } from '@lumino/messaging';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

import type { IMe } from './api';
import { clear, el, errorBox } from './util';

export { errorText } from './util';

/**
 * Render the "loading" state into `node` (replacing its content).
 */
export function renderLoading(node: HTMLElement): void {
  clear(node);
  node.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…', 'submarine-loading'));
}

/**
 * Render the user and their teams into `node` (replacing its content).
 */
export function renderMe(node: HTMLElement, me: IMe): void {
  clear(node);

  const row = el('div', 'jp-SubmarinePanel-userRow');
  row.appendChild(el('span', 'jp-SubmarinePanel-label', 'Signed in as'));
  row.appendChild(el('span', 'jp-SubmarinePanel-user', me.name, 'submarine-user'));
  if (me.admin === true) {
    const badge = el('span', 'jp-SubmarinePanel-badge', 'admin', 'submarine-admin');
    badge.title = 'You are a Submarine administrator';
    row.appendChild(badge);
  }
  node.appendChild(row);

  const teams = Array.isArray(me.teams) ? me.teams : [];
  const teamRow = el('div', 'jp-SubmarinePanel-teamRow');
  teamRow.appendChild(el('span', 'jp-SubmarinePanel-label', 'Teams'));
  const list = el('ul', 'jp-SubmarinePanel-teams', undefined, 'submarine-teams');
  list.setAttribute('aria-label', 'Your teams');
  for (const team of teams) {
    const item = el('li', 'jp-SubmarinePanel-team', team.name);
    if (team.description) {
      item.title = team.description;
    }
    list.appendChild(item);
  }
  teamRow.appendChild(list);
  if (teams.length === 0) {
    teamRow.appendChild(
      el('span', 'jp-SubmarinePanel-empty', 'You are not in any team yet.', 'submarine-no-teams')
    );
  }
  node.appendChild(teamRow);

  // in a hub session: each team's room, where members edit together in real time
  const hubPrefix = PageConfig.getOption('hubPrefix');
  if (hubPrefix && teams.length > 0) {
    const roomRow = el('div', 'jp-SubmarinePanel-teamRow', undefined, 'submarine-rooms');
    roomRow.appendChild(el('span', 'jp-SubmarinePanel-label', 'Rooms'));
    const base = hubPrefix.replace(/hub\/?$/, '');
    for (const team of teams) {
      const link = el('a', 'jp-SubmarinePanel-room', team.name, `submarine-room-${team.name}`);
      link.href = `${base}services/submarine/rooms/${encodeURIComponent(team.name)}`;
      link.target = '_blank';
      link.rel = 'noopener';
      link.title =
        `Open ${team.name}'s room: edit notebooks together in real time. ` +
        'Code in the room runs as the team, not as you.';
      roomRow.appendChild(link);
    }
    node.appendChild(roomRow);
  }
}

/**
 * Render an error into `node` (replacing its content).
 */
export function renderError(node: HTMLElement, err: unknown): void {
  clear(node);
  node.appendChild(errorBox(err));
}

/**
 * A section of the panel: one tab. Other plugins (models, datasets...) add
 * theirs with `ISubmarine.addSection`.
 */
export interface ISection {
  /** Short id, used in `data-testid="submarine-tab-<id>"` and commands. */
  id: string;
  /** The tab's label. */
  label: string;
  /** What the tab shows. */
  widget: Widget;
  /** Tabs are ordered by rank (lowest first); default 100. */
  rank?: number;
  /** Called by the panel's Refresh button while the tab is shown. */
  refresh?: () => Promise<void> | void;
}

/**
 * The left-sidebar panel: a header with a Refresh button, who you are, and a
 * tab per section (Experiments, History, Environments, ...).
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
    this._refreshButton.title = 'Fetch your user, teams and the shown tab again';
    this._refreshButton.addEventListener('click', () => {
      void this.refresh();
    });
    header.appendChild(this._refreshButton);

    this._content = el('div', 'jp-SubmarinePanel-content jp-SubmarinePanel-me');
    this._tabBar = el('div', 'jp-SubmarinePanel-tabs', undefined, 'submarine-tabs');
    this._tabBar.setAttribute('role', 'tablist');
    this._tabBar.setAttribute('aria-label', 'Submarine sections');
    this._tabBar.addEventListener('keydown', this._onTabKey);
    this._body = new Panel();
    this._body.addClass('jp-SubmarinePanel-body');

    const top = new Widget();
    top.addClass('jp-SubmarinePanel-top');
    top.node.appendChild(header);
    top.node.appendChild(this._content);
    top.node.appendChild(this._tabBar);
    const layout = new PanelLayout();
    layout.addWidget(top);
    layout.addWidget(this._body);
    this.layout = layout;
  }

  /**
   * The node who you are is rendered into.
   */
  get contentNode(): HTMLElement {
    return this._content;
  }

  /** The sections, in tab order. */
  get sections(): ReadonlyArray<ISection> {
    return this._sections;
  }

  /** The id of the shown section ('' with none). */
  get current(): string {
    return this._current;
  }

  /**
   * Add a tab. The first added (lowest rank) is shown first.
   */
  addSection(section: ISection): void {
    if (this._sections.some(s => s.id === section.id)) {
      throw new Error(`A Submarine section ${section.id} exists already.`);
    }
    this._sections.push(section);
    this._sections.sort((a, b) => (a.rank ?? 100) - (b.rank ?? 100));
    section.widget.addClass('jp-SubmarinePanel-section');
    section.widget.id = section.widget.id || `submarine-section-${section.id}`;
    section.widget.node.setAttribute('role', 'tabpanel');
    section.widget.node.setAttribute('aria-labelledby', `submarine-tab-${section.id}`);
    section.widget.hide();
    this._body.addWidget(section.widget);
    this._renderTabs();
    if (!this._current) {
      this.activateSection(section.id);
    } else {
      this.activateSection(this._current);
    }
  }

  /**
   * Show a section's tab.
   */
  activateSection(id: string): void {
    const section = this._sections.find(s => s.id === id);
    if (!section) {
      return;
    }
    this._current = id;
    for (const s of this._sections) {
      if (s.id === id) {
        s.widget.show();
      } else {
        s.widget.hide();
      }
    }
    this._renderTabs();
  }

  /**
   * Fetch who you are again (and refresh the shown section).
   *
   * Only the latest call renders; replies of earlier calls are dropped.
   */
  async refresh(): Promise<void> {
    const call = ++this._calls;
    this._loaded = true;
    this._refreshButton.disabled = true;
    renderLoading(this._content);
    const section = this._sections.find(s => s.id === this._current);
    const sectionRefresh = section?.refresh ? Promise.resolve(section.refresh()) : null;
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
      await sectionRefresh?.catch(() => undefined);
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
      this._loaded = true;
      void this._loadMe();
    }
  }

  private async _loadMe(): Promise<void> {
    const call = ++this._calls;
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
    }
  }

  private _renderTabs(): void {
    clear(this._tabBar);
    for (const s of this._sections) {
      const selected = s.id === this._current;
      const tab = el('button', 'jp-SubmarinePanel-tab', s.label, `submarine-tab-${s.id}`);
      tab.type = 'button';
      tab.id = `submarine-tab-${s.id}`;
      tab.setAttribute('role', 'tab');
      tab.setAttribute('aria-selected', String(selected));
      tab.setAttribute('aria-controls', s.widget.id);
      tab.tabIndex = selected ? 0 : -1;
      if (selected) {
        tab.classList.add('jp-mod-current');
      }
      tab.addEventListener('click', () => this.activateSection(s.id));
      this._tabBar.appendChild(tab);
    }
  }

  /** Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern). */
  private _onTabKey = (event: KeyboardEvent): void => {
    const ids = this._sections.map(s => s.id);
    const i = ids.indexOf(this._current);
    let next = -1;
    if (event.key === 'ArrowRight') {
      next = (i + 1) % ids.length;
    } else if (event.key === 'ArrowLeft') {
      next = (i - 1 + ids.length) % ids.length;
    } else if (event.key === 'Home') {
      next = 0;
    } else if (event.key === 'End') {
      next = ids.length - 1;
    }
    if (next < 0 || ids.length === 0) {
      return;
    }
    event.preventDefault();
    this.activateSection(ids[next]);
    (this._tabBar.querySelector(`#submarine-tab-${ids[next]}`) as HTMLElement | null)?.focus();
  };

  private _fetchMe: () => Promise<IMe>;
  private _content: HTMLElement;
  private _tabBar: HTMLElement;
  private _body: Panel;
  private _refreshButton: HTMLButtonElement;
  private _sections: ISection[] = [];
  private _current = '';
  private _calls = 0;
  private _loaded = false;
}

/**
 * A namespace for SubmarinePanel statics.
 */
export namespace SubmarinePanel {
  export interface IOptions {
    /**
     * Fetch the current user's details (e.g. `() => api.me()`).
     */
    fetchMe: () => Promise<IMe>;
  }
}
