/**
 * An endpoint's traffic in JupyterLab's main area: requests per second, latency
 * percentiles and errors over time, drawn with JupyterLab's own Vega-Lite
 * renderer like the run explorer's charts, refreshed while shown.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import type { IEndpointMetrics, SubmarineAPI } from './api';
import { renderVegaLite } from './explorer';
import { Poller, clear, el, errorBox } from './util';

/** The windows offered (seconds) and the step of each (seconds per point). */
export const WINDOWS: { label: string; window: number; step: number }[] = [
  { label: 'last 5 minutes', window: 300, step: 10 },
  { label: 'last 15 minutes', window: 900, step: 10 },
  { label: 'last hour', window: 3600, step: 30 }
];

type IPoint = IEndpointMetrics['points'][number];

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

function when(p: IPoint): string {
  return new Date(p.t * 1000).toISOString();
}

const TIME_X = { field: 'time', type: 'temporal', title: 'time' };

/** Requests per second over time. */
export function rateSpec(points: IPoint[]): Record<string, unknown> {
  return {
    $schema: SCHEMA,
    width: 'container',
    height: 180,
    title: 'Requests per second',
    data: { values: points.map(p => ({ time: when(p), rate: p.rate, requests: p.requests })) },
    mark: { type: 'line', point: true, tooltip: true, interpolate: 'monotone' },
    encoding: {
      x: TIME_X,
      y: { field: 'rate', type: 'quantitative', title: 'requests/s' },
      tooltip: [
        { field: 'time', type: 'temporal', format: '%H:%M:%S' },
        { field: 'requests', type: 'quantitative' },
        { field: 'rate', type: 'quantitative', title: 'requests/s', format: '.3~g' }
      ]
    }
  };
}

/** Latency percentiles (p50, p90, p99) over time; steps without requests have none. */
export function latencySpec(points: IPoint[]): Record<string, unknown> {
  const values: Record<string, unknown>[] = [];
  for (const p of points) {
    for (const [percentile, ms] of [
      ['p50', p.p50_ms],
      ['p90', p.p90_ms],
      ['p99', p.p99_ms]
    ] as const) {
      if (typeof ms === 'number') {
        values.push({ time: when(p), percentile, ms, requests: p.requests });
      }
    }
  }
  return {
    $schema: SCHEMA,
    width: 'container',
    height: 180,
    title: 'Latency (ms)',
    data: { values },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: TIME_X,
      y: { field: 'ms', type: 'quantitative', title: 'ms' },
      color: {
        field: 'percentile',
        type: 'nominal',
        title: 'percentile',
        sort: ['p50', 'p90', 'p99']
      },
      tooltip: [
        { field: 'time', type: 'temporal', format: '%H:%M:%S' },
        { field: 'percentile', type: 'nominal' },
        { field: 'ms', type: 'quantitative', format: '.3~g' },
        { field: 'requests', type: 'quantitative' }
      ]
    }
  };
}

/** Errors per step (bars) over time. */
export function errorsSpec(points: IPoint[]): Record<string, unknown> {
  return {
    $schema: SCHEMA,
    width: 'container',
    height: 140,
    title: 'Errors',
    data: {
      values: points.map(p => ({ time: when(p), errors: p.errors, requests: p.requests }))
    },
    mark: { type: 'bar', tooltip: true, color: '#d62728' },
    encoding: {
      x: TIME_X,
      y: { field: 'errors', type: 'quantitative', title: 'errors', axis: { tickMinStep: 1 } },
      tooltip: [
        { field: 'time', type: 'temporal', format: '%H:%M:%S' },
        { field: 'errors', type: 'quantitative' },
        { field: 'requests', type: 'quantitative' }
      ]
    }
  };
}

