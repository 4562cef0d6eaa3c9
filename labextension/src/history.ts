/**
 * The History tab: the versions of a file (the open notebook by default), a
 * rendered diff between two of them, and restoring one.
 */
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import type { IDiffReply, IVersion, SubmarineAPI } from './api';
import {
  type ICellChange,
  type INotebookJSON,
  cellChanges,
  lineDiff,
  notebookKeysChanged,
  sourceOf,
  unifiedLines
} from './diff';
import { areaOf, spaceOf } from './spaces';
import { ago, button, clear, el, errorBox, size } from './util';

/**
 * How a restore is done. Files of the session's own folder are restored
 * through the session (JupyterLab's checkpoint restore: the version is
 * written back to disk and recorded as the newest); files kept only by the
 * platform (team folders, files shared with you) through `POST files/restore`.
 */
export function restoreRoute(path: string): 'session' | 'platform' {
  return areaOf(path) === 'personal' ? 'session' : 'platform';
}

/** The text of a diff's summary: `1 added, 2 modified, 3 unchanged cells`. */
export function summaryText(summary: Record<string, number>, unit: string): string {
  const order = ['added', 'removed', 'modified', 'unchanged'];
  const parts = order.filter(k => typeof summary[k] === 'number').map(k => `${summary[k]} ${k}`);
  return parts.length ? `${parts.join(', ')} ${unit}` : 'No difference';
}

/** Draw a notebook diff: changed cells with a line diff, unchanged ones folded. */
export function renderNotebookDiff(changes: ICellChange[]): HTMLElement {
  const root = el('div', 'jp-SubmarineDiff-cells');
  let folded: ICellChange[] = [];
  let bIndex = 0;
  let aIndex = 0;
  const flush = () => {
    if (folded.length === 0) {
      return;
    }
    const details = el('details', 'jp-SubmarineDiff-unchanged');
    details.appendChild(
      el('summary', '', `${folded.length} unchanged cell${folded.length === 1 ? '' : 's'}`)
    );
    for (const c of folded) {
      const pre = el('pre', 'jp-SubmarineDiff-source');
      pre.textContent = sourceOf(c.b ?? c.a);
      details.appendChild(pre);
    }
    root.appendChild(details);
    folded = [];
  };
  for (const change of changes) {
    if (change.kind === 'unchanged') {
      folded.push(change);
      aIndex++;
      bIndex++;
      continue;
    }
    flush();
    const cell = change.b ?? change.a;
    const number = change.kind === 'removed' ? aIndex + 1 : bIndex + 1;
    const card = el('div', `jp-SubmarineDiff-cell jp-mod-${change.kind}`);
    card.setAttribute('data-kind', change.kind);
    const extra = change.changed.filter(k => k !== 'source');
    const head = el(
      'div',
      'jp-SubmarineDiff-cellHead',
      `${change.kind === 'removed' ? 'Old cell' : 'Cell'} ${number} · ${cell?.cell_type ?? 'cell'} · ${change.kind}` +
        (extra.length ? ` (${extra.join(', ')} changed)` : '')
    );
    card.appendChild(head);
    const lines =
      change.kind === 'added'
        ? lineDiff('', sourceOf(change.b))
        : change.kind === 'removed'
          ? lineDiff(sourceOf(change.a), '')
          : lineDiff(sourceOf(change.a), sourceOf(change.b));
    if (change.kind !== 'modified' || change.changed.includes('source')) {
      const pre = el('pre', 'jp-SubmarineDiff-source');
      for (const line of lines) {
        const kind = line.op === '+' ? 'added' : line.op === '-' ? 'removed' : 'context';
        const span = el(
          'span',
          `jp-SubmarineDiff-line jp-mod-${kind}`,
          `${line.op} ${line.text}\n`
        );
        pre.appendChild(span);
      }
      card.appendChild(pre);
    }
    root.appendChild(card);
    if (change.kind !== 'removed') {
      bIndex++;
    }
    if (change.kind !== 'added') {
      aIndex++;
    }
  }
  flush();
  return root;
}

/** Draw a unified text diff. */
export function renderTextDiff(text: string): HTMLElement {
  const pre = el('pre', 'jp-SubmarineDiff-source jp-SubmarineDiff-text');
  for (const line of unifiedLines(text)) {
    pre.appendChild(el('span', `jp-SubmarineDiff-line jp-mod-${line.kind}`, `${line.text}\n`));
  }
  return pre;
}

export class HistorySection extends Widget {
  constructor(options: HistorySection.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-SubmarineHistory');
    this._head = el('div', 'jp-SubmarineHistory-head');
    this._message = el('div', 'jp-SubmarineHistory-message', '', 'submarine-history-message');
    this._message.setAttribute('aria-live', 'polite');
    this._versions = el('ol', 'jp-SubmarineHistory-versions', undefined, 'submarine-versions');
    this._versions.setAttribute('aria-label', 'Versions, newest first');
    this._compare = el('div', 'jp-SubmarineHistory-compare');
    this._diff = el('div', 'jp-SubmarineDiff', undefined, 'submarine-diff');
    for (const node of [this._head, this._message, this._compare, this._diff, this._versions]) {
      this.node.appendChild(node);
    }
    this._renderHead();
  }

