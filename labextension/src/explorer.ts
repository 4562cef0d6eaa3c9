/**
 * The run explorer, in JupyterLab's main area: the runs table searched with
 * MLflow's filter syntax (server-side sort and paging, sweeps folded under
 * their parent), a compare view (overlaid metric charts, parallel coordinates,
 * param-vs-metric scatter, a diff table) drawn by JupyterLab's own Vega-Lite
 * renderer, and a run's artifacts as a tree with previews.
 */
import { MimeModel, type IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import {
  API_NAMESPACE,
  type IFileEntry,
  type IMetricPoint,
  type SubmarineAPI,
  requestAPI,
  requestBytes,
  withQuery
} from './api';
import { statusBadge } from './experiments';
import type { operations } from './schema';
import { button, clear, duration, el, errorBox, size } from './util';

/** JupyterLab's own Vega-Lite 5 renderer draws every chart. */
export const VEGALITE = 'application/vnd.vegalite.v5+json';

type Json<K extends keyof operations> = operations[K]['responses'] extends {
  200: { content: { 'application/json': infer J } };
}
  ? J
  : never;
export type ISearchPage = Json<'searchExperiments'>;
export type IRunRow = ISearchPage['items'][number];
export type ICompare = Json<'compareExperiments'>;

export interface ISearchQuery {
  filter?: string;
  order_by?: string[];
  max_results?: number;
  page_token?: string | null;
  columns?: string;
}

/** `GET experiments/search`: one page of the runs table. */
export function searchRuns(api: SubmarineAPI, query: ISearchQuery): Promise<ISearchPage> {
  const path = withQuery('experiments/search', {
    filter: query.filter,
    order_by: query.order_by,
    max_results: query.max_results,
    page_token: query.page_token ?? undefined,
    columns: query.columns
  });
  return requestAPI<ISearchPage>(path, { method: 'GET' }, api.settings);
}

/** Render a Vega-Lite spec into `host` with JupyterLab's renderer; returns it. */
export async function renderVegaLite(
  rendermime: IRenderMimeRegistry,
  host: HTMLElement,
  spec: Record<string, unknown>
): Promise<Widget> {
  clear(host);
  const renderer = rendermime.createRenderer(VEGALITE);
  host.appendChild(renderer.node);
  // SVG: crisp in screenshots, and each mark an element (hover, tests)
  const model = new MimeModel({
    data: { [VEGALITE]: spec as never },
    metadata: { [VEGALITE]: { embed_options: { renderer: 'svg' } } }
  });
  await renderer.renderModel(model);
  return renderer;
}

/** A number for a table cell. */
function fmt(value: unknown): string {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, '');
  }
  return value === undefined || value === null ? '' : String(value);
}

/** Exponential moving average (TensorBoard's smoothing), `weight` in [0, 1). */
export function smooth(values: number[], weight: number): number[] {
  if (weight <= 0) {
    return values.slice();
  }
  const out: number[] = [];
  let last = values.length ? values[0] : 0;
  for (const v of values) {
    last = last * weight + (1 - weight) * v;
    out.push(last);
  }
  return out;
}

// --- the runs table -------------------------------------------------------------------

export interface IExplorerActions {
  compare: (ids: number[]) => void;
  artifacts: (run: IRunRow) => void;
  /** Open a pipeline's DAG (rows of pipeline steps link to it). */
  pipeline?: (id: number) => void;
  /** Open TensorBoard over the selected runs' tfevents. */
  tensorboard?: (ids: number[]) => void;
}

const FIXED_COLUMNS: ReadonlyArray<[string, string, string | null]> = [
  // label, key, the order_by it sorts with
  ['Name', 'name', 'attributes.name'],
  ['Status', 'status', 'attributes.status'],
  ['Owner', 'owner', 'attributes.owner'],
  ['Started', 'started_at', 'attributes.start_time'],
  ['Duration', 'duration', null],
  ['Tags', 'tags', null]
];

/**
 * The runs table: a filter box (MLflow's syntax), sortable columns, a column
 * chooser, sweeps folded under their parent, rows selected for comparing.
 */
