/**
 * The Experiments tab: the runs of your teams (live), one run's details (live
 * status, logs, metric charts, kill and rerun), and the submit form.
 */
import type { Message } from '@lumino/messaging';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

import {
  API_NAMESPACE,
  type IExperiment,
  type IFileEntry,
  type IMetricPoint,
  RUN_STATUSES,
  type SubmarineAPI,
  isFinal,
  withQuery
} from './api';
import { renderChart, formatNumber } from './chart';
import type { Config } from './config';
import { LogBuffer } from './logs';
import { renderSparkSql } from './sparksql';
import { type ISubmitPrefill, SubmitForm } from './submit';
import {
  Poller,
  ago,
  button,
  clear,
  duration,
  el,
  errorBox,
  errorText,
  keepFocus,
  size
} from './util';

/** A status badge: text plus a class per status (colours from the theme). */
export function statusBadge(status: string, testid?: string): HTMLElement {
  const badge = el(
    'span',
    `jp-SubmarineStatus jp-SubmarineStatus-${status.replace(/[^a-z_]/g, '')}`,
    status,
    testid
  );
  badge.setAttribute('data-status', status);
  return badge;
}

/**
 * Watches runs until they end, whether or not the panel is shown, and calls
 * `onFinished` once for each (the extension shows a notification).
 */
export class RunWatcher {
  constructor(
    private readonly api: SubmarineAPI,
    config: Config,
    private readonly onFinished: (run: IExperiment) => void
  ) {
    this._poller = new Poller(
      () => this._check(),
      () => this._runs.size > 0,
      config.intervalMs
    );
    config.onChange(() => (this._poller.interval = config.intervalMs));
  }

  /** Ids of the runs watched. */
  get ids(): number[] {
    return Array.from(this._runs.keys());
  }

  has(id: number): boolean {
    return this._runs.has(id);
  }

  watch(run: Pick<IExperiment, 'id' | 'name' | 'status'>): void {
    if (isFinal(run.status)) {
      return;
    }
    this._runs.set(run.id, run.name);
    this._poller.start();
    this._emit();
  }

  unwatch(id: number): void {
    this._runs.delete(id);
    this._emit();
  }

  /** Tell the watcher about a run's status seen elsewhere (saves a request). */
  seen(run: IExperiment): void {
    if (this._runs.has(run.id) && isFinal(run.status)) {
      this._runs.delete(run.id);
      this._emit();
      this.onFinished(run);
    }
  }

  onChange(listener: () => void): () => void {
    this._listeners.push(listener);
    return () => {
      this._listeners = this._listeners.filter(l => l !== listener);
    };
  }

  /** Check every watched run now (tests; the poller does it every interval). */
  async check(): Promise<void> {
    await this._check();
  }

  dispose(): void {
    this._poller.stop();
    this._runs.clear();
    this._listeners = [];
  }

  private async _check(): Promise<void> {
    for (const id of Array.from(this._runs.keys())) {
      try {
        this.seen(await this.api.getExperiment(id));
      } catch (err) {
        if ((err as { status?: number }).status === 404) {
          this.unwatch(id); // deleted, or no longer yours to see
        }
      }
    }
  }

  private _emit(): void {
    for (const l of this._listeners) {
      l();
    }
  }

  private _runs = new Map<number, string>();
  private _listeners: (() => void)[] = [];
  private _poller: Poller;
}

const STATUS_FILTERS: ReadonlyArray<string> = RUN_STATUSES;

/**
 * The list of runs: status filters, "mine only", live updates while shown.
 */
