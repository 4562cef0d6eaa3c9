/**
 * The Jobs tab's Schedule part: a cron expression and a time zone to create a
 * schedule of the notebook with the form's values, and the notebook's schedules,
 * each paused, resumed or deleted by its owner (or an admin).
 */
import type { IMe, INotebookSchedule, SubmarineAPI } from './api';
import type { FieldRows } from './fieldrows';
import { showError } from './jobform';
import { describeCron, localTimeZone, parametersText, timeZones } from './jobparams';
import { button, clear, el } from './util';

export class ScheduleSection {
  constructor(options: ScheduleSection.IOptions) {
    this._options = options;
  }

  /** The cron expression written. */
  get cron(): string {
    return this._cron.value.trim();
  }

  /** The time zone written. */
  get timezone(): string {
    return this._tz.value.trim();
  }

  /** The Create schedule button. */
  get createButton(): HTMLButtonElement {
    return this._button;
  }

  /** Where the part's errors show. */
  get error(): HTMLElement {
    return this._error;
  }

  /** Say that a cron expression is needed (and go to its field). */
  needCron(): void {
    showError(this._error, new Error('Write a cron expression, like 0 6 * * 1-5.'));
    this._cron.focus();
  }

  /** The part, drawn again (what was written stays). */
  render(): HTMLElement {
    const rows = this._options.rows;
    const details = el(
      'details',
      'jp-SubmarineJobs-section',
      undefined,
      'submarine-job-schedule-section'
    );
    details.open = this._open;
    details.addEventListener('toggle', () => (this._open = details.open));
    details.appendChild(el('summary', 'jp-SubmarineJobs-summary', 'Schedule'));
    const previousCron = this._cron.value;
    const previousTz = this._tz.value;
    this._cron = el('input', 'jp-SubmarinePanel-input', undefined, 'submarine-job-cron');
    this._cron.type = 'text';
    this._cron.placeholder = 'e.g. 0 6 * * 1-5';
    this._cron.value = previousCron;
    const preview = el('div', 'jp-SubmarineJobs-preview', '', 'submarine-job-cron-preview');
    preview.setAttribute('aria-live', 'polite');
    const showPreview = () => {
      const text = this._cron.value.trim();
      preview.textContent = text
        ? (describeCron(text) ??
          'A cron expression: minute hour day-of-month month day-of-week (6 fields: seconds first).')
        : '';
    };
    this._cron.addEventListener('input', showPreview);
    details.appendChild(
      rows.row(
        'Cron',
        this._cron,
        'cron',
        'minute hour day month weekday; 6 fields with seconds first'
      )
    );
    details.appendChild(preview);
    showPreview();
    this._tz = el('input', 'jp-SubmarinePanel-input', undefined, 'submarine-job-timezone');
    this._tz.type = 'text';
    this._tz.value = previousTz || localTimeZone();
    const zones = timeZones();
    if (zones.length) {
      const list = el('datalist', '');
      list.id = `${rows.uid}-zones`;
      for (const z of zones) {
        const option = el('option', '');
        option.value = z;
        list.appendChild(option);
      }
      details.appendChild(list);
      this._tz.setAttribute('list', list.id);
    }
    details.appendChild(
      rows.row('Time zone', this._tz, 'timezone', 'An IANA name, like Europe/Paris.')
    );
    const actions = el('div', 'jp-SubmarinePanel-toolbar');
    this._button = button('Create schedule', () => this._options.create(), {
      testid: 'submarine-job-schedule-create',
      title: 'Run the notebook with these values at these times'
    });
    actions.appendChild(this._button);
    details.appendChild(actions);
    this._error = el('div', '');
    details.appendChild(this._error);
    details.appendChild(el('h4', 'jp-SubmarinePanel-label', 'Schedules of this notebook'));
    this._list = el('ul', 'jp-SubmarineJobs-schedules', undefined, 'submarine-job-schedules');
    details.appendChild(this._list);
    this.renderList();
    return details;
  }