export class RunsTable extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly actions: IExplorerActions
  ) {
    super();
    this.addClass('jp-SubmarineExplorer');
    const bar = el('div', 'jp-SubmarineExplorer-bar');
    this._filter = el(
      'input',
      'jp-mod-styled jp-SubmarineExplorer-filter',
      undefined,
      'explorer-filter'
    );
    this._filter.placeholder = "metrics.accuracy > 0.9 and params.model = 'rf'";
    this._filter.setAttribute('aria-label', 'Filter runs (MLflow search syntax)');
    this._filter.addEventListener('keydown', e => {
      if (e.key === 'Enter') {
        void this.search();
      }
    });
    bar.appendChild(this._filter);
    bar.appendChild(
      button('Search', () => void this.search(), { accent: true, testid: 'explorer-search' })
    );
    const nest = el('label', 'jp-SubmarinePanel-check');
    this._nest = el('input', '', undefined, 'explorer-nest');
    this._nest.type = 'checkbox';
    this._nest.checked = true;
    this._nest.addEventListener('change', () => void this.search());
    nest.appendChild(this._nest);
    nest.appendChild(document.createTextNode(' Fold children'));
    nest.title = 'Without a filter, show top-level runs with their sweep/grid children folded';
    bar.appendChild(nest);
    this._compare = button('Compare', () => this.actions.compare(this.selected), {
      testid: 'explorer-compare',
      title: 'Compare the selected runs'
    });
    bar.appendChild(this._compare);
    this._tensorboard = button('TensorBoard', () => this.actions.tensorboard?.(this.selected), {
      testid: 'explorer-tensorboard',
      title: 'Open TensorBoard over the selected runs (those that wrote tfevents files)'
    });
    if (this.actions.tensorboard) {
      bar.appendChild(this._tensorboard);
    }
    this._columnsMenu = el(
      'details',
      'jp-SubmarineExplorer-columns',
      undefined,
      'explorer-columns'
    );
    this._columnsMenu.appendChild(el('summary', '', 'Columns'));
    bar.appendChild(this._columnsMenu);
    this.node.appendChild(bar);
    this._error = el('div', '');
    this.node.appendChild(this._error);
    this._table = el('table', 'jp-SubmarineExplorer-table', undefined, 'explorer-table');
    this.node.appendChild(this._table);
    const footer = el('div', 'jp-SubmarineExplorer-footer');
    this._count = el('span', '', '', 'explorer-count');
    footer.appendChild(this._count);
    this._more = button('Load more', () => void this._load(true), { testid: 'explorer-more' });
    footer.appendChild(this._more);
    this.node.appendChild(footer);
    this._updateCompare();
  }

  /** The filter expression (set it, then `search()`). */
  get filter(): string {
    return this._filter.value;
  }
  set filter(value: string) {
    this._filter.value = value;
  }

  /** The sort: `metrics.accuracy DESC`-style keys. */
  get orderBy(): string[] {
    return this._order.slice();
  }
  set orderBy(value: string[]) {
    this._order = value.slice();
  }

  get selected(): number[] {
    return Array.from(this._selected);
  }

  get rows(): IRunRow[] {
    return this._rows.slice();
  }

  async search(): Promise<void> {
    await this._load(false);
  }

  private _effectiveFilter(): string {
    const text = this._filter.value.trim();
    if (!text && this._nest.checked) {
      return 'attributes.parent_id IS NULL';
    }
    return text;
  }

  private async _load(more: boolean): Promise<void> {
    clear(this._error);
    try {
      const page = await searchRuns(this.api, {
        filter: this._effectiveFilter(),
        order_by: this._order,
        max_results: 100,
        page_token: more ? this._token : null
      });
      this._rows = more ? [...this._rows, ...page.items] : page.items;
      if (!more) {
        this._known.clear(); // the columns of what this search found
      }
      this._token = page.next_page_token ?? null;
      const keys = page.keys ?? {};
      for (const k of keys.params ?? []) {
        this._known.add(`params.${k}`);
      }
      for (const k of keys.metrics ?? []) {
        this._known.add(`metrics.${k}`);
      }
      if (!more) {
        this._children.clear();
      }
      this._render();
    } catch (err) {
      this._error.appendChild(errorBox(err, 'explorer-error'));
    }
  }

  private _visibleColumns(): string[] {
    return Array.from(this._known)
      .filter(c => !this._hidden.has(c))
      .sort((a, b) =>
        a.startsWith('params') === b.startsWith('params')
          ? a.localeCompare(b)
          : a.startsWith('params')
            ? -1
            : 1
      );
  }

  private _sortBy(key: string): void {
    const current = this._order[0] ?? '';
    const [name, dir] = current.split(/\s+/);
    const desc = name === key ? dir?.toUpperCase() !== 'DESC' : key.startsWith('metrics.');
    this._order = [`${key} ${desc ? 'DESC' : 'ASC'}`];
    void this.search();
  }

  private _renderColumnsMenu(): void {
    const menu = this._columnsMenu;
    while (menu.childNodes.length > 1) {
      menu.removeChild(menu.lastChild as ChildNode);
    }
    const list = el('div', 'jp-SubmarineExplorer-columnList');
    for (const c of Array.from(this._known).sort()) {
      const label = el('label', 'jp-SubmarinePanel-check');
      const box = el('input', '', undefined, `explorer-column-${c}`);
      box.type = 'checkbox';
      box.checked = !this._hidden.has(c);
      box.addEventListener('change', () => {
        if (box.checked) {
          this._hidden.delete(c);
        } else {
          this._hidden.add(c);
        }
        this._render();
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(` ${c}`));
      list.appendChild(label);
    }
    menu.appendChild(list);
  }

  private _render(): void {
    this._renderColumnsMenu();
    const table = this._table;
    clear(table);
    const columns = this._visibleColumns();
    const head = el('tr', '');
    head.appendChild(el('th', 'jp-SubmarineExplorer-select', ''));
    const sorted = (this._order[0] ?? '').split(/\s+/);
    const th = (label: string, sortKey: string | null): HTMLElement => {
      const cell = el('th', sortKey ? 'jp-SubmarineExplorer-sortable' : '', label);
      if (sortKey) {
        cell.setAttribute('data-sort', sortKey);
        cell.tabIndex = 0;
        cell.title = `Sort by ${sortKey}`;
        if (sorted[0] === sortKey) {
          const desc = (sorted[1] ?? '').toUpperCase() === 'DESC';
          cell.textContent = `${label} ${desc ? '▼' : '▲'}`;
          cell.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
        }
        cell.addEventListener('click', () => this._sortBy(sortKey));
        cell.addEventListener('keydown', e => e.key === 'Enter' && this._sortBy(sortKey));
      }
      head.appendChild(cell);
      return cell;
    };
    for (const [label, , sortKey] of FIXED_COLUMNS) {
      th(label, sortKey);
    }
    for (const c of columns) {
      th(c.replace(/^(params|metrics)\./, ''), c).setAttribute('data-column', c);
    }
    const thead = el('thead', '');
    thead.appendChild(head);
    table.appendChild(thead);
    const body = el('tbody', '');
    for (const row of this._rows) {
      body.appendChild(this._rowNode(row, columns, 0));
      const kids = this._children.get(row.id);
      if (kids) {
        for (const kid of kids) {
          body.appendChild(this._rowNode(kid, columns, 1));
        }
      }
    }
    table.appendChild(body);
    this._count.textContent = `${this._rows.length} run${this._rows.length === 1 ? '' : 's'}${this._token ? ' (more on the server)' : ''}`;
    this._more.disabled = !this._token;
    this._updateCompare();
  }

  private _rowNode(row: IRunRow, columns: string[], depth: number): HTMLTableRowElement {
    const tr = el(
      'tr',
      depth ? 'jp-SubmarineExplorer-child' : '',
      undefined,
      `explorer-row-${row.id}`
    );
    tr.setAttribute('data-run', String(row.id));
    const pick = el('td', 'jp-SubmarineExplorer-select');
    const box = el('input', '', undefined, `explorer-select-${row.id}`);
    box.type = 'checkbox';
    box.checked = this._selected.has(row.id);
    box.setAttribute('aria-label', `Select run ${row.name}`);
    box.addEventListener('change', () => {
      if (box.checked) {
        this._selected.add(row.id);
      } else {
        this._selected.delete(row.id);
      }
      this._updateCompare();
    });
    pick.appendChild(box);
    tr.appendChild(pick);
    const name = el('td', 'jp-SubmarineExplorer-name');
    if (row.children > 0) {
      const open = this._children.has(row.id);
      const fold = el(
        'button',
        'jp-SubmarineExplorer-fold',
        open ? '▾' : '▸',
        `explorer-fold-${row.id}`
      );
      fold.type = 'button';
      fold.setAttribute('aria-expanded', String(open));
      fold.title = open ? 'Fold its runs' : 'Show its runs';
      fold.addEventListener('click', () => void this._toggle(row));
      name.appendChild(fold);
    }
    const link = el('a', '', row.name);
    link.href = '#';
    link.title = 'Browse its artifacts';
    link.addEventListener('click', e => {
      e.preventDefault();
      this.actions.artifacts(row);
    });
    name.appendChild(link);
    name.appendChild(el('span', 'jp-SubmarineExplorer-id', ` #${row.id}`));
    const pipelineId = row.pipeline_id;
    if (pipelineId && this.actions.pipeline) {
      const open = this.actions.pipeline;
      const dag = el('a', 'jp-SubmarineExplorer-pipeline', ` pipeline #${pipelineId}`,
                     `explorer-pipeline-${row.id}`); // prettier-ignore
      dag.href = '#';
      dag.title = `Show pipeline ${pipelineId}'s steps (step ${row.pipeline_step ?? ''})`;
      dag.addEventListener('click', e => {
        e.preventDefault();
        open(pipelineId);
      });
      name.appendChild(dag);
    }
    if (row.children > 0) {
      const best = row.best ? ` · best ${row.best.key} ${fmt(row.best.value)}` : '';
      name.appendChild(
        el(
          'span',
          'jp-SubmarineExplorer-kids',
          ` ${row.children} runs${best}`,
          `explorer-kids-${row.id}`
        )
      );
    }
    tr.appendChild(name);
    const status = el('td', '');
    status.appendChild(statusBadge(row.status));
    tr.appendChild(status);
    tr.appendChild(el('td', '', row.owner));
    tr.appendChild(
      el('td', '', row.started_at ? row.started_at.slice(0, 19).replace('T', ' ') : '')
    );
    tr.appendChild(el('td', '', duration(row.duration ?? null)));
    tr.appendChild(el('td', 'jp-SubmarineExplorer-tags', (row.tags ?? []).join(' ')));
    for (const c of columns) {
      const [kind, ...rest] = c.split('.');
      const key = rest.join('.');
      const value = kind === 'params' ? row.params?.[key] : row.metrics?.[key];
      const td = el('td', kind === 'metrics' ? 'jp-SubmarineExplorer-num' : '', fmt(value));
      td.setAttribute('data-column', c);
      tr.appendChild(td);
    }
    return tr;
  }

  private async _toggle(row: IRunRow): Promise<void> {
    if (this._children.has(row.id)) {
      this._children.delete(row.id);
      this._render();
      return;
    }
    try {
      const page = await searchRuns(this.api, {
        filter: `attributes.parent_id = ${row.id}`,
        order_by: this._order,
        max_results: 500
      });
      for (const k of page.keys?.params ?? []) {
        this._known.add(`params.${k}`);
      }
      for (const k of page.keys?.metrics ?? []) {
        this._known.add(`metrics.${k}`);
      }
      this._children.set(row.id, page.items);
      this._render();
    } catch (err) {
      this._error.appendChild(errorBox(err, 'explorer-error'));
    }
  }

  private _updateCompare(): void {
    const n = this._selected.size;
    this._compare.textContent = n ? `Compare ${n}` : 'Compare';
    this._compare.disabled = n < 1;
    this._tensorboard.disabled = n < 1;
  }

  private _filter: HTMLInputElement;
  private _nest: HTMLInputElement;
  private _compare: HTMLButtonElement;
  private _tensorboard: HTMLButtonElement;
  private _columnsMenu: HTMLDetailsElement;
  private _error: HTMLElement;
  private _table: HTMLTableElement;
  private _count: HTMLElement;
  private _more: HTMLButtonElement;
  private _rows: IRunRow[] = [];
  private _children = new Map<number, IRunRow[]>();
  private _token: string | null = null;
  private _order: string[] = [];
  private _known = new Set<string>();
  private _hidden = new Set<string>();
  private _selected = new Set<number>();
}

