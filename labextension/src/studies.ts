/**
 * Hyper-parameter tuning studies in JupyterLab's main area: the list of the
 * team's studies, and a study's page (trials table, best trial with "Register
 * its model", optimization history, parallel coordinates and parameter
 * importances drawn by JupyterLab's own Vega-Lite renderer, as the run
 * explorer does). A running study's page refreshes itself while it is shown.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { type SubmarineAPI, requestAPI } from './api';
import { renderVegaLite } from './explorer';
import type { components } from './schema';
import { DEFAULT_CONFIG } from './config';
import { Poller, button, clear, duration, el, errorBox } from './util';

export type IStudy = components['schemas']['Study'];
export type IStudyTrial = components['schemas']['StudyTrial'];

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** `GET /studies`: the caller's studies (without their trials). */
export async function listStudies(api: SubmarineAPI): Promise<IStudy[]> {
  const reply = await requestAPI<{ items?: IStudy[] }>('studies', { method: 'GET' }, api.settings);
  return reply.items ?? [];
}

/** `GET /studies/{id}`: the study with its trials. */
export function getStudy(api: SubmarineAPI, id: number): Promise<IStudy> {
  return requestAPI<IStudy>(`studies/${id}`, { method: 'GET' }, api.settings);
}

/** `GET /studies/{id}/importances`: fANOVA importances of the params. */
export async function studyImportances(
  api: SubmarineAPI,
  id: number
): Promise<Record<string, number>> {
  const reply = await requestAPI<{ importances?: Record<string, number> }>(
    `studies/${id}/importances`,
    { method: 'GET' },
    api.settings
  );
  return reply.importances ?? {};
}

/** A param's value for a cell or a tooltip. */
function show(value: unknown): string {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, '');
  }
  return value === undefined || value === null ? '' : String(value);
}

/** Vega reads dots and brackets in a field name as paths: a safe field name. */
export function fieldName(param: string): string {
  return `p:${param.replace(/[.[\]\\]/g, '_')}`;
}

/** The names of the params any trial has, in first-seen order. */
export function paramNames(trials: IStudyTrial[]): string[] {
  const names: string[] = [];
  for (const t of trials) {
    for (const k of Object.keys(t.params ?? {})) {
      if (!names.includes(k)) {
        names.push(k);
      }
    }
  }
  return names;
}

/**
 * Optimization history: each finished trial's objective value (by state), and
 * the best value so far as a step line.
 */
export function historySpec(
  trials: IStudyTrial[],
  metric: string,
  direction: 'maximize' | 'minimize'
): Record<string, unknown> {
  const points = trials
    .filter(t => typeof t.value === 'number' && Number.isFinite(t.value))
    .sort((a, b) => a.number - b.number);
  let best: number | null = null;
  const values: Record<string, unknown>[] = [];
  for (const t of points) {
    const v = t.value as number;
    // a pruned trial's value is an intermediate one: it does not count as a best
    if (t.state === 'complete') {
      best = best === null ? v : direction === 'maximize' ? Math.max(best, v) : Math.min(best, v);
    }
    values.push({ trial: t.number, value: v, state: t.state, best });
  }
  return {
    $schema: SCHEMA,
    width: 'container',
    height: 240,
    title: 'Optimization history',
    data: { values },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 60, tooltip: true },
        encoding: {
          x: { field: 'trial', type: 'quantitative', title: 'trial', axis: { tickMinStep: 1 } },
          y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
          color: { field: 'state', type: 'nominal', title: 'state' },
          tooltip: [
            { field: 'trial', type: 'quantitative' },
            { field: 'state', type: 'nominal' },
            { field: 'value', type: 'quantitative', title: metric, format: '.4~g' }
          ]
        }
      },
      {
        transform: [{ filter: 'datum.best !== null' }],
        mark: { type: 'line', interpolate: 'step-after', color: '#d62728' },
        encoding: {
          x: { field: 'trial', type: 'quantitative' },
          y: { field: 'best', type: 'quantitative', title: `best ${metric}` }
        }
      }
    ]
  };
}

/**
 * Parallel coordinates: one line per finished trial through its params
 * (numeric ones scaled to [0, 1], categorical ones placed evenly) and the
 * objective, coloured by the objective.
 */