/** `42 requests (1 error) in the last 5 minutes, p99 12.3 ms`. */
export function trafficSummary(data: IEndpointMetrics, label: string): string {
  let requests = 0;
  let errors = 0;
  let p99: number | null = null;
  for (const p of data.points) {
    requests += p.requests;
    errors += p.errors;
    if (typeof p.p99_ms === 'number') {
      p99 = Math.max(p99 ?? 0, p.p99_ms);
    }
  }
  const err = `${errors} error${errors === 1 ? '' : 's'}`;
  const worst = p99 === null ? '' : `, worst p99 ${Number(p99.toPrecision(3))} ms`;
  return `${requests} request${requests === 1 ? '' : 's'} (${err}) in the ${label}${worst}`;
}

/** The traffic page of endpoint `team/name`. */
export class EndpointTrafficView extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly rendermime: IRenderMimeRegistry,
    readonly team: string,
    readonly name: string,
    intervalMs = 10_000
  ) {
    super();
    this.addClass('jp-SubmarineTraffic');
    this.node.setAttribute('data-testid', 'endpoint-traffic-view');
    const head = el('div', 'jp-SubmarinePanel-toolbar');
    head.appendChild(el('h3', 'jp-SubmarineRun-title', `Traffic of ${team}/${name}`));
    this._window = el('select', 'jp-SubmarinePanel-input', undefined, 'traffic-window');
    this._window.setAttribute('aria-label', 'Time window');
    WINDOWS.forEach((w, i) => {
      const option = el('option', '', w.label);
      option.value = String(i);
      this._window.appendChild(option);
    });
    this._window.addEventListener('change', () => void this.refresh());
    head.appendChild(this._window);
    this.node.appendChild(head);
    this._summary = el('p', 'jp-SubmarineRuns-meta', '', 'traffic-summary');
    this._summary.setAttribute('aria-live', 'polite');
    this.node.appendChild(this._summary);
    this._rate = el('div', 'jp-SubmarineCompare-chart', undefined, 'traffic-rate');
    this._latency = el('div', 'jp-SubmarineCompare-chart', undefined, 'traffic-latency');
    this._errors = el('div', 'jp-SubmarineCompare-chart', undefined, 'traffic-errors');
    for (const node of [this._rate, this._latency, this._errors]) {
      this.node.appendChild(node);
    }
    this._poller = new Poller(
      () => this._tick(),
      () => this.isVisible,
      intervalMs
    );
  }

  /** The last data drawn. */
  get data(): IEndpointMetrics | null {
    return this._data;
  }

  /** The window chosen (index into WINDOWS). */
  get windowIndex(): number {
    return Number(this._window.value) || 0;
  }

  set windowIndex(i: number) {
    this._window.value = String(i);
  }

  async load(): Promise<void> {
    this._poller.start();
    await this._poller.refresh();
  }

  async refresh(): Promise<void> {
    await this._poller.refresh();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._poller.start();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._poller.stop();
  }

  dispose(): void {
    this._poller.stop();
    super.dispose();
  }

  private async _tick(): Promise<void> {
    const w = WINDOWS[this.windowIndex] ?? WINDOWS[0];
    let data: IEndpointMetrics;
    try {
      data = await this.api.endpointMetrics(this.team, this.name, w.window, w.step);
    } catch (err) {
      clear(this._summary);
      this._summary.appendChild(errorBox(err, 'traffic-error'));
      return;
    }
    this._data = data;
    if (!data.points.length) {
      this._summary.textContent = data.message ?? 'No traffic to show.';
      for (const host of [this._rate, this._latency, this._errors]) {
        clear(host);
      }
      return;
    }
    this._summary.textContent = trafficSummary(data, w.label);
    await Promise.all([
      renderVegaLite(this.rendermime, this._rate, rateSpec(data.points)),
      renderVegaLite(this.rendermime, this._latency, latencySpec(data.points)),
      renderVegaLite(this.rendermime, this._errors, errorsSpec(data.points))
    ]);
  }

  private _poller: Poller;
  private _data: IEndpointMetrics | null = null;
  private _window: HTMLSelectElement;
  private _summary: HTMLElement;
  private _rate: HTMLElement;
  private _latency: HTMLElement;
  private _errors: HTMLElement;
}