// --- compare ------------------------------------------------------------------------

/** Is every value a number (a numeric param, for axes)? */
function numeric(values: unknown[]): boolean {
  return values.length > 0 && values.every(v => v !== '' && v !== undefined && !isNaN(Number(v)));
}

/**
 * The overlaid metric chart: one line per run, step or time on x, smoothing,
 * a log scale, hover values (Vega's tooltip), a legend by run.
 */
export function metricChartSpec(
  series: { run: string; points: IMetricPoint[] }[],
  key: string,
  options: { x: 'step' | 'time'; smoothing: number; log: boolean }
): Record<string, unknown> {
  const values: Record<string, unknown>[] = [];
  for (const s of series) {
    const ys = smooth(
      s.points.map(p => p.value),
      options.smoothing
    );
    s.points.forEach((p, i) => {
      values.push({
        run: s.run,
        step: p.step ?? i,
        time: p.timestamp ? new Date(p.timestamp * 1000).toISOString() : null,
        value: ys[i],
        raw: p.value
      });
    });
  }
  const x =
    options.x === 'step'
      ? { field: 'step', type: 'quantitative', title: 'step' }
      : { field: 'time', type: 'temporal', title: 'time' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 'container',
    height: 260,
    title: key,
    data: { values },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x,
      y: {
        field: 'value',
        type: 'quantitative',
        title: key,
        scale: options.log ? { type: 'log' } : { zero: false }
      },
      color: { field: 'run', type: 'nominal', title: 'run' },
      tooltip: [
        { field: 'run', type: 'nominal' },
        { field: 'step', type: 'quantitative' },
        { field: 'raw', type: 'quantitative', title: key, format: '.4~g' },
        { field: 'value', type: 'quantitative', title: 'smoothed', format: '.4~g' }
      ]
    }
  };
}