  /** Draw the notebook's schedules again. */
  renderList(): void {
    const list = this._list;
    clear(list);
    const schedules = this._options.schedules();
    if (!schedules.length) {
      list.appendChild(
        el('li', 'jp-SubmarinePanel-empty', 'None yet.', 'submarine-job-no-schedules')
      );
      return;
    }
    const me = this._options.me();
    for (const s of schedules) {
      const item = el(
        'li',
        'jp-SubmarineJobs-schedule',
        undefined,
        `submarine-job-schedule-${s.id}`
      );
      item.setAttribute('data-paused', String(s.paused));
      const line = el('div', 'jp-SubmarineRuns-line');
      line.appendChild(el('span', 'jp-SubmarineRuns-name', `${s.id} · ${s.name}`));
      line.appendChild(
        el(
          'span',
          `jp-SubmarineJobs-state ${s.paused ? 'jp-mod-paused' : ''}`,
          s.paused ? 'paused' : 'active',
          `submarine-job-schedule-state-${s.id}`
        )
      );
      item.appendChild(line);
      const words = describeCron(s.cron);
      const when = `'${s.cron}' ${s.timezone}` + (words ? ` (${words})` : '');
      const next =
        s.paused || !s.next_run_at ? '' : ` · next ${new Date(s.next_run_at).toLocaleString()}`;
      item.appendChild(
        el('div', 'jp-SubmarineRuns-meta', `${when}${next} · ${s.team} · ${s.owner}`)
      );
      const params = parametersText((s.job?.parameters as Record<string, unknown>) ?? {});
      if (params) {
        item.appendChild(el('div', 'jp-SubmarineRuns-meta', params));
      }
      if (s.owner === me?.name || me?.admin) {
        const actions = el('div', 'jp-SubmarineJobs-actions');
        actions.appendChild(
          button(s.paused ? 'Resume' : 'Pause', () => void this._pause(s, !s.paused), {
            testid: `submarine-job-schedule-pause-${s.id}`,
            title: s.paused ? 'Run it again from its next time on' : 'Stop firing until resumed'
          })
        );
        actions.appendChild(
          button('Delete', () => void this._delete(s), {
            testid: `submarine-job-schedule-delete-${s.id}`,
            title: 'Delete the schedule (its runs stay)'
          })
        );
        item.appendChild(actions);
      }
      list.appendChild(item);
    }
  }

  private async _pause(s: INotebookSchedule, paused: boolean): Promise<void> {
    clear(this._error);
    try {
      await this._options.api.pauseNotebookSchedule(s.id, paused);
      this._options.note(
        `Schedule ${s.id} ${paused ? 'paused' : 'resumed'}.`,
        'submarine-job-schedule-changed'
      );
    } catch (err) {
      showError(this._error, err);
    }
    await this._options.reload();
    (
      this._list.querySelector(
        `[data-testid="submarine-job-schedule-pause-${s.id}"]`
      ) as HTMLElement | null
    )?.focus();
  }

  private async _delete(s: INotebookSchedule): Promise<void> {
    const ok = this._options.confirm
      ? await this._options.confirm(
          'Delete schedule',
          `Delete schedule ${s.id} '${s.cron}' of ${this._options.path()}? Its runs stay.`,
          'Delete'
        )
      : true;
    if (!ok) {
      return;
    }
    clear(this._error);
    try {
      await this._options.api.deleteNotebookSchedule(s.id);
      this._options.note(`Schedule ${s.id} deleted.`, 'submarine-job-schedule-changed');
    } catch (err) {
      showError(this._error, err);
    }
    await this._options.reload();
  }

  private _options: ScheduleSection.IOptions;
  private _open = false;
  private _cron = el('input', '');
  private _tz = el('input', '');
  private _button = el('button', '');
  private _error = el('div', '');
  private _list = el('ul', '');
}

export namespace ScheduleSection {
  export interface IOptions {
    api: SubmarineAPI;
    /** The form's rows (the cron and time zone are two of them). */
    rows: FieldRows;
    /** The notebook's schedules (as last fetched) and who you are. */
    schedules: () => INotebookSchedule[];
    me: () => IMe | null;
    /** The notebook shown. */
    path: () => string | null;
    /** Create a schedule with the form's values (the button). */
    create: () => void;
    /** Fetch the schedules again (they are drawn then). */
    reload: () => Promise<void>;
    /** Say what was done. */
    note: (text: string, testid: string) => void;
    confirm?: (title: string, body: string, accept: string) => Promise<boolean>;
  }
}
