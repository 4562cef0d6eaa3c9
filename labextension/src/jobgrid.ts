/**
 * The Jobs tab's Run over a grid part: a list of values per parameter (one run
 * per combination, under one parent run), and the summary of a fan-out: its
 * children's count, the metrics' min, max and mean, each child's values.
 */
import type { INotebookJob, INotebookParameter } from './api';
import { formatNumber } from './chart';
import { statusBadge } from './experiments';
import type { FieldRows } from './fieldrows';
import { MAX_FANOUT, gridSize, initialText, parametersText, parseGridValues } from './jobparams';
import { childrenText } from './jobruns';
import { button, clear, el } from './util';

export class GridSection {
  constructor(options: GridSection.IOptions) {
    this._options = options;
  }

  /** The Run grid button. */
  get runButton(): HTMLButtonElement {
    return this._button;
  }

  /** Where the part's errors show. */
  get error(): HTMLElement {
    return this._error;
  }

  /** The fan-out's summary. */
  get fanoutBox(): HTMLElement {
    return this._fanoutBox;
  }

  /** Open the part (it stays open when drawn again). */
  open(): void {
    this._open = true;
    if (this._details) {
      this._details.open = true;
    }
  }

  /** The part, drawn again for `params` (what was written stays). */
  render(params: INotebookParameter[]): HTMLElement {
    const details = el(
      'details',
      'jp-SubmarineJobs-section',
      undefined,
      'submarine-job-grid-section'
    );
    this._details = details;
    details.open = this._open;
    details.addEventListener('toggle', () => (this._open = details.open));
    details.appendChild(el('summary', 'jp-SubmarineJobs-summary', 'Run over a grid'));
    details.appendChild(
      el(
        'p',
        'jp-SubmarineSubmit-hint',
        'A list of values per parameter (separated by commas, or a JSON list): one run per combination, the other parameters as above.'
      )
    );
    const count = el('div', 'jp-SubmarineJobs-preview', '', 'submarine-job-grid-count');
    count.setAttribute('aria-live', 'polite');
    const update = () => {
      const grid = this.read(params, false);
      const n = grid ? gridSize(grid) : 0;
      count.textContent = n
        ? `${n} run${n === 1 ? '' : 's'}${n > MAX_FANOUT ? ` (at most ${MAX_FANOUT})` : ''}`
        : '';
    };
    const previous = new Map(Array.from(this._inputs).map(([k, v]) => [k, v.value]));
    this._inputs.clear();
    for (const p of params) {
      const input = el(
        'input',
        'jp-SubmarinePanel-input',
        undefined,
        `submarine-job-grid-${p.name}`
      );
      input.type = 'text';
      input.placeholder =
        p.type === 'bool'
          ? 'true, false'
          : p.type === 'list'
            ? '[[1, 2], [3]]'
            : `e.g. ${initialText(p) || '1, 2'}, …`;
      input.value = previous.get(p.name) ?? '';
      input.addEventListener('input', update);
      this._inputs.set(p.name, input);
      details.appendChild(this._options.rows.row(p.name, input, `grid-${p.name}`));
    }
    if (!params.length) {
      details.appendChild(
        el('p', 'jp-SubmarinePanel-empty', 'The notebook has no parameters to vary.')
      );
    }
    details.appendChild(count);
    update();
    const actions = el('div', 'jp-SubmarinePanel-toolbar');
    this._button = button('Run grid', () => this._options.run(), {
      testid: 'submarine-job-grid-run',
      title: 'One run per combination of these values, under one parent run'
    });
    this._button.disabled = !params.length;
    actions.appendChild(this._button);
    details.appendChild(actions);
    this._error = el('div', '');
    details.appendChild(this._error);
    this._fanoutBox = el('div', 'jp-SubmarineJobs-fanout', undefined, 'submarine-job-grid-summary');
    details.appendChild(this._fanoutBox);
    this.renderFanout();
    return details;
  }