export class RunList extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly config: Config,
    private readonly actions: { open: (id: number) => void; submit: () => void }
  ) {
    super();
    this.addClass('jp-SubmarineRuns');
    const toolbar = el('div', 'jp-SubmarinePanel-toolbar');
    toolbar.appendChild(
      button('New run', () => this.actions.submit(), {
        accent: true,
        testid: 'submarine-new-run',
        title: 'Submit a template, a script or a notebook as an experiment run'
      })
    );
    const mine = el('label', 'jp-SubmarinePanel-check');
    this._mine = el('input', '', undefined, 'submarine-filter-mine');
    this._mine.type = 'checkbox';
    this._mine.addEventListener('change', () => void this.refresh());
    mine.appendChild(this._mine);
    mine.appendChild(document.createTextNode(' Mine only'));
    toolbar.appendChild(mine);
    this.node.appendChild(toolbar);

    this._filters = el('div', 'jp-SubmarinePanel-chips', undefined, 'submarine-status-filters');
    this._filters.setAttribute('role', 'group');
    this._filters.setAttribute('aria-label', 'Show runs by status');
    this.node.appendChild(this._filters);
    this._renderFilters();

    this._error = el('div', '');
    this._list = el('ul', 'jp-SubmarineRuns-list', undefined, 'submarine-runs');
    this._list.setAttribute('aria-label', 'Experiment runs');
    this._footer = el('div', 'jp-SubmarineRuns-footer');
    this.node.appendChild(this._error);
    this.node.appendChild(this._list);
    this.node.appendChild(this._footer);

    this._poller = new Poller(
      () => this._load(),
      () => this.isVisible,
      config.intervalMs
    );
    config.onChange(() => (this._poller.interval = config.intervalMs));
  }

  /** The statuses shown (none: all). */
  get statuses(): string[] {
    return Array.from(this._statuses);
  }

  set statuses(value: string[]) {
    this._statuses = new Set(value);
    this._renderFilters();
  }

  /** The runs shown. */
  get items(): IExperiment[] {
    return this._items;
  }

  /** Fetch the runs now. */
  async refresh(): Promise<void> {
    await this._poller.refresh();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._poller.start();
    void this.refresh();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._poller.stop();
  }

  dispose(): void {
    this._poller.stop();
    super.dispose();
  }

  private _renderFilters(): void {
    clear(this._filters);
    const chip = (label: string, pressed: boolean, onClick: () => void, testid: string) => {
      const b = el('button', 'jp-SubmarinePanel-chip', label, testid);
      b.type = 'button';
      b.setAttribute('aria-pressed', String(pressed));
      b.addEventListener('click', onClick);
      this._filters.appendChild(b);
    };
    chip(
      'All',
      this._statuses.size === 0,
      () => {
        this._statuses.clear();
        this._renderFilters();
        void this.refresh();
      },
      'submarine-filter-all'
    );
    for (const status of STATUS_FILTERS) {
      chip(
        status,
        this._statuses.has(status),
        () => {
          if (this._statuses.has(status)) {
            this._statuses.delete(status);
          } else {
            this._statuses.add(status);
          }
          this._renderFilters();
          (
            this._filters.querySelector(
              `[data-testid="submarine-filter-${status}"]`
            ) as HTMLElement | null
          )?.focus();
          void this.refresh();
        },
        `submarine-filter-${status}`
      );
    }
  }

  private async _load(): Promise<void> {
    const limit = this.config.value.pageSize * this._pages;
    let owner: string | undefined;
    if (this._mine.checked) {
      owner = (await this.api.me()).name;
    }
    try {
      const page = await this.api.listExperiments({
        status: this.statuses,
        owner,
        limit: Math.min(500, limit),
        metrics: '1'
      });
      this._items = page.items;
      this._next = page.next;
      clear(this._error);
    } catch (err) {
      clear(this._error);
      this._error.appendChild(errorBox(err));
      return;
    }
    this._render();
  }

  private _render(): void {
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.runId;
    clear(this._list);
    for (const run of this._items) {
      const item = el('li', 'jp-SubmarineRuns-item', undefined, `submarine-run-${run.id}`);
      item.tabIndex = 0;
      item.dataset.runId = String(run.id);
      item.setAttribute('role', 'button');
      item.setAttribute('aria-label', `Run ${run.id} ${run.name}, ${run.status}`);
      const first = el('div', 'jp-SubmarineRuns-line');
      first.appendChild(statusBadge(run.status));
      first.appendChild(el('span', 'jp-SubmarineRuns-name', `#${run.id} ${run.name}`));
      item.appendChild(first);
      const bits = [run.team, run.owner, ago(run.created_at)];
      if (run.duration) {
        bits.push(duration(run.duration));
      }
      const metrics = Object.entries(run.metrics ?? {}).slice(0, 2);
      for (const [k, v] of metrics) {
        bits.push(`${k} ${formatNumber(v)}`);
      }
      item.appendChild(el('div', 'jp-SubmarineRuns-meta', bits.filter(Boolean).join(' · ')));
      const open = () => this.actions.open(run.id);
      item.addEventListener('click', open);
      item.addEventListener('keydown', (e: KeyboardEvent) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
      this._list.appendChild(item);
      if (focused === String(run.id)) {
        item.focus();
      }
    }
    clear(this._footer);
    if (this._items.length === 0) {
      this._footer.appendChild(
        el(
          'p',
          'jp-SubmarinePanel-empty',
          this._statuses.size || this._mine.checked
            ? 'No runs match these filters.'
            : 'No runs yet: submit one with New run.',
          'submarine-no-runs'
        )
      );
    }
    if (this._next !== null && this._items.length < 500) {
      this._footer.appendChild(
        button(
          'Show more',
          () => {
            this._pages += 1;
            void this.refresh();
          },
          { testid: 'submarine-more-runs' }
        )
      );
    }
  }

  private _mine: HTMLInputElement;
  private _filters: HTMLElement;
  private _error: HTMLElement;
  private _list: HTMLElement;
  private _footer: HTMLElement;
  private _statuses = new Set<string>();
  private _items: IExperiment[] = [];
  private _next: number | null = null;
  private _pages = 1;
  private _poller: Poller;
}

