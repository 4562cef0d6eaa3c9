/**
 * A pipeline's DAG in the main area: each step a node coloured by its state,
 * edges from its upstream steps, refreshed while the pipeline runs, and "Retry
 * failed steps" once it has failed. Drawn by JupyterLab's Vega-Lite renderer
 * (the layout, one column per depth, is computed here).
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { type SubmarineAPI, requestAPI } from './api';
import { renderVegaLite } from './explorer';
import type { components } from './schema';
import { button, clear, el, errorBox } from './util';

export type IPipeline = components['schemas']['Pipeline'];
type IStep = NonNullable<IPipeline['steps']>[number];

export interface INode {
  name: string;
  status: string;
  run: number | null;
  depth: number;
  row: number;
}

/** Each step's column (its longest path from a root) and row within the column. */
export function layoutDag(steps: IStep[]): INode[] {
  const byName = new Map(steps.map(s => [s.name ?? '', s]));
  const depth = new Map<string, number>();
  const visit = (name: string, seen: Set<string>): number => {
    if (depth.has(name)) {
      return depth.get(name)!;
    }
    if (seen.has(name)) {
      return 0; // a cycle: the service refuses those; do not loop on one
    }
    seen.add(name);
    const deps = byName.get(name)?.depends_on ?? [];
    const d = deps.length ? Math.max(...deps.map(p => visit(p, seen) + 1)) : 0;
    depth.set(name, d);
    return d;
  };
  const rows = new Map<number, number>();
  return steps.map(s => {
    const d = visit(s.name ?? '', new Set());
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    return {
      name: s.name ?? '',
      status: s.status ?? 'waiting',
      run: s.run_id ?? null,
      depth: d,
      row
    };
  });
}

const STATUS_COLORS: Record<string, string> = {
  waiting: '#9e9e9e',
  pending: '#f9a825',
  running: '#1e88e5',
  succeeded: '#43a047',
  failed: '#e53935',
  killed: '#8e24aa',
  upstream_failed: '#ef9a9a'
};

/** The DAG as a Vega-Lite spec: edges (rules), nodes (squares by state), labels. */
export function dagSpec(pipeline: IPipeline): Record<string, unknown> {
  const nodes = layoutDag(pipeline.steps ?? []);
  const at = new Map(nodes.map(n => [n.name, n]));
  const edges: { x: number; y: number; x2: number; y2: number }[] = [];
  for (const s of pipeline.steps ?? []) {
    const to = at.get(s.name ?? '');
    for (const p of s.depends_on ?? []) {
      const from = at.get(p);
      edges.push({
        x: from?.depth ?? 0,
        y: from?.row ?? 0,
        x2: to?.depth ?? 0,
        y2: to?.row ?? 0
      });
    }
  }
  const states = Object.keys(STATUS_COLORS);
  const maxDepth = Math.max(0, ...nodes.map(n => n.depth));
  const maxRow = Math.max(0, ...nodes.map(n => n.row));
  const x = {
    field: 'x',
    type: 'quantitative',
    axis: null,
    scale: { domain: [-0.5, maxDepth + 0.5] }
  };
  const y = {
    field: 'y',
    type: 'quantitative',
    axis: null,
    scale: { domain: [maxRow + 0.7, -0.7] }
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: Math.max(300, 200 * (maxDepth + 1)),
    height: Math.max(120, 90 * (maxRow + 1)),
    title: `${pipeline.name} #${pipeline.id}: ${pipeline.status}`,
    layer: [
      {
        data: { values: edges },
        mark: { type: 'rule', strokeWidth: 2, color: '#888' },
        encoding: { x, y, x2: { field: 'x2' }, y2: { field: 'y2' } }
      },
      {
        data: { values: nodes.map(n => ({ ...n, x: n.depth, y: n.row })) },
        mark: { type: 'square', size: 1400, filled: true, opacity: 1, tooltip: true },
        encoding: {
          x,
          y,
          color: {
            field: 'status',
            type: 'nominal',
            scale: { domain: states, range: states.map(s => STATUS_COLORS[s]) },
            legend: { title: 'state', orient: 'bottom' }
          },
          tooltip: [
            { field: 'name', type: 'nominal', title: 'step' },
            { field: 'status', type: 'nominal' },
            { field: 'run', type: 'quantitative', title: 'run' }
          ]
        }
      },
      {
        data: { values: nodes.map(n => ({ ...n, x: n.depth, y: n.row })) },
        mark: { type: 'text', dy: 34, fontSize: 12 },
        encoding: { x, y, text: { field: 'name' } }
      }
    ]
  };
}