export function studyParallelSpec(trials: IStudyTrial[], metric: string): Record<string, unknown> {
  const done = trials.filter(t => typeof t.value === 'number' && Number.isFinite(t.value));
  const names = paramNames(done);
  const dims = [...names.map(fieldName), 'objective'];
  const labels: Record<string, string> = { objective: metric };
  names.forEach(n => (labels[fieldName(n)] = n));
  // categorical params: each category a position in [0, 1]
  const cats: Record<string, string[]> = {};
  for (const n of names) {
    const vs = done.map(t => t.params?.[n]).filter(v => v !== undefined && v !== null);
    if (vs.some(v => typeof v !== 'number')) {
      cats[n] = [...new Set(vs.map(String))].sort();
    }
  }
  const values: Record<string, unknown>[] = [];
  for (const t of done) {
    for (const n of names) {
      const raw = t.params?.[n];
      if (raw === undefined || raw === null) {
        continue; // a conditional param this trial did not have
      }
      const c = cats[n];
      values.push({
        trial: t.number,
        objective: t.value,
        key: fieldName(n),
        label: n,
        raw: show(raw),
        value: c ? (c.length > 1 ? c.indexOf(String(raw)) / (c.length - 1) : 0.5) : raw,
        categorical: Boolean(c)
      });
    }
    values.push({
      trial: t.number,
      objective: t.value,
      key: 'objective',
      label: metric,
      raw: show(t.value),
      value: t.value,
      categorical: false
    });
  }
  const axis = {
    title: null,
    labelExpr: `${JSON.stringify(labels)}[datum.label] || datum.label`
  };
  const encoding = {
    x: { field: 'key', type: 'nominal', sort: dims, axis },
    y: { field: 'norm', type: 'quantitative', axis: null },
    color: { field: 'objective', type: 'quantitative', title: metric },
    tooltip: [
      { field: 'trial', type: 'quantitative' },
      { field: 'label', type: 'nominal', title: 'axis' },
      { field: 'raw', type: 'nominal', title: 'value' },
      { field: 'objective', type: 'quantitative', title: metric, format: '.4~g' }
    ]
  };
  return {
    $schema: SCHEMA,
    width: 'container',
    height: 260,
    title: 'Parallel coordinates',
    data: { values },
    transform: [
      {
        joinaggregate: [
          { op: 'min', field: 'value', as: 'min' },
          { op: 'max', field: 'value', as: 'max' }
        ],
        groupby: ['key']
      },
      {
        calculate:
          'datum.categorical ? datum.value : datum.max === datum.min ? 0.5 : (datum.value - datum.min) / (datum.max - datum.min)',
        as: 'norm'
      }
    ],
    layer: [
      {
        mark: { type: 'line', opacity: 0.6 },
        encoding: { ...encoding, detail: { field: 'trial', type: 'nominal' } }
      },
      { mark: { type: 'point', filled: true, size: 30, tooltip: true }, encoding }
    ]
  };
}

/** Parameter importances as horizontal bars, most important first. */
export function importancesSpec(importances: Record<string, number>): Record<string, unknown> {
  const values = Object.entries(importances)
    .filter(([, v]) => typeof v === 'number' && Number.isFinite(v))
    .sort((a, b) => b[1] - a[1])
    .map(([param, importance]) => ({ param, importance }));
  return {
    $schema: SCHEMA,
    width: 'container',
    height: Math.max(60, 24 * values.length),
    title: 'Parameter importances (fANOVA)',
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'param', type: 'nominal', sort: '-x', title: null },
      x: { field: 'importance', type: 'quantitative', title: 'importance' },
      tooltip: [
        { field: 'param', type: 'nominal' },
        { field: 'importance', type: 'quantitative', format: '.3f' }
      ]
    }
  };
}

/** What the list and the page ask their host to do. */
export interface IStudyActions {
  open: (id: number) => void;
  /** Open a trial's run (the run explorer on it). */
  run: (id: number) => void;
  /** Register the best trial's model (the run's outputs). */
  register: (runId: number) => Promise<unknown>;
}