/** Parallel coordinates over the runs' numeric params and final metrics. */
export function parallelSpec(items: ICompare['items'], dims: string[]): Record<string, unknown> {
  // Vega reads a dot in a field name as a nested field: the axes are named
  // `params:lr` in the data and shown as `params.lr`
  const field = (d: string) => d.replace(/[.[\]\\]/g, ':');
  const values = (items ?? []).map(r => {
    const row: Record<string, unknown> = { run: `${r.name} #${r.id}` };
    for (const d of dims) {
      const [kind, ...rest] = d.split('.');
      const key = rest.join('.');
      const v = kind === 'params' ? r.params?.[key] : r.metrics?.[key];
      row[field(d)] = v === undefined ? null : Number(v);
    }
    return row;
  });
  const keys = dims.map(field);
  const axis = { title: null, labelExpr: "replace(datum.label, ':', '.')" };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 'container',
    height: 260,
    title: 'Parallel coordinates',
    data: { values },
    transform: [
      { window: [{ op: 'count', as: 'index' }] },
      { fold: keys },
      {
        joinaggregate: [
          { op: 'min', field: 'value', as: 'min' },
          { op: 'max', field: 'value', as: 'max' }
        ],
        groupby: ['key']
      },
      {
        calculate:
          'datum.max === datum.min ? 0.5 : (datum.value - datum.min) / (datum.max - datum.min)',
        as: 'norm'
      }
    ],
    layer: [
      {
        mark: { type: 'line', opacity: 0.7 },
        encoding: {
          color: { field: 'run', type: 'nominal' },
          detail: { field: 'index', type: 'nominal' },
          x: { field: 'key', type: 'nominal', sort: keys, axis },
          y: { field: 'norm', type: 'quantitative', axis: null },
          tooltip: [
            { field: 'run', type: 'nominal' },
            { field: 'key', type: 'nominal' },
            { field: 'value', type: 'quantitative', format: '.4~g' }
          ]
        }
      },
      {
        mark: { type: 'point', filled: true, size: 40, tooltip: true },
        encoding: {
          color: { field: 'run', type: 'nominal' },
          x: { field: 'key', type: 'nominal', sort: keys, axis },
          y: { field: 'norm', type: 'quantitative', axis: null },
          tooltip: [
            { field: 'run', type: 'nominal' },
            { field: 'key', type: 'nominal' },
            { field: 'value', type: 'quantitative', format: '.4~g' }
          ]
        }
      }
    ]
  };
}

