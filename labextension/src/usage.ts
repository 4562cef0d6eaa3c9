/**
 * The Usage tab: for each of your teams, what its quota allows and what it uses now
 * (sessions, CPU, memory, GPUs, runs), the GPUs it may still take, this month's
 * usage and cost, and its budget: how much is spent, with the team's warning once it
 * passes the warning threshold or is spent.
 */
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import type { ITeamUsage, SubmarineAPI } from './api';
import { clear, el, errorBox } from './util';

/** One "used of limit" line: a native `<meter>` when there is a limit. */
function meterRow(label: string, used: number, limit: number | null | undefined, text: string) {
  const row = el('div', 'jp-SubmarineUsage-row');
  row.appendChild(el('span', 'jp-SubmarineUsage-label', label));
  if (limit !== null && limit !== undefined && limit > 0) {
    const meter = el('meter', 'jp-SubmarineUsage-meter');
    meter.min = 0;
    meter.max = limit;
    meter.value = Math.min(used, limit);
    meter.high = limit * 0.8;
    meter.setAttribute('aria-label', `${label}: ${text}`);
    row.appendChild(meter);
  }
  row.appendChild(el('span', 'jp-SubmarineUsage-value', text));
  return row;
}

function limitText(used: string, limit: number | null | undefined, unit = ''): string {
  return limit === null || limit === undefined
    ? `${used}${unit} (no limit)`
    : `${used} of ${limit}${unit}`;
}

function gb(bytes: number): string {
  return `${(bytes / 1e9).toPrecision(3).replace(/\.?0+$/, '')}G`;
}

/** `1234.50`, `0.00`, or three significant digits below 1 (`0.00135`). */
export function amount(value: number): string {
  return value === 0 || Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

/** The budget's line: `0.42 of 1.00 USD (42%) · policy refuse`. */
export function budgetText(budget: NonNullable<ITeamUsage['budget']>): string {
  const unit = budget.unit === 'money' ? (budget.currency ?? '') : budget.unit.replace(/_/g, '-');
  const percent =
    budget.fraction === null || budget.fraction === undefined
      ? '∞'
      : `${Math.round(budget.fraction * 100)}%`;
  return `${amount(budget.spent)} of ${amount(budget.amount)} ${unit} (${percent}) · ${budget.period} · policy ${budget.policy}`;
}

/** Render one team's card into a new element. */
export function renderTeamUsage(t: ITeamUsage): HTMLElement {
  const card = el('section', 'jp-SubmarineUsage-team', undefined, `submarine-usage-${t.team}`);
  card.appendChild(el('h3', 'jp-SubmarineUsage-name', t.team));
  const q = t.quota;
  const u = {
    sessions: t.usage.sessions ?? 0,
    cpu: t.usage.cpu ?? 0,
    memory: t.usage.memory ?? 0,
    gpus: t.usage.gpus ?? 0,
    running_experiments: t.usage.running_experiments ?? 0
  };
  card.appendChild(
    meterRow('Sessions', u.sessions, q.max_sessions, limitText(String(u.sessions), q.max_sessions))
  );
  card.appendChild(
    meterRow('CPU', u.cpu, q.max_cpu_total, limitText(String(u.cpu), q.max_cpu_total))
  );
  const memoryLimit =
    q.max_memory_total === null || q.max_memory_total === undefined
      ? null
      : Number(q.max_memory_total);
  card.appendChild(
    meterRow(
      'Memory',
      u.memory,
      memoryLimit,
      memoryLimit ? `${gb(u.memory)} of ${gb(memoryLimit)}` : `${gb(u.memory)} (no limit)`
    )
  );
  card.appendChild(
    meterRow('GPUs', u.gpus, q.max_gpus_total, limitText(String(u.gpus), q.max_gpus_total))
  );
  card.appendChild(
    meterRow(
      'Runs',
      u.running_experiments,
      q.max_running_experiments,
      limitText(String(u.running_experiments), q.max_running_experiments)
    )
  );
  const free = el(
    'div',
    'jp-SubmarineUsage-row',
    `Free GPUs: ${t.free_gpus === null || t.free_gpus === undefined ? 'no GPU limit' : t.free_gpus}`,
    `submarine-usage-free-gpus-${t.team}`
  );
  card.appendChild(free);
  const m = t.month;
  card.appendChild(
    el(
      'div',
      'jp-SubmarineUsage-month',
      `This month: ${amount(m.cpu_hours)} CPU-h · ${amount(m.memory_gb_hours)} GB-h · ${amount(m.gpu_hours)} GPU-h · ${amount(m.cost)} ${m.currency ?? ''}`,
      `submarine-usage-month-${t.team}`
    )
  );
  card.appendChild(
    el(
      'div',
      'jp-SubmarineUsage-month',
      `Disk: history ${gb(t.disk.history)} · models ${gb(t.disk.models)} · homes ${gb(t.disk.homes)}`,
      `submarine-usage-disk-${t.team}`
    )
  );
  const b = t.budget;
  if (!b) {
    card.appendChild(
      el('div', 'jp-SubmarineUsage-budget jp-mod-none', 'No budget', `submarine-budget-${t.team}`)
    );
    return card;
  }
  const budget = el(
    'div',
    `jp-SubmarineUsage-budget jp-mod-${b.state}`,
    undefined,
    `submarine-budget-${t.team}`
  );
  budget.appendChild(meterRow('Budget', b.spent, b.amount, budgetText(b)));
  if (b.message) {
    const note = el(
      'p',
      'jp-SubmarineUsage-message',
      b.message,
      `submarine-budget-message-${t.team}`
    );
    note.setAttribute('role', b.state === 'spent' ? 'alert' : 'status');
    budget.appendChild(note);
  }
  card.appendChild(budget);
  return card;
}

export class UsageSection extends Widget {
  constructor(options: UsageSection.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-SubmarineUsage');
    this._body = el('div', 'jp-SubmarineUsage-body', undefined, 'submarine-usage');
    this.node.appendChild(this._body);
  }

  get items(): ITeamUsage[] {
    return this._items;
  }

  /** Read the teams' usage again; returns it (empty on an error, which is shown). */
  async refresh(): Promise<ITeamUsage[]> {
    const call = ++this._calls;
    if (!this._items.length) {
      clear(this._body);
      this._body.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…'));
    }
    try {
      const items = await this._options.api.teamUsage();
      if (call !== this._calls) {
        return this._items;
      }
      this._items = items;
    } catch (err) {
      if (call === this._calls) {
        clear(this._body);
        this._body.appendChild(errorBox(err));
      }
      return [];
    }
    clear(this._body);
    if (!this._items.length) {
      this._body.appendChild(el('p', 'jp-SubmarinePanel-empty', 'You are not in any team yet.'));
    }
    for (const team of this._items) {
      this._body.appendChild(renderTeamUsage(team));
    }
    return this._items;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  private _options: UsageSection.IOptions;
  private _body: HTMLElement;
  private _items: ITeamUsage[] = [];
  private _calls = 0;
}

export namespace UsageSection {
  export interface IOptions {
    api: SubmarineAPI;
  }
}