  /** The grid's value lists (null when one is wrong; its error shown if `show`). */
  read(params: INotebookParameter[], show = true): Record<string, unknown[]> | null {
    const grid: Record<string, unknown[]> = {};
    for (const p of params) {
      const text = this._inputs.get(p.name)?.value ?? '';
      if (!text.trim()) {
        continue;
      }
      const parsed = parseGridValues(p, text);
      if (!parsed.ok) {
        if (show) {
          this._options.rows.showErrors({ [`grid-${p.name}`]: parsed.error });
        }
        return null;
      }
      grid[p.name] = parsed.values;
    }
    return grid;
  }

  /** Draw the summary of the fan-out shown (none: nothing). */
  renderFanout(): void {
    const box = this._fanoutBox;
    clear(box);
    const job = this._options.fanout();
    if (!job) {
      return;
    }
    const line = el('div', 'jp-SubmarineRuns-line');
    line.appendChild(statusBadge(job.status, 'submarine-job-grid-status'));
    line.appendChild(el('span', 'jp-SubmarineRuns-name', `#${job.id} ${job.name}`));
    box.appendChild(line);
    box.appendChild(
      el('div', 'jp-SubmarineRuns-meta', childrenText(job), 'submarine-job-grid-children')
    );
    const metrics = job.summary?.metrics ?? {};
    const keys = Object.keys(metrics);
    if (keys.length) {
      const table = el('table', 'jp-SubmarineJobs-table', undefined, 'submarine-job-grid-metrics');
      const head = el('tr', '');
      for (const h of ['metric', 'min', 'max', 'mean']) {
        head.appendChild(el('th', '', h));
      }
      table.appendChild(head);
      for (const k of keys) {
        const m = metrics[k];
        const row = el('tr', '');
        row.appendChild(el('td', '', k));
        row.appendChild(el('td', '', `${formatNumber(m.min)} (#${m.min_run})`));
        row.appendChild(el('td', '', `${formatNumber(m.max)} (#${m.max_run})`));
        row.appendChild(el('td', '', formatNumber(m.mean)));
        table.appendChild(row);
      }
      box.appendChild(table);
    }
    // each child: its parameters, status and metrics
    if (Array.isArray(job.children) && job.children.length) {
      const table = el(
        'table',
        'jp-SubmarineJobs-table',
        undefined,
        'submarine-job-grid-children-table'
      );
      const head = el('tr', '');
      for (const h of ['run', 'parameters', 'status', 'metrics']) {
        head.appendChild(el('th', '', h));
      }
      table.appendChild(head);
      for (const child of job.children) {
        const row = el('tr', '', undefined, `submarine-job-grid-child-${child.id}`);
        row.appendChild(el('td', '', `#${child.id}`));
        row.appendChild(el('td', '', parametersText(child.parameters)));
        row.appendChild(el('td', '', child.status));
        const metrics = Object.entries(child.metrics ?? {})
          .map(([k, v]) => `${k}=${formatNumber(v)}`)
          .join(', ');
        row.appendChild(el('td', '', metrics));
        table.appendChild(row);
      }
      box.appendChild(table);
    }
    const actions = el('div', 'jp-SubmarineJobs-actions');
    actions.appendChild(
      button('Show run', () => this._options.showRun(job.id), {
        testid: 'submarine-job-grid-show',
        className: 'jp-SubmarineJobs-link'
      })
    );
    box.appendChild(actions);
  }

  private _options: GridSection.IOptions;
  private _open = false;
  private _details: HTMLDetailsElement | null = null;
  private _inputs = new Map<string, HTMLInputElement>();
  private _button = el('button', '');
  private _error = el('div', '');
  private _fanoutBox = el('div', '');
}

export namespace GridSection {
  export interface IOptions {
    /** The form's rows (each grid input is one). */
    rows: FieldRows;
    /** The fan-out whose summary is shown, or null. */
    fanout: () => INotebookJob | null;
    /** Run the grid (the button). */
    run: () => void;
    /** Show a run's page in the Experiments tab. */
    showRun: (id: number) => void;
  }
}