/** A param (x) against a metric (y), one point per run. */
export function scatterSpec(
  items: ICompare['items'],
  param: string,
  metric: string,
  paramNumeric: boolean
): Record<string, unknown> {
  const values = (items ?? []).map(r => ({
    run: `${r.name} #${r.id}`,
    param: paramNumeric ? Number(r.params?.[param]) : r.params?.[param],
    metric: r.metrics?.[metric]
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 'container',
    height: 240,
    title: `${metric} by ${param}`,
    data: { values },
    mark: { type: 'point', filled: true, size: 80, tooltip: true },
    encoding: {
      x: { field: 'param', type: paramNumeric ? 'quantitative' : 'nominal', title: param },
      y: { field: 'metric', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'run', type: 'nominal' }
    }
  };
}

/**
 * Compare runs: overlaid charts of a metric's history, parallel coordinates and
 * a scatter for sweeps and grids, a diff table of params and final metrics.
 */
export class CompareView extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly rendermime: IRenderMimeRegistry,
    readonly ids: number[]
  ) {
    super();
    this.addClass('jp-SubmarineCompare');
    this.node.setAttribute('data-testid', 'compare-view');
    this._controls = el('div', 'jp-SubmarineExplorer-bar');
    this._chart = el('div', 'jp-SubmarineCompare-chart', undefined, 'compare-chart');
    this._parallel = el('div', 'jp-SubmarineCompare-chart', undefined, 'compare-parallel');
    this._scatterControls = el('div', 'jp-SubmarineExplorer-bar');
    this._scatter = el('div', 'jp-SubmarineCompare-chart', undefined, 'compare-scatter');
    this._diff = el('table', 'jp-SubmarineExplorer-table', undefined, 'compare-diff');
    this._error = el('div', '');
    for (const n of [
      this._error,
      this._controls,
      this._chart,
      this._parallel,
      this._scatterControls,
      this._scatter,
      el('h3', '', 'Params and final metrics'),
      this._diff
    ]) {
      // prettier-ignore
      this.node.appendChild(n);
    }
  }

  /** Load the runs and draw everything; resolves once the charts are drawn. */
  async load(): Promise<void> {
    try {
      this._data = await requestAPI<ICompare>(
        withQuery('experiments/compare', { ids: this.ids.map(String) }),
        { method: 'GET' },
        this.api.settings
      );
    } catch (err) {
      this._error.appendChild(errorBox(err, 'compare-error'));
      return;
    }
    const keys = this._data.keys ?? {};
    this._renderControls(keys.metrics ?? []);
    this._renderDiff();
    await Promise.all([this.drawMetric(), this._drawParallel(), this._drawScatter()]);
  }

  /** Draw the overlaid chart of the chosen metric. */
  async drawMetric(): Promise<void> {
    const key = this._metric.value;
    if (!key || !this._data) {
      clear(this._chart);
      return;
    }
    const series = await Promise.all(
      (this._data.items ?? []).map(async r => ({
        run: `${r.name} #${r.id}`,
        points: await this.api.metricHistory(r.id, key, 1000)
      }))
    );
    await renderVegaLite(
      this.rendermime,
      this._chart,
      metricChartSpec(series, key, {
        x: this._x.value === 'time' ? 'time' : 'step',
        smoothing: Number(this._smoothing.value),
        log: this._log.checked
      })
    );
  }

  private _renderControls(metrics: string[]): void {
    const bar = this._controls;
    clear(bar);
    const label = (text: string, control: HTMLElement) => {
      const l = el('label', 'jp-SubmarineExplorer-control', text);
      l.appendChild(control);
      bar.appendChild(l);
    };
    this._metric = el('select', 'jp-mod-styled', undefined, 'compare-metric');
    for (const m of metrics) {
      this._metric.appendChild(new Option(m, m));
    }
    this._metric.addEventListener('change', () => void this.drawMetric());
    label('Metric ', this._metric);
    this._x = el('select', 'jp-mod-styled', undefined, 'compare-x');
    this._x.appendChild(new Option('step', 'step'));
    this._x.appendChild(new Option('time', 'time'));
    this._x.addEventListener('change', () => void this.drawMetric());
    label('x ', this._x);
    this._smoothing = el('input', '', undefined, 'compare-smoothing');
    this._smoothing.type = 'range';
    this._smoothing.min = '0';
    this._smoothing.max = '0.95';
    this._smoothing.step = '0.05';
    this._smoothing.value = '0';
    this._smoothing.addEventListener('change', () => void this.drawMetric());
    label('Smoothing ', this._smoothing);
    this._log = el('input', '', undefined, 'compare-log');
    this._log.type = 'checkbox';
    this._log.addEventListener('change', () => void this.drawMetric());
    label('Log scale ', this._log);
  }

  private _dims(): { params: string[]; metrics: string[] } {
    const items = this._data?.items ?? [];
    const keys = this._data?.keys ?? {};
    const params = (keys.params ?? []).filter(p => numeric(items.map(r => r.params?.[p])));
    return { params, metrics: keys.metrics ?? [] };
  }

  private async _drawParallel(): Promise<void> {
    const { params, metrics } = this._dims();
    const dims = [...params.map(p => `params.${p}`), ...metrics.map(m => `metrics.${m}`)];
    if (dims.length < 2 || !this._data) {
      this._parallel.textContent = 'Parallel coordinates need two numeric params or metrics.';
      return;
    }
    await renderVegaLite(this.rendermime, this._parallel, parallelSpec(this._data.items, dims));
  }

  private async _drawScatter(): Promise<void> {
    const keys = this._data?.keys ?? {};
    const params = keys.params ?? [];
    const metrics = keys.metrics ?? [];
    clear(this._scatterControls);
    if (!params.length || !metrics.length || !this._data) {
      return;
    }
    const p = el('select', 'jp-mod-styled', undefined, 'compare-scatter-param');
    params.forEach(k => p.appendChild(new Option(k, k)));
    const m = el('select', 'jp-mod-styled', undefined, 'compare-scatter-metric');
    metrics.forEach(k => m.appendChild(new Option(k, k)));
    const draw = async () => {
      const items = this._data?.items ?? [];
      await renderVegaLite(
        this.rendermime,
        this._scatter,
        scatterSpec(items, p.value, m.value, numeric(items.map(r => r.params?.[p.value])))
      );
    };
    p.addEventListener('change', () => void draw());
    m.addEventListener('change', () => void draw());
    this._scatterControls.appendChild(el('span', '', 'Scatter: '));
    this._scatterControls.appendChild(p);
    this._scatterControls.appendChild(el('span', '', ' vs '));
    this._scatterControls.appendChild(m);
    await draw();
  }

  private _renderDiff(): void {
    const items = this._data?.items ?? [];
    const keys = this._data?.keys ?? {};
    const table = this._diff;
    clear(table);
    const head = el('tr', '');
    head.appendChild(el('th', '', ''));
    for (const r of items) {
      head.appendChild(el('th', '', `${r.name} #${r.id}`));
    }
    table.appendChild(head);
    const line = (label: string, values: unknown[]) => {
      const tr = el('tr', '');
      const differs = new Set(values.map(v => fmt(v))).size > 1;
      if (differs) {
        tr.classList.add('jp-SubmarineCompare-differs');
      }
      tr.appendChild(el('th', '', label));
      values.forEach(v => tr.appendChild(el('td', '', fmt(v))));
      table.appendChild(tr);
    };
    line(
      'status',
      items.map(r => r.status)
    );
    for (const p of keys.params ?? []) {
      line(
        `params.${p}`,
        items.map(r => r.params?.[p])
      );
    }
    for (const m of keys.metrics ?? []) {
      line(
        `metrics.${m}`,
        items.map(r => r.metrics?.[m])
      );
    }
  }

  private _data: ICompare | null = null;
  private _controls: HTMLElement;
  private _chart: HTMLElement;
  private _parallel: HTMLElement;
  private _scatterControls: HTMLElement;
  private _scatter: HTMLElement;
  private _diff: HTMLTableElement;
  private _error: HTMLElement;
  private _metric: HTMLSelectElement = document.createElement('select');
  private _x: HTMLSelectElement = document.createElement('select');
  private _smoothing: HTMLInputElement = document.createElement('input');
  private _log: HTMLInputElement = document.createElement('input');
}