/** The team's studies: name, status, counts, best value; a row opens the page. */
export class StudiesList extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly actions: IStudyActions
  ) {
    super();
    this.addClass('jp-SubmarineStudies');
    this.node.setAttribute('data-testid', 'studies-list');
    const bar = el('div', 'jp-SubmarineExplorer-bar');
    bar.appendChild(button('Refresh', () => void this.load(), { testid: 'studies-refresh' }));
    this._error = el('div', '');
    this._table = el('table', 'jp-SubmarineExplorer-table', undefined, 'studies-table');
    this.node.append(bar, this._error, this._table);
  }

  async load(): Promise<void> {
    clear(this._error);
    let studies: IStudy[];
    try {
      studies = await listStudies(this.api);
    } catch (err) {
      this._error.appendChild(errorBox(err, 'studies-error'));
      return;
    }
    clear(this._table);
    const head = el('tr', '');
    for (const h of ['Study', 'Status', 'Sampler', 'Pruner', 'Trials', 'Best']) {
      head.appendChild(el('th', '', h));
    }
    this._table.appendChild(head);
    for (const s of studies) {
      const row = el('tr', '', undefined, 'studies-row');
      row.dataset.id = String(s.id);
      const link = el('a', 'jp-SubmarineExplorer-link', `${s.name} #${s.id}`, 'study-open');
      link.href = '#';
      link.onclick = ev => {
        ev.preventDefault();
        this.actions.open(s.id);
      };
      const name = el('td', '');
      name.appendChild(link);
      const counts = Object.entries(s.counts ?? {})
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
      row.append(
        name,
        el('td', '', s.status),
        el('td', '', s.sampler),
        el('td', '', s.pruner),
        el('td', '', counts),
        el('td', '', s.best ? show(s.best.value) : '')
      );
      this._table.appendChild(row);
    }
    if (!studies.length) {
      this._table.appendChild(el('tr', '', 'No studies yet: `submarine study create spec.yaml`.'));
    }
  }

  private _error: HTMLElement;
  private _table: HTMLElement;
}

/**
 * What a page shows of a study: when it is the same as last time, the page is
 * not drawn again (a poll of a study that did not move costs no re-render).
 */
export function studyKey(s: IStudy): string {
  return JSON.stringify([
    s.status,
    s.reason,
    s.best?.number,
    (s.items ?? []).map(t => [t.number, t.state, t.value, t.run_id, t.reason, t.duration])
  ]);
}

/**
 * A study's page. While the study runs and the page is shown it polls the
 * study (every `intervalMs`, the panels' refresh interval) and draws what
 * changed; it stops once the study has ended.
 */