/**
 * One run: status (live), facts, parameters, metrics with a chart, logs
 * (followed while it runs), Kill, Rerun and Watch.
 */
export class RunDetail extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly config: Config,
    private readonly watcher: RunWatcher,
    private readonly actions: {
      back: () => void;
      open: (id: number) => void;
      confirm: (title: string, body: string, accept: string) => Promise<boolean>;
      /** More buttons for a run's page (other plugins: Register as model…). */
      extra?: (run: IExperiment) => HTMLElement[];
    }
  ) {
    super();
    this.addClass('jp-SubmarineRun');
    this._poller = new Poller(
      () => this._tick(),
      () => this.isVisible,
      config.intervalMs
    );
    config.onChange(() => (this._poller.interval = config.intervalMs));
    this._unwatch = watcher.onChange(() => this._renderWatch());
  }

  /** The run shown (null before the first fetch). */
  get run(): IExperiment | null {
    return this._run;
  }

  /** The log text shown. */
  get logText(): string {
    return this._log.text;
  }

  /**
   * Show run `id` (from scratch).
   */
  async load(id: number): Promise<void> {
    this._id = id;
    this._run = null;
    this._logName = undefined;
    this._metricKey = undefined;
    this._finalDone = false;
    this._sawFinal = false;
    this._chartDone = null;
    this._log = new LogBuffer(this.config.value.logMaxChars);
    this._build();
    this._poller.start();
    await this._poller.refresh();
  }

  async refresh(): Promise<void> {
    this._finalDone = false;
    await this._poller.refresh();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._id !== null) {
      this._poller.start();
    }
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._poller.stop();
  }

  dispose(): void {
    this._poller.stop();
    this._unwatch();
    super.dispose();
  }

  private _build(): void {
    clear(this.node);
    const nav = el('div', 'jp-SubmarinePanel-toolbar');
    nav.appendChild(
      button('← Runs', () => this.actions.back(), {
        testid: 'submarine-back',
        title: 'Back to the list of runs'
      })
    );
    this.node.appendChild(nav);
    this._head = el('div', 'jp-SubmarineRun-head');
    this._actionsRow = el('div', 'jp-SubmarinePanel-toolbar');
    this._message = el('div', 'jp-SubmarineRun-message');
    this._message.setAttribute('aria-live', 'polite');
    this._facts = el('dl', 'jp-SubmarineRun-facts', undefined, 'submarine-run-facts');
    this._params = el('div', 'jp-SubmarineRun-params');
    this._metrics = el('div', 'jp-SubmarineRun-metrics', undefined, 'submarine-run-metrics');
    this._chart = el('div', 'jp-SubmarineRun-chart', undefined, 'submarine-run-chart');
    this._artifacts = el('div', 'jp-SubmarineRun-artifacts', undefined, 'submarine-run-artifacts');
    this._sparkSql = el('div', 'jp-SubmarineRun-sparkSql', undefined, 'submarine-run-spark-sql');
    const logHead = el('div', 'jp-SubmarineRun-logHead');
    logHead.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Log'));
    this._logSelect = el('select', 'jp-SubmarinePanel-select', undefined, 'submarine-log-name');
    this._logSelect.setAttribute('aria-label', 'Which log');
    this._logSelect.addEventListener('change', () => {
      this._logName = this._logSelect.value;
      this._log.reset();
      this._logPre.textContent = '';
      void this._poller.refresh();
    });
    logHead.appendChild(this._logSelect);
    this._logState = el('span', 'jp-SubmarineRun-logState', '', 'submarine-log-state');
    logHead.appendChild(this._logState);
    this._logPre = el('pre', 'jp-SubmarineRun-log', '', 'submarine-log');
    this._logPre.tabIndex = 0;
    this._logPre.setAttribute('aria-label', 'Run log');
    for (const node of [
      this._head,
      this._actionsRow,
      this._message,
      this._facts,
      this._params,
      this._metrics,
      this._chart,
      this._sparkSql,
      this._artifacts,
      logHead,
      this._logPre
    ]) {
      this.node.appendChild(node);
    }
    this._head.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…'));
  }

  private async _tick(): Promise<void> {
    const id = this._id;
    if (id === null || this._finalDone) {
      return;
    }
    let run: IExperiment;
    try {
      run = await this.api.getExperiment(id);
    } catch (err) {
      if (id === this._id) {
        clear(this._head);
        this._head.appendChild(errorBox(err));
      }
      return;
    }
    if (id !== this._id) {
      return;
    }
    this._run = run;
    this.watcher.seen(run);
    keepFocus(this.node, () => this._renderRun(run));
    await Promise.all([
      this._readLog(run),
      this._loadChart(run),
      this._loadArtifacts(run),
      renderSparkSql(this.api, run, this._sparkSql)
    ]);
    // once more after it ended (the last lines and points), then nothing changes
    if (isFinal(run.status) && this._sawFinal) {
      this._finalDone = true;
    }
    this._sawFinal = isFinal(run.status);
  }

  private _renderRun(run: IExperiment): void {
    clear(this._head);
    const title = el(
      'h3',
      'jp-SubmarineRun-title',
      `#${run.id} ${run.name}`,
      'submarine-run-title'
    );
    this._head.appendChild(title);
    this._head.appendChild(statusBadge(run.status, 'submarine-run-status'));
    if (run.reason) {
      this._head.appendChild(el('p', 'jp-SubmarineRun-reason', run.reason, 'submarine-run-reason'));
    }

    clear(this._actionsRow);
    if (!isFinal(run.status)) {
      const kill = button('Kill', () => void this._kill(run), {
        testid: 'submarine-kill',
        title: 'Stop this run (it ends as killed)',
        className: 'jp-mod-warn'
      });
      kill.disabled = run.kill_requested === true;
      this._actionsRow.appendChild(kill);
    }
    this._actionsRow.appendChild(
      button('Rerun', () => void this._rerun(run), {
        testid: 'submarine-rerun',
        title: 'Submit the same spec again, as a new run of yours'
      })
    );
    this._watchButton = null;
    if (!isFinal(run.status)) {
      this._watchButton = button('', () => this._toggleWatch(run), { testid: 'submarine-watch' });
      this._actionsRow.appendChild(this._watchButton);
      this._renderWatch();
    }
    for (const node of this.actions.extra?.(run) ?? []) {
      this._actionsRow.appendChild(node);
    }

    clear(this._facts);
    const fact = (label: string, value: string | null | undefined) => {
      if (value === null || value === undefined || value === '') {
        return;
      }
      this._facts.appendChild(el('dt', '', label));
      this._facts.appendChild(el('dd', '', value));
    };
    const env = (run.spec?.environment as { profile?: string } | undefined)?.profile;
    fact('Team', run.team);
    fact('Owner', run.owner);
    fact('Template', run.template ?? undefined);
    fact('Kind', run.kind);
    fact('Environment', env);
    fact('Created', run.created_at ? new Date(run.created_at).toLocaleString() : '');
    fact('Duration', duration(run.duration));
    fact(
      'Exit code',
      run.exit_code === null || run.exit_code === undefined ? '' : String(run.exit_code)
    );
    fact('Tags', (run.tags ?? []).join(', '));
    fact('Rerun of', run.rerun_of ? `#${run.rerun_of}` : '');
    fact('Parent', run.parent_id ? `#${run.parent_id}` : '');

    clear(this._params);
    const params = { ...(run.parameters ?? {}) } as Record<string, unknown>;
    const logged = run.params ?? {};
    const entries = Object.keys(params).length ? Object.entries(params) : Object.entries(logged);
    if (entries.length) {
      this._params.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Parameters'));
      const table = el('table', 'jp-SubmarinePanel-table', undefined, 'submarine-run-params');
      for (const [k, v] of entries) {
        const tr = el('tr', '');
        tr.appendChild(el('th', '', k));
        tr.appendChild(el('td', '', typeof v === 'string' ? v : JSON.stringify(v)));
        table.appendChild(tr);
      }
      this._params.appendChild(table);
    }

    clear(this._metrics);
    const metrics = Object.entries(run.metrics ?? {});
    this._metrics.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Metrics'));
    if (metrics.length === 0) {
      this._metrics.appendChild(
        el(
          'p',
          'jp-SubmarinePanel-empty',
          isFinal(run.status) ? 'This run logged no metrics.' : 'No metrics yet.'
        )
      );
    } else {
      if (!this._metricKey || !(this._metricKey in (run.metrics ?? {}))) {
        this._metricKey = metrics[0][0];
      }
      const list = el('ul', 'jp-SubmarineRun-metricList');
      list.setAttribute('aria-label', 'Latest metric values; choose one to chart it');
      for (const [k, v] of metrics) {
        const li = el('li', '');
        const b = el('button', 'jp-SubmarinePanel-metric', undefined, `submarine-metric-${k}`);
        b.type = 'button';
        b.setAttribute('aria-pressed', String(k === this._metricKey));
        b.appendChild(el('span', 'jp-SubmarinePanel-metricKey', k));
        b.appendChild(el('span', 'jp-SubmarinePanel-metricValue', formatNumber(v)));
        b.title = `${k} = ${v}; show its chart`;
        b.addEventListener('click', () => {
          this._metricKey = k;
          keepFocus(this.node, () => this._renderRun(run));
          void this._loadChart(run, true);
        });
        li.appendChild(b);
        list.appendChild(li);
      }
      this._metrics.appendChild(list);
    }

    const names = run.logs ?? [];
    if (!this._logName && names.length) {
      this._logName = names[0];
    }
    clear(this._logSelect);
    for (const name of names.length ? names : ['main-0']) {
      const option = el('option', '', name);
      option.value = name;
      option.selected = name === this._logName;
      this._logSelect.appendChild(option);
    }
    this._logSelect.hidden = names.length <= 1;
    this._logState.textContent = isFinal(run.status)
      ? ''
      : run.status === 'pending'
        ? 'waiting to start…'
        : 'following…';
  }

  /** The files the run kept in its artifacts folder, each a download link. */
  private async _loadArtifacts(run: IExperiment): Promise<void> {
    let files: IFileEntry[];
    try {
      files = await this.api.listArtifacts(run.id);
    } catch {
      return; // e.g. a run of a backend without a local folder: nothing to list
    }
    if (run.id !== this._id) {
      return;
    }
    clear(this._artifacts);
    this._artifacts.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Artifacts'));
    if (!files.length) {
      this._artifacts.appendChild(
        el(
          'p',
          'jp-SubmarinePanel-empty',
          isFinal(run.status) ? 'This run kept no artifacts.' : 'No artifacts yet.'
        )
      );
      return;
    }
    const list = el('ul', 'jp-SubmarineRun-artifactList');
    const base = `${this.api.settings.baseUrl.replace(/\/+$/, '')}/${API_NAMESPACE}`;
    for (const f of files) {
      const li = el('li', '');
      const a = el('a', 'jp-SubmarineRun-artifact', f.path, `submarine-artifact-${f.path}`);
      a.href = withQuery(`${base}/experiments/${run.id}/artifacts`, { path: f.path });
      a.download = f.path.split('/').pop() ?? f.path;
      li.appendChild(a);
      li.appendChild(el('span', 'jp-SubmarineRun-artifactSize', ` ${size(f.size)}`));
      list.appendChild(li);
    }
    this._artifacts.appendChild(list);
  }

  private _renderWatch(): void {
    if (!this._watchButton || !this._run) {
      return;
    }
    const watched = this.watcher.has(this._run.id);
    this._watchButton.textContent = watched ? 'Watching' : 'Watch';
    this._watchButton.setAttribute('aria-pressed', String(watched));
    this._watchButton.title = watched
      ? 'You get a notification when it ends; click to stop watching'
      : 'Get a notification when it ends';
  }

  private _toggleWatch(run: IExperiment): void {
    if (this.watcher.has(run.id)) {
      this.watcher.unwatch(run.id);
    } else {
      this.watcher.watch(run);
    }
  }

  private async _readLog(run: IExperiment): Promise<void> {
    if (run.status === 'pending' && !(run.logs ?? []).length) {
      return;
    }
    const id = run.id;
    const name = this._logName;
    try {
      // read until nothing more comes: a big log arrives in several chunks
      for (let i = 0; i < 20; i++) {
        const chunk = await this.api.readLog(id, name, this._log.offset);
        if (id !== this._id || name !== this._logName) {
          return;
        }
        if (chunk.length === 0) {
          break;
        }
        const atBottom =
          this._logPre.scrollTop + this._logPre.clientHeight >= this._logPre.scrollHeight - 4;
        const added = this._log.append(chunk);
        if (this._log.truncated) {
          this._logPre.textContent = this._log.text;
        } else {
          this._logPre.appendChild(document.createTextNode(added));
        }
        if (atBottom) {
          this._logPre.scrollTop = this._logPre.scrollHeight;
        }
      }
    } catch (err) {
      if ((err as { status?: number }).status !== 404 || isFinal(run.status)) {
        this._logState.textContent = errorText(err);
      }
    }
  }

  private async _loadChart(run: IExperiment, force = false): Promise<void> {
    const key = this._metricKey;
    if (!key) {
      clear(this._chart);
      return;
    }
    if (!force && this._chartDone === `${run.id}:${key}`) {
      return;
    }
    let points: IMetricPoint[];
    try {
      points = await this.api.metricHistory(run.id, key);
    } catch (err) {
      clear(this._chart);
      this._chart.appendChild(errorBox(err));
      return;
    }
    if (run.id !== this._id || key !== this._metricKey) {
      return;
    }
    clear(this._chart);
    const caption = el('div', 'jp-SubmarineRun-chartCaption', `${key} by step`);
    this._chart.appendChild(caption);
    this._chart.appendChild(renderChart(key, points));
    this._chartDone = isFinal(run.status) ? `${run.id}:${key}` : null;
  }

  private async _kill(run: IExperiment): Promise<void> {
    const ok = await this.actions.confirm(
      'Kill this run?',
      `Run ${run.id} (${run.name}) is stopped and ends as killed; its logs, metrics and artifacts so far are kept.`,
      'Kill'
    );
    if (!ok) {
      return;
    }
    this._message.textContent = '';
    try {
      const updated = await this.api.killExperiment(run.id);
      this._message.textContent = `Kill asked for run ${updated.id}; it ends as killed.`;
    } catch (err) {
      this._message.appendChild(errorBox(err));
    }
    await this._poller.refresh();
  }

  private async _rerun(run: IExperiment): Promise<void> {
    this._message.textContent = '';
    try {
      const fresh = await this.api.rerunExperiment(run.id);
      this.watcher.watch(fresh);
      this.actions.open(fresh.id);
    } catch (err) {
      this._message.appendChild(errorBox(err));
    }
  }

  private _id: number | null = null;
  private _run: IExperiment | null = null;
  private _logName: string | undefined;
  private _metricKey: string | undefined;
  private _chartDone: string | null = null;
  private _finalDone = false;
  private _sawFinal = false;
  private _log = new LogBuffer();
  private _poller: Poller;
  private _unwatch: () => void;
  private _watchButton: HTMLButtonElement | null = null;
  private _head = el('div', '');
  private _actionsRow = el('div', '');
  private _message = el('div', '');
  private _facts = el('dl', '');
  private _params = el('div', '');
  private _metrics = el('div', '');
  private _chart = el('div', '');
  private _artifacts = el('div', '');
  private _sparkSql = el('div', '');
  private _logSelect = el('select', '');
  private _logState = el('span', '');
  private _logPre = el('pre', '');
}