// --- artifacts ----------------------------------------------------------------------

const PREVIEW_LIMIT = 5 * 1024 * 1024;
const IMAGE = /\.(png|jpe?g|gif|svg|webp)$/i;
const TEXT = /\.(txt|log|md|py|ya?ml|toml|cfg|ini|sh|out|err)$/i;

interface ITreeNode {
  name: string;
  path: string;
  file?: IFileEntry;
  children: Map<string, ITreeNode>;
}

/** The artifacts' paths as a tree of folders. */
export function artifactTree(files: IFileEntry[]): ITreeNode {
  const root: ITreeNode = { name: '', path: '', children: new Map() };
  for (const f of files) {
    const parts = f.path.split('/');
    let node = root;
    parts.forEach((part, i) => {
      let next = node.children.get(part);
      if (!next) {
        next = { name: part, path: parts.slice(0, i + 1).join('/'), children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    });
    node.file = f;
  }
  return root;
}

/** The first rows of a CSV (quoted fields with commas kept whole). */
export function csvHead(text: string, rows = 20): string[][] {
  const out: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (out.length >= rows + 1) {
      break;
    }
    if (!line.trim()) {
      continue;
    }
    const cells: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') {
          quoted = false;
        } else {
          cur += ch;
        }
      } else if (ch === '"') {
        quoted = true;
      } else if (ch === ',') {
        cells.push(cur);
        cur = '';
      } else {
        cur += ch;
      }
    }
    cells.push(cur);
    out.push(cells);
  }
  return out;
}