export class StudyView extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly rendermime: IRenderMimeRegistry,
    readonly studyId: number,
    private readonly actions: IStudyActions,
    intervalMs: number = DEFAULT_CONFIG.refreshInterval * 1000
  ) {
    super();
    this._poller = new Poller(
      () => this._load(false),
      () => this.isVisible,
      intervalMs
    );
    this.addClass('jp-SubmarineStudy');
    this.node.setAttribute('data-testid', 'study-view');
    this._error = el('div', '');
    this._summary = el('div', 'jp-SubmarineStudy-summary', undefined, 'study-summary');
    this._best = el('div', 'jp-SubmarineStudy-best', undefined, 'study-best');
    this._history = el('div', 'jp-SubmarineCompare-chart', undefined, 'study-history');
    this._parallel = el('div', 'jp-SubmarineCompare-chart', undefined, 'study-parallel');
    this._importances = el('div', 'jp-SubmarineCompare-chart', undefined, 'study-importances');
    this._trials = el('table', 'jp-SubmarineExplorer-table', undefined, 'study-trials');
    const bar = el('div', 'jp-SubmarineExplorer-bar');
    bar.appendChild(button('Refresh', () => void this.load(), { testid: 'study-refresh' }));
    this.node.append(
      bar,
      this._error,
      this._summary,
      this._best,
      this._history,
      this._parallel,
      this._importances,
      el('h3', '', 'Trials'),
      this._trials
    );
  }

  get study(): IStudy | null {
    return this._study;
  }

  /** Whether the page refreshes itself (the study runs and the page is shown). */
  get live(): boolean {
    return this._poller.running;
  }

  /** Load the study and draw the page; resolves once the charts are drawn. */
  async load(): Promise<void> {
    await this._load(true);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._study?.status === 'running') {
      this._poller.start();
    }
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._poller.stop();
  }

  dispose(): void {
    this._poller.stop();
    super.dispose();
  }

  private async _load(force: boolean): Promise<void> {
    let study: IStudy;
    try {
      study = await getStudy(this.api, this.studyId);
    } catch (err) {
      clear(this._error);
      this._error.appendChild(errorBox(err, 'study-error'));
      return;
    }
    clear(this._error);
    if (study.status === 'running') {
      this._poller.start();
    } else {
      this._poller.stop();
    }
    this.node.dataset.status = study.status;
    const key = studyKey(study);
    if (!force && key === this._key) {
      return;
    }
    this._key = key;
    this._study = study;
    const trials = study.items ?? [];
    const metric = study.objective?.metric ?? 'objective';
    const direction = study.objective?.direction ?? 'maximize';
    this._renderSummary(study);
    this._renderBest(study);
    this._renderTrials(trials);
    const importances = studyImportances(this.api, this.studyId).catch(err => {
      this._importances.replaceChildren(errorBox(err, 'study-importances-error'));
      return null;
    });
    await Promise.all([
      renderVegaLite(this.rendermime, this._history, historySpec(trials, metric, direction)),
      renderVegaLite(this.rendermime, this._parallel, studyParallelSpec(trials, metric)),
      importances.then(imp =>
        imp ? renderVegaLite(this.rendermime, this._importances, importancesSpec(imp)) : null
      )
    ]);
  }

  private _renderSummary(s: IStudy): void {
    const counts = Object.entries(s.counts ?? {})
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    this._summary.textContent =
      `${s.name} #${s.id} · ${s.status}${s.reason ? ` (${s.reason})` : ''} · ` +
      `${s.objective?.direction ?? ''} ${s.objective?.metric ?? ''} · ${s.sampler}, ` +
      `${s.pruner} · ${counts}`;
  }

  private _renderBest(s: IStudy): void {
    clear(this._best);
    const best = s.best;
    if (!best) {
      this._best.textContent = 'No completed trial yet.';
      return;
    }
    const params = Object.entries(best.params ?? {})
      .map(([k, v]) => `${k}=${show(v)}`)
      .join(', ');
    this._best.appendChild(
      el(
        'span',
        '',
        `Best: trial ${best.number}, ${s.objective?.metric ?? 'objective'} = ${show(best.value)} (${params})`
      )
    );
    const runId = best.run_id;
    const reg = button(
      'Register its model',
      () => {
        if (runId) {
          void this.actions.register(runId);
        }
      },
      { testid: 'study-register', title: "Register the best trial's model as a new version" }
    );
    reg.disabled = !runId;
    this._best.appendChild(reg);
  }

  private _renderTrials(trials: IStudyTrial[]): void {
    clear(this._trials);
    const names = paramNames(trials);
    const head = el('tr', '');
    for (const h of ['#', ...names, 'Value', 'State', 'Duration', 'Run']) {
      head.appendChild(el('th', '', h));
    }
    this._trials.appendChild(head);
    for (const t of trials) {
      const row = el('tr', '', undefined, 'study-trial');
      row.dataset.state = t.state;
      row.appendChild(el('td', '', String(t.number)));
      for (const n of names) {
        row.appendChild(el('td', '', show(t.params?.[n])));
      }
      row.appendChild(el('td', '', show(t.value)));
      const state = el('td', '', t.state, 'study-trial-state');
      if (t.reason) {
        state.title = t.reason;
        state.appendChild(el('div', 'jp-SubmarineStudy-reason', t.reason));
      }
      row.appendChild(state);
      row.appendChild(el('td', '', t.duration ? duration(t.duration) : ''));
      const cell = el('td', '');
      if (t.run_id) {
        const runId = t.run_id;
        const link = el('a', 'jp-SubmarineExplorer-link', `#${runId}`, 'study-trial-run');
        link.href = '#';
        link.onclick = ev => {
          ev.preventDefault();
          this.actions.run(runId);
        };
        cell.appendChild(link);
      }
      row.appendChild(cell);
      this._trials.appendChild(row);
    }
  }

  private _study: IStudy | null = null;
  private _key = '';
  private _poller: Poller;
  private _error: HTMLElement;
  private _summary: HTMLElement;
  private _best: HTMLElement;
  private _history: HTMLElement;
  private _parallel: HTMLElement;
  private _importances: HTMLElement;
  private _trials: HTMLElement;
}