/** A pipeline's page: its DAG, live; its failed steps retried from here. */
export class PipelineView extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly rendermime: IRenderMimeRegistry,
    readonly pipelineId: number,
    private readonly intervalMs = 2000
  ) {
    super();
    this.addClass('jp-SubmarineCompare');
    this.node.setAttribute('data-testid', 'pipeline-view');
    this._bar = el('div', 'jp-SubmarineExplorer-bar');
    this._status = el('span', '', '', 'pipeline-status');
    this._retry = button('Retry failed steps', () => void this.retry(), {
      accent: true,
      testid: 'pipeline-retry',
      title: 'Run the failed steps again (and the steps below them)'
    });
    this._bar.appendChild(this._status);
    this._bar.appendChild(this._retry);
    this._error = el('div', '');
    this._chart = el('div', 'jp-SubmarineCompare-chart', undefined, 'pipeline-dag');
    this._steps = el('ul', 'jp-SubmarineArtifacts-list', undefined, 'pipeline-steps');
    for (const n of [this._bar, this._error, this._chart, this._steps]) {
      this.node.appendChild(n);
    }
  }

  /** Load and draw; keeps refreshing while the pipeline runs. */
  async load(): Promise<void> {
    clear(this._error);
    try {
      const p = await requestAPI<IPipeline>(
        `pipelines/${this.pipelineId}`,
        { method: 'GET' },
        this.api.settings
      );
      await this._draw(p);
      window.clearTimeout(this._timer);
      if (p.status === 'running' && !this.isDisposed) {
        this._timer = window.setTimeout(() => void this.load(), this.intervalMs);
      }
    } catch (err) {
      this._error.appendChild(errorBox(err, 'pipeline-error'));
    }
  }

  async retry(): Promise<void> {
    clear(this._error);
    try {
      await requestAPI(`pipelines/${this.pipelineId}/retry`, { method: 'POST' }, this.api.settings);
    } catch (err) {
      this._error.appendChild(errorBox(err, 'pipeline-error'));
      return;
    }
    await this.load();
  }

  dispose(): void {
    window.clearTimeout(this._timer);
    super.dispose();
  }

  private async _draw(p: IPipeline): Promise<void> {
    const signature = JSON.stringify([p.status, p.steps]);
    this._status.textContent = `${p.name}: ${p.status}`;
    this._status.setAttribute('data-status', p.status ?? '');
    // (the button's class sets a display: the `hidden` attribute alone would not hide it)
    this._retry.style.display = p.status === 'failed' ? '' : 'none';
    if (signature === this._drawn) {
      return;
    }
    this._drawn = signature;
    clear(this._steps);
    for (const s of p.steps ?? []) {
      const item = el('li', '', `${s.name}: ${s.status}`, `pipeline-step-${s.name}`);
      item.setAttribute('data-status', s.status ?? '');
      if (s.run_id) {
        item.appendChild(el('span', 'jp-SubmarineExplorer-id', ` run #${s.run_id}`));
      }
      this._steps.appendChild(item);
    }
    await renderVegaLite(this.rendermime, this._chart, dagSpec(p));
  }

  private _bar: HTMLElement;
  private _status: HTMLElement;
  private _retry: HTMLButtonElement;
  private _error: HTMLElement;
  private _chart: HTMLElement;
  private _steps: HTMLElement;
  private _timer = 0;
  private _drawn = '';
}