/**
 * The Experiments tab: the list, a run, or the submit form.
 */
export class ExperimentsSection extends Widget {
  constructor(options: ExperimentsSection.IOptions) {
    super();
    this.addClass('jp-SubmarineExperiments');
    this.watcher = options.watcher;
    this.list = new RunList(options.api, options.config, {
      open: id => void this.showRun(id),
      submit: () => void this.showSubmit()
    });
    this.detail = new RunDetail(options.api, options.config, options.watcher, {
      back: () => this.showList(),
      open: id => void this.showRun(id),
      confirm: options.confirm ?? (async () => true),
      extra: options.runActions
    });
    this.form = new SubmitForm({
      api: options.api,
      cancel: () => this.showList(),
      submitted: run => {
        options.watcher.watch(run);
        void this.showRun(run.id);
      }
    });
    const stack = new Panel();
    stack.addWidget(this.list);
    stack.addWidget(this.detail);
    stack.addWidget(this.form);
    const layout = new PanelLayout();
    layout.addWidget(stack);
    this.layout = layout;
    this._show(this.list);
  }

  readonly watcher: RunWatcher;
  readonly list: RunList;
  readonly detail: RunDetail;
  readonly form: SubmitForm;

  /** Which view is shown: 'list', 'run' or 'submit'. */
  get view(): string {
    return this._view;
  }

  showList(): void {
    this._show(this.list);
  }

  async showRun(id: number): Promise<void> {
    this._show(this.detail);
    await this.detail.load(id);
  }

  async showSubmit(prefill: ISubmitPrefill = {}): Promise<void> {
    this._show(this.form);
    await this.form.open(prefill);
  }

  async refresh(): Promise<void> {
    if (this._view === 'run') {
      await this.detail.refresh();
    } else if (this._view === 'list') {
      await this.list.refresh();
    }
  }

  private _show(widget: Widget): void {
    for (const w of [this.list, this.detail, this.form]) {
      if (w === widget) {
        w.show();
      } else {
        w.hide();
      }
    }
    this._view = widget === this.list ? 'list' : widget === this.detail ? 'run' : 'submit';
  }

  private _view = 'list';
}

export namespace ExperimentsSection {
  export interface IOptions {
    api: SubmarineAPI;
    config: Config;
    watcher: RunWatcher;
    /** Ask before killing a run (default: do not ask). */
    confirm?: (title: string, body: string, accept: string) => Promise<boolean>;
    /** More buttons for a run's page (e.g. Register as model…). */
    runActions?: (run: IExperiment) => HTMLElement[];
  }
}