  /** The file shown (its path in the file browser), or null. */
  get path(): string | null {
    return this._path;
  }

  get versions(): IVersion[] {
    return this._items;
  }

  /**
   * Show the history of `path` (reloading it if it is shown already and
   * `force` is set).
   */
  async setFile(path: string | null, force = false): Promise<void> {
    const clean = path ? path.replace(/^\/+/, '') : null;
    if (clean === this._path && !force) {
      return;
    }
    this._path = clean;
    this._items = [];
    clear(this._diff);
    clear(this._message);
    this._renderHead();
    await this.refresh();
  }

  /** Fetch the versions again. */
  async refresh(): Promise<void> {
    const path = this._path;
    clear(this._versions);
    clear(this._compare);
    if (!path) {
      return;
    }
    const call = ++this._calls;
    this._versions.appendChild(el('li', 'jp-SubmarinePanel-loading', 'Loading…'));
    try {
      const me = await this._options.api.me();
      const where = spaceOf(path, me.name);
      const items = await this._options.api.listVersions(where.space, where.path);
      if (call !== this._calls || path !== this._path) {
        return;
      }
      this._items = items;
    } catch (err) {
      if (call !== this._calls) {
        return;
      }
      clear(this._versions);
      const status = (err as { status?: number }).status;
      if (status === 404) {
        this._versions.appendChild(
          el(
            'li',
            'jp-SubmarinePanel-empty',
            'No versions yet: each save of this file will be one.',
            'submarine-no-versions'
          )
        );
      } else {
        this._versions.appendChild(errorBox(err));
      }
      return;
    }
    this._renderVersions();
  }

  /**
   * Show the diff between versions `a` (older) and `b` (newer).
   */
  async showDiff(a: number, b: number): Promise<void> {
    const path = this._path;
    if (!path) {
      return;
    }
    clear(this._diff);
    this._diff.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…'));
    try {
      const me = await this._options.api.me();
      const where = spaceOf(path, me.name);
      const ignoreOutputs = this._ignoreOutputs?.checked ?? false;
      const reply: IDiffReply = await this._options.api.diff(where.space, where.path, a, b, {
        ignoreOutputs
      });
      let changes: ICellChange[] | null = null;
      if (reply.a?.format === 'notebook' && reply.diff !== undefined) {
        const [va, vb] = await Promise.all([
          this._options.api.fileContent(where.space, where.path, a),
          this._options.api.fileContent(where.space, where.path, b)
        ]);
        changes = cellChanges(va.content as INotebookJSON, vb.content as INotebookJSON, reply.diff);
      }
      if (path !== this._path) {
        return;
      }
      clear(this._diff);
      const title = el('h3', 'jp-SubmarinePanel-label', `Version ${a} → version ${b}`);
      this._diff.appendChild(title);
      const unit = changes ? 'cells' : 'lines';
      this._diff.appendChild(
        el(
          'p',
          'jp-SubmarineDiff-summary',
          summaryText(reply.summary ?? {}, unit),
          'submarine-diff-summary'
        )
      );
      if (changes) {
        const other = notebookKeysChanged(reply.diff);
        if (other.length) {
          this._diff.appendChild(
            el('p', 'jp-SubmarineDiff-note', `Notebook ${other.join(', ')} changed too.`)
          );
        }
        this._diff.appendChild(renderNotebookDiff(changes));
      } else if (reply.text) {
        this._diff.appendChild(renderTextDiff(reply.text));
      }
    } catch (err) {
      clear(this._diff);
      this._diff.appendChild(errorBox(err));
    }
  }

  /**
   * Make version `number` the newest again (after asking).
   */
  async restore(number: number): Promise<void> {
    const path = this._path;
    if (!path) {
      return;
    }
    const newest = this._items[0]?.number;
    const ok = await this._options.confirm(
      'Restore this version?',
      `Version ${number} of ${path} becomes the newest version${newest ? ` (after version ${newest})` : ''}; ` +
        'no version is lost. Unsaved changes in an open copy of the file are dropped.',
      'Restore'
    );
    if (!ok) {
      return;
    }
    clear(this._message);
    try {
      if (restoreRoute(path) === 'session') {
        await this._options.restoreInSession(path, number);
      } else {
        const me = await this._options.api.me();
        const where = spaceOf(path, me.name);
        await this._options.api.restore(
          where.space,
          where.path,
          number,
          `Restored version ${number} from JupyterLab`
        );
        await this._options.reloadOpen(path);
      }
      await this.refresh();
      const latest = this._items[0]?.number;
      this._message.appendChild(
        el(
          'p',
          'jp-SubmarineHistory-done',
          `Restored version ${number}${latest ? ` as version ${latest}` : ''}.`,
          'submarine-restored'
        )
      );
    } catch (err) {
      this._message.appendChild(errorBox(err));
    }
  }

  /**
   * Follow the document in the main area (called when it changes).
   */
  follow(path: string): void {
    this._followed = path;
    void this.setFile(path);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    const current = this._options.currentPath();
    if (current && current !== this._followed) {
      this.follow(current);
    }
  }