export type IDataPreview = Json<'previewExperimentArtifact'>;

const PARQUET = /\.(parquet|pq)$/i;

/** The head of a run's Parquet artifact, read by the service. */
export function previewArtifact(
  api: SubmarineAPI,
  runId: number,
  path: string,
  rows = 20
): Promise<IDataPreview> {
  const url = withQuery(`experiments/${runId}/artifacts/preview`, { path, rows });
  return requestAPI<IDataPreview>(url, { method: 'GET' }, api.settings);
}

/** A Parquet head as a table: each column's name over its type, then the rows. */
export function parquetTable(head: IDataPreview): HTMLElement {
  const box = el('div', '');
  const more = head.num_columns > head.columns.length ? ` (the first ${head.columns.length})` : '';
  box.appendChild(
    el(
      'p',
      'jp-SubmarineRuns-meta',
      `${head.num_rows} rows × ${head.num_columns} columns${more}; the first ${head.rows.length} rows shown`,
      'artifact-parquet-meta'
    )
  );
  const table = el('table', 'jp-SubmarineExplorer-table', undefined, 'artifact-parquet');
  const tr = el('tr', '');
  for (const c of head.columns) {
    const th = el('th', '', c.name);
    th.appendChild(el('div', 'jp-SubmarineArtifacts-type', c.type));
    tr.appendChild(th);
  }
  table.appendChild(tr);
  for (const row of head.rows) {
    const line = el('tr', '');
    for (const cell of row as unknown[]) {
      const text =
        cell === null || cell === undefined
          ? ''
          : typeof cell === 'object'
            ? JSON.stringify(cell)
            : String(cell);
      line.appendChild(el('td', '', text));
    }
    table.appendChild(line);
  }
  box.appendChild(table);
  return box;
}

/**
 * A run's artifacts as a tree; a click previews a file (image, CSV head, JSON,
 * text/log, a notebook rendered read-only) and offers its download.
 */