  private _renderHead(): void {
    clear(this._head);
    if (!this._path) {
      this._head.appendChild(
        el(
          'p',
          'jp-SubmarinePanel-empty',
          'Open a notebook or a file (or choose Show History on one in the file browser) to see its versions.',
          'submarine-history-empty'
        )
      );
      return;
    }
    const row = el('div', 'jp-SubmarineHistory-file');
    row.appendChild(el('span', 'jp-SubmarinePanel-label', 'History of'));
    row.appendChild(el('code', 'jp-SubmarineHistory-path', this._path, 'submarine-history-path'));
    this._head.appendChild(row);
  }

  private _renderVersions(): void {
    clear(this._versions);
    const items = this._items;
    if (items.length === 0) {
      this._versions.appendChild(
        el(
          'li',
          'jp-SubmarinePanel-empty',
          'No versions yet: each save of this file will be one.',
          'submarine-no-versions'
        )
      );
      return;
    }
    items.forEach((v, i) => {
      const li = el(
        'li',
        'jp-SubmarineHistory-version',
        undefined,
        `submarine-version-${v.number}`
      );
      const line = el('div', 'jp-SubmarineHistory-versionLine');
      line.appendChild(el('span', 'jp-SubmarineHistory-number', `v${v.number}`));
      line.appendChild(el('span', `jp-SubmarineHistory-action jp-mod-${v.action}`, v.action));
      line.appendChild(el('span', 'jp-SubmarineHistory-author', v.author));
      const when = el('span', 'jp-SubmarineHistory-when', ago(v.created_at));
      when.title = new Date(v.created_at).toLocaleString();
      line.appendChild(when);
      if (v.action !== 'delete') {
        line.appendChild(el('span', 'jp-SubmarineHistory-size', size(v.size)));
      }
      li.appendChild(line);
      if (v.message) {
        li.appendChild(el('div', 'jp-SubmarineHistory-note', v.message));
      }
      if (i > 0 && v.action !== 'delete') {
        const restore = button('Restore', () => void this.restore(v.number), {
          testid: `submarine-restore-${v.number}`,
          title: `Make version ${v.number} the newest again`
        });
        restore.setAttribute('aria-label', `Restore version ${v.number}`);
        li.appendChild(restore);
      }
      if (i === 0) {
        li.appendChild(el('span', 'jp-SubmarineHistory-latest', 'newest'));
      }
      this._versions.appendChild(li);
    });

    // compare
    const usable = items.filter(v => v.action !== 'delete');
    clear(this._compare);
    if (usable.length < 2) {
      return;
    }
    const select = (testid: string, label: string, value: number) => {
      const s = el('select', 'jp-SubmarinePanel-select', undefined, testid);
      s.setAttribute('aria-label', label);
      for (const v of usable) {
        const o = el('option', '', `v${v.number}`);
        o.value = String(v.number);
        s.appendChild(o);
      }
      s.value = String(value);
      return s;
    };
    const a = select('submarine-diff-a', 'Older version', usable[1].number);
    const b = select('submarine-diff-b', 'Newer version', usable[0].number);
    const row = el('div', 'jp-SubmarinePanel-toolbar');
    row.appendChild(el('span', 'jp-SubmarinePanel-label', 'Compare'));
    row.appendChild(a);
    row.appendChild(el('span', '', 'with'));
    row.appendChild(b);
    this._compare.appendChild(row);
    const row2 = el('div', 'jp-SubmarinePanel-toolbar');
    const wrap = el('label', 'jp-SubmarinePanel-check');
    this._ignoreOutputs = el('input', '', undefined, 'submarine-diff-ignore-outputs');
    this._ignoreOutputs.type = 'checkbox';
    wrap.appendChild(this._ignoreOutputs);
    wrap.appendChild(document.createTextNode(' Ignore outputs'));
    row2.appendChild(wrap);
    row2.appendChild(
      button(
        'Show diff',
        () => {
          const x = Number(a.value);
          const y = Number(b.value);
          void this.showDiff(Math.min(x, y), Math.max(x, y));
        },
        { testid: 'submarine-diff-show', accent: true }
      )
    );
    this._compare.appendChild(row2);
  }

  private _options: HistorySection.IOptions;
  private _path: string | null = null;
  private _followed: string | null = null;
  private _items: IVersion[] = [];
  private _calls = 0;
  private _head: HTMLElement;
  private _message: HTMLElement;
  private _versions: HTMLElement;
  private _compare: HTMLElement;
  private _diff: HTMLElement;
  private _ignoreOutputs: HTMLInputElement | null = null;
}

export namespace HistorySection {
  export interface IOptions {
    api: SubmarineAPI;
    /** The path of the document in the main area, if any. */
    currentPath: () => string | null;
    /** Restore a version of a session file: written back, recorded, reloaded. */
    restoreInSession: (path: string, version: number) => Promise<void>;
    /** Reload the open copies of a file (after a restore by the platform). */
    reloadOpen: (path: string) => Promise<void>;
    /** Ask before doing something. */
    confirm: (title: string, body: string, accept: string) => Promise<boolean>;
  }
}