export class ArtifactsView extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly rendermime: IRenderMimeRegistry,
    readonly runId: number
  ) {
    super();
    this.addClass('jp-SubmarineArtifacts');
    this.node.setAttribute('data-testid', 'artifacts-view');
    this._tree = el('div', 'jp-SubmarineArtifacts-tree', undefined, 'artifacts-tree');
    this._preview = el('div', 'jp-SubmarineArtifacts-preview', undefined, 'artifacts-preview');
    this.node.appendChild(this._tree);
    this.node.appendChild(this._preview);
  }

  async load(): Promise<void> {
    clear(this._tree);
    try {
      const files = await this.api.listArtifacts(this.runId);
      if (!files.length) {
        this._tree.textContent = 'This run has no artifacts.';
        return;
      }
      this._tree.appendChild(this._branch(artifactTree(files)));
    } catch (err) {
      this._tree.appendChild(errorBox(err, 'artifacts-error'));
    }
  }

  private _branch(node: ITreeNode): HTMLElement {
    const list = el('ul', 'jp-SubmarineArtifacts-list');
    const entries = Array.from(node.children.values()).sort((a, b) =>
      a.file === b.file ? a.name.localeCompare(b.name) : a.file ? 1 : -1
    );
    for (const child of entries) {
      const item = el('li', '');
      if (child.file) {
        const file = child.file;
        const link = el('a', 'jp-SubmarineArtifacts-file', child.name, `artifact-${child.path}`);
        link.href = '#';
        link.addEventListener('click', e => {
          e.preventDefault();
          void this.preview(file);
        });
        item.appendChild(link);
        item.appendChild(el('span', 'jp-SubmarineArtifacts-size', ` ${size(file.size)}`));
      } else {
        const folder = el('details', '');
        folder.open = true;
        folder.appendChild(el('summary', '', `${child.name}/`));
        folder.appendChild(this._branch(child));
        item.appendChild(folder);
      }
      list.appendChild(item);
    }
    return list;
  }

  private _bytes(path: string): Promise<Uint8Array> {
    const url = withQuery(`experiments/${this.runId}/artifacts`, { path });
    return requestBytes(`${API_NAMESPACE}/${url}`, { method: 'GET' }, this.api.settings);
  }

  /** Show one file. */
  async preview(file: IFileEntry): Promise<void> {
    const box = this._preview;
    clear(box);
    box.appendChild(el('h3', '', file.path));
    const body = el('div', 'jp-SubmarineArtifacts-body', undefined, 'artifact-preview-body');
    box.appendChild(body);
    try {
      if (PARQUET.test(file.path)) {
        // read by the service: only the file's first rows come, whatever its size
        box.appendChild(this._download(file, null));
        body.appendChild(parquetTable(await previewArtifact(this.api, this.runId, file.path)));
        return;
      }
      if (file.size > PREVIEW_LIMIT) {
        body.textContent = `${size(file.size)}: too large to preview; download it.`;
        box.appendChild(this._download(file, null));
        return;
      }
      const data = await this._bytes(file.path);
      box.appendChild(this._download(file, data));
      const text = () => new TextDecoder().decode(data);
      if (IMAGE.test(file.path)) {
        const img = el('img', 'jp-SubmarineArtifacts-image', undefined, 'artifact-image');
        const type = file.path.toLowerCase().endsWith('.svg') ? 'image/svg+xml' : 'image/*';
        img.src = URL.createObjectURL(new Blob([data as BlobPart], { type }));
        img.alt = file.path;
        body.appendChild(img);
      } else if (/\.csv$/i.test(file.path)) {
        const rows = csvHead(text());
        const table = el('table', 'jp-SubmarineExplorer-table', undefined, 'artifact-csv');
        rows.forEach((cells, i) => {
          const tr = el('tr', '');
          cells.forEach(c => tr.appendChild(el(i === 0 ? 'th' : 'td', '', c)));
          table.appendChild(tr);
        });
        body.appendChild(table);
      } else if (/\.json$/i.test(file.path)) {
        let shown = text();
        try {
          shown = JSON.stringify(JSON.parse(shown), null, 2);
        } catch {
          // not JSON after all: shown as it is
        }
        body.appendChild(el('pre', '', shown, 'artifact-json'));
      } else if (/\.ipynb$/i.test(file.path)) {
        await this._notebook(body, JSON.parse(text()));
      } else if (TEXT.test(file.path) || !data.slice(0, 4096).includes(0)) {
        body.appendChild(el('pre', '', text().slice(0, 256 * 1024), 'artifact-text'));
      } else {
        body.textContent = 'A binary file: download it to open it.';
      }
    } catch (err) {
      body.appendChild(errorBox(err, 'artifacts-error'));
    }
  }

  private _download(file: IFileEntry, data: Uint8Array | null): HTMLElement {
    const name = file.path.split('/').pop() ?? 'artifact';
    return button(
      'Download',
      async () => {
        const bytes = data ?? (await this._bytes(file.path));
        const a = document.createElement('a');
        a.href = URL.createObjectURL(new Blob([bytes as BlobPart]));
        a.download = name;
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      },
      { testid: 'artifact-download' }
    );
  }

  /** A notebook read-only: each cell's source, and its outputs by JupyterLab's renderers. */
  private async _notebook(
    host: HTMLElement,
    nb: { cells?: Record<string, unknown>[] }
  ): Promise<void> {
    const root = el('div', 'jp-SubmarineArtifacts-notebook', undefined, 'artifact-notebook');
    host.appendChild(root);
    for (const cell of nb.cells ?? []) {
      const source = Array.isArray(cell.source) ? cell.source.join('') : String(cell.source ?? '');
      const type = String(cell.cell_type ?? 'code');
      const cellNode = el('div', `jp-SubmarineArtifacts-cell jp-SubmarineArtifacts-${type}`);
      root.appendChild(cellNode);
      if (type === 'markdown') {
        await this._mime(cellNode, { 'text/markdown': source });
        continue;
      }
      cellNode.appendChild(el('pre', 'jp-SubmarineArtifacts-source', source));
      for (const out of (cell.outputs as Record<string, unknown>[] | undefined) ?? []) {
        if (out.output_type === 'stream') {
          const text = Array.isArray(out.text) ? out.text.join('') : String(out.text ?? '');
          cellNode.appendChild(el('pre', 'jp-SubmarineArtifacts-output', text));
        } else if (out.output_type === 'error') {
          cellNode.appendChild(
            el('pre', 'jp-SubmarineArtifacts-output', `${out.ename}: ${out.evalue}`)
          );
        } else if (out.data) {
          await this._mime(cellNode, out.data as Record<string, unknown>);
        }
      }
    }
  }

  private async _mime(host: HTMLElement, data: Record<string, unknown>): Promise<void> {
    const bundle: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) {
      bundle[k] = Array.isArray(v) ? v.join('') : v;
    }
    // untrusted: JupyterLab's sanitizer applies, scripts and HTML outputs stay inert
    const model = new MimeModel({ data: bundle as never, trusted: false });
    const mime = this.rendermime.preferredMimeType(bundle as never, 'ensure');
    if (!mime) {
      return;
    }
    const renderer = this.rendermime.createRenderer(mime);
    host.appendChild(renderer.node);
    await renderer.renderModel(model);
  }

  private _tree: HTMLElement;
  private _preview: HTMLElement;
}
