/**
 * The Jobs tab: run the open notebook as a notebook job. Its parameters (the cell
 * tagged `parameters`) as a form, a team and an environment, and three actions:
 * Run now, Schedule (cron), Run over a grid (fan-out). Below, the notebook's job
 * runs, live, each opening its executed notebook or its run page.
 *
 * The notebook reaches the service as a path, like `%submarine run` and
 * `submarine notebook run` send it: every save in a session is a version, so the
 * tab saves the notebook if it has unsaved changes and names it; the session's
 * relay sends queued saves first, so the job runs what was just saved.
 */
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import {
  type IEnvironment,
  type IMe,
  type INotebookJob,
  type INotebookJobRequest,
  type INotebookParameter,
  type INotebookSchedule,
  type SubmarineAPI,
  type ISessionInfo,
  isFinal,
  sessionDefaults
} from './api';
import { formatNumber } from './chart';
import type { Config } from './config';
import { fillProfileOptions } from './environments';
import { statusBadge } from './experiments';
import {
  MAX_FANOUT,
  collectValues,
  describeCron,
  fieldErrorsFromMessage,
  gridSize,
  initialText,
  localTimeZone,
  parametersText,
  parseGridValues,
  timeZones,
  typeWords
} from './jobparams';
import { spaceOf, teamOf } from './spaces';
import { Poller, ago, button, clear, duration, el, errorBox, errorText, keepFocus } from './util';

/** Whether a path is a notebook. */
export function isNotebook(path: string | null | undefined): path is string {
  return !!path && /\.ipynb$/i.test(path);
}

/** A fan-out's children, counted: `6 runs: 5 succeeded, 1 running`. */
export function childrenText(job: INotebookJob): string {
  const c = job.children;
  if (!c) {
    return '';
  }
  const counts: Record<string, number> = {};
  let total = 0;
  if (Array.isArray(c)) {
    for (const child of c) {
      counts[child.status] = (counts[child.status] ?? 0) + 1;
    }
    total = c.length;
  } else {
    Object.assign(counts, c.by_status);
    total = c.total;
  }
  const bits = Object.entries(counts).map(([s, n]) => `${n} ${s}`);
  return `${total} run${total === 1 ? '' : 's'}` + (bits.length ? `: ${bits.join(', ')}` : '');
}

let nextUid = 0;

export class JobsSection extends Widget {
  constructor(options: JobsSection.IOptions) {
    super();
    this._options = options;
    this._uid = `submarine-jobs-${++nextUid}`;
    this.addClass('jp-SubmarineJobs');

    this._head = el('div', 'jp-SubmarineJobs-head');
    this._message = el('div', 'jp-SubmarineJobs-message', '', 'submarine-jobs-message');
    this._message.setAttribute('aria-live', 'polite');
    this._form = el('form', 'jp-SubmarineJobs-form', undefined, 'submarine-jobs-form');
    this._form.noValidate = true;
    this._form.addEventListener('submit', e => {
      e.preventDefault();
      void this.runNow();
    });
    this._runsBox = el('div', 'jp-SubmarineJobs-runsBox');
    for (const node of [this._head, this._message, this._form, this._runsBox]) {
      this.node.appendChild(node);
    }
    this._runsError = el('div', '');
    this._runs = el('ul', 'jp-SubmarineJobs-runs', undefined, 'submarine-job-runs');
    this._runs.setAttribute('aria-label', 'Job runs of this notebook, newest first');
    this._poller = new Poller(
      () => this._tick(),
      () => this.isVisible && !!this._path,
      options.config.intervalMs
    );
    options.config.onChange(() => (this._poller.interval = options.config.intervalMs));
    this._render();
  }

  /** The notebook shown (its path in the file browser), or null. */
  get path(): string | null {
    return this._path;
  }

  /** Its parameters (as last fetched). */
  get parameters(): INotebookParameter[] {
    return this._params;
  }

  /** Its job runs (as last fetched). */
  get jobs(): INotebookJob[] {
    return this._jobs;
  }

  /** Its schedules (as last fetched). */
  get schedules(): INotebookSchedule[] {
    return this._schedules;
  }

  /** Follow the document in the main area: notebooks only, others keep the shown one. */
  follow(path: string | null): void {
    this._followed = path;
    if (isNotebook(path)) {
      void this.setNotebook(path);
    }
  }

  /** Show `path` (again, with `force`). */
  async setNotebook(path: string | null, force = false): Promise<void> {
    const clean = path ? path.replace(/^\/+/, '') : null;
    if (clean === this._path && !force) {
      return;
    }
    this._path = clean;
    this._params = [];
    this._jobs = [];
    this._schedules = [];
    this._fanout = null;
    this._paramsError = null;
    this._hasCell = true;
    clear(this._message);
    this._render();
    await this.refresh();
  }

  /** Fetch the parameters, teams, environments, runs and schedules again. */
  async refresh(): Promise<void> {
    const path = this._path;
    if (!path) {
      return;
    }
    const call = ++this._calls;
    this._loading = true;
    this._render();
    try {
      const [me, envs, session] = await Promise.all([
        this._options.api.me(),
        this._options.api.listEnvironments().catch(() => [] as IEnvironment[]),
        sessionDefaults(this._options.api)
      ]);
      this._me = me;
      this._session = session;
      this._environments = envs;
      try {
        const reply = await this._options.api.notebookParameters(path);
        this._params = reply.parameters;
        this._hasCell = reply.has_parameters_cell;
        this._version = reply.notebook.version;
        this._paramsError = null;
      } catch (err) {
        this._params = [];
        this._paramsError = err;
      }
    } catch (err) {
      this._paramsError = err;
    }
    if (call !== this._calls || path !== this._path) {
      return;
    }
    this._loading = false;
    this._render();
    await this._poller.refresh();
  }

  /** Run the notebook now with the form's values. */
  async runNow(): Promise<INotebookJob | null> {
    const body = this._jobRequest();
    if (!body) {
      return null;
    }
    return this._submit(this._runButton, async () => {
      const run = await this._options.api.runNotebook(await this._withFolder(body));
      this._options.watchRun?.(run);
      this._note(
        `Submitted run #${run.id} (${run.name}, team ${run.team}).` +
          (run.output?.lab_path ? ` Its executed notebook will be ${run.output.lab_path}.` : ''),
        'submarine-job-submitted'
      );
      return run;
    });
  }

  /** Create a schedule of the notebook with the form's values. */
  async schedule(): Promise<INotebookSchedule | null> {
    const job = this._jobRequest();
    const cron = this._cron.value.trim();
    if (!job) {
      return null;
    }
    if (!cron) {
      this._showError(this._scheduleError, new Error('Write a cron expression, like 0 6 * * 1-5.'));
      this._cron.focus();
      return null;
    }
    const timezone = this._tz.value.trim() || 'UTC';
    return this._submit(
      this._scheduleButton,
      async () => {
        const s = await this._options.api.createNotebookSchedule({
          job: await this._withFolder(job),
          cron,
          timezone
        });
        this._note(
          `Schedule ${s.id} created: '${s.cron}' ${s.timezone}` +
            (s.next_run_at ? `; next run ${new Date(s.next_run_at).toLocaleString()}.` : '.'),
          'submarine-job-scheduled'
        );
        await this._loadSchedules();
        return s;
      },
      this._scheduleError
    );
  }

  /** Run the notebook over the grid of values. */
  async runGrid(): Promise<INotebookJob | null> {
    const base = this._jobRequest();
    if (!base) {
      return null;
    }
    const grid = this._readGrid();
    if (!grid) {
      return null;
    }
    const count = gridSize(grid);
    if (count === 0) {
      this._showError(
        this._gridError,
        new Error('Give a list of values for at least one parameter.')
      );
      return null;
    }
    if (count > MAX_FANOUT) {
      this._showError(
        this._gridError,
        new Error(`The grid makes ${count} runs; at most ${MAX_FANOUT}.`)
      );
      return null;
    }
    for (const name of Object.keys(grid)) {
      delete base.parameters?.[name];
    }
    return this._submit(
      this._gridButton,
      async () => {
        const run = await this._options.api.runNotebook(await this._withFolder({ ...base, grid }));
        this._options.watchRun?.(run);
        this._fanout = run;
        this._note(
          `Submitted run #${run.id} (${run.name}, team ${run.team}) with ${count} child runs.`,
          'submarine-job-submitted'
        );
        this._renderFanout();
        return run;
      },
      this._gridError
    );
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    const current = this._options.currentPath();
    if (isNotebook(current) && current !== this._followed) {
      this.follow(current);
    }
    this._poller.start();
    if (this._path) {
      void this._poller.refresh();
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

  // --- requests ----------------------------------------------------------------------

  /** The job the form describes, or null (and the fields' errors shown). */
  private _jobRequest(): INotebookJobRequest | null {
    const path = this._path;
    if (!path) {
      return null;
    }
    this._clearErrors();
    const { values, errors } = collectValues(this._params, this._rawValues());
    if (Object.keys(errors).length) {
      this._showFieldErrors(errors);
      return null;
    }
    const body: INotebookJobRequest = { notebook: path };
    if (Object.keys(values).length) {
      body.parameters = values;
    }
    if (this._team.value) {
      body.team = this._team.value;
    }
    if (this._env.value) {
      body.environment = { profile: this._env.value };
    }
    return body;
  }

  /** The job with the notebook's folder uploaded (`files`), when the box is ticked. */
  private async _withFolder(body: INotebookJobRequest): Promise<INotebookJobRequest> {
    if (!this._withFiles.checked) {
      return body;
    }
    const notebook = body.notebook ?? '';
    const folder = notebook.includes('/') ? notebook.replace(/\/[^/]*$/, '') : '';
    return { ...body, files: await this._options.api.uploadFolder(folder) };
  }

  /** Save the notebook if it has unsaved changes, then `send`; errors shown in `box`. */
  private async _submit<T>(
    control: HTMLButtonElement,
    send: () => Promise<T>,
    box: HTMLElement = this._error
  ): Promise<T | null> {
    control.disabled = true;
    try {
      if (this._path) {
        await this._options.saveIfDirty?.(this._path);
      }
      const out = await send();
      await this._poller.refresh();
      return out;
    } catch (err) {
      const names = this._params.map(p => p.name);
      const status = (err as { status?: number }).status;
      const fields = status === 400 ? fieldErrorsFromMessage(errorText(err), names) : {};
      this._showFieldErrors(fields);
      this._showError(box, err);
      return null;
    } finally {
      control.disabled = false;
    }
  }

  private async _tick(): Promise<void> {
    const path = this._path;
    if (!path) {
      return;
    }
    try {
      const jobs = await this._options.api.listNotebookJobs(path);
      if (path !== this._path) {
        return;
      }
      this._jobs = jobs;
      clear(this._runsError);
    } catch (err) {
      clear(this._runsError);
      this._runsError.appendChild(errorBox(err, 'submarine-job-runs-error'));
    }
    if (this._fanout && !isFinal(this._fanout.status)) {
      try {
        this._fanout = await this._options.api.getNotebookJob(this._fanout.id);
      } catch {
        // shown again next time
      }
    }
    await this._loadSchedules();
    keepFocus(this.node, () => {
      this._renderRuns();
      this._renderSchedules();
      this._renderFanout();
    });
  }

  private async _loadSchedules(): Promise<void> {
    const path = this._path;
    if (!path || !this._me) {
      return;
    }
    const where = spaceOf(path, this._me.name);
    try {
      const all = await this._options.api.listNotebookSchedules();
      if (path === this._path) {
        this._schedules = all.filter(s => s.notebook === `${where.space}/${where.path}`);
      }
    } catch {
      // the list of runs shows the service's state; schedules wait for the next tick
    }
    this._renderSchedules();
  }

  // --- rendering ---------------------------------------------------------------------

  private _render(): void {
    clear(this._head);
    clear(this._form);
    this._fields.clear();
    this._renderRunsBox();
    if (!this._path) {
      this._head.appendChild(
        el(
          'p',
          'jp-SubmarinePanel-empty',
          'Open a notebook (or choose Run as Job… on one in the file browser) to run it as a job: now, on a schedule or over a grid of parameters.',
          'submarine-jobs-empty'
        )
      );
      return;
    }
    const title = el('div', 'jp-SubmarineJobs-title');
    title.appendChild(el('span', 'jp-SubmarinePanel-label', 'Notebook'));
    title.appendChild(el('span', 'jp-SubmarineJobs-path', this._path, 'submarine-jobs-path'));
    if (this._version) {
      title.appendChild(el('span', 'jp-SubmarineJobs-version', `version ${this._version}`));
    }
    this._head.appendChild(title);
    if (this._loading && !this._params.length) {
      this._form.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…', 'submarine-loading'));
      return;
    }
    if (this._paramsError) {
      this._form.appendChild(errorBox(this._paramsError, 'submarine-jobs-params-error'));
      return;
    }
    this._renderParameters();
    this._renderChoices();
    const actions = el('div', 'jp-SubmarinePanel-toolbar');
    this._runButton = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-accept jp-SubmarinePanel-button',
      'Run now',
      'submarine-job-run'
    );
    this._runButton.type = 'submit';
    this._runButton.title = 'Run the notebook with these values as a job now';
    actions.appendChild(this._runButton);
    this._form.appendChild(actions);
    this._error = el('div', 'jp-SubmarineSubmit-error');
    this._form.appendChild(this._error);
    this._form.appendChild(this._scheduleSection());
    this._form.appendChild(this._gridSection());
  }

  private _renderParameters(): void {
    const box = el('fieldset', 'jp-SubmarineJobs-params', undefined, 'submarine-job-params');
    box.appendChild(el('legend', 'jp-SubmarinePanel-label', 'Parameters'));
    if (!this._hasCell) {
      box.appendChild(
        el(
          'p',
          'jp-SubmarineSubmit-hint',
          'This notebook has no cell tagged parameters: tag one (the property inspector, or View → Cell Toolbar → Tags) to give it parameters. It can still run as it is.',
          'submarine-job-no-parameters'
        )
      );
    } else if (!this._params.length) {
      box.appendChild(
        el('p', 'jp-SubmarineSubmit-hint', 'The parameters cell defines no parameters.')
      );
    }
    for (const p of this._params) {
      let control: HTMLInputElement;
      // what was typed for this notebook survives a switch to another tab and back
      const typed = this._typedValues().get(p.name);
      if (p.type === 'bool') {
        control = el('input', 'jp-SubmarineJobs-check', undefined, `submarine-job-param-${p.name}`);
        control.type = 'checkbox';
        control.checked = typeof typed === 'boolean' ? typed : p.default === true;
      } else {
        control = el(
          'input',
          'jp-SubmarinePanel-input',
          undefined,
          `submarine-job-param-${p.name}`
        );
        control.type = 'text';
        control.value = typeof typed === 'string' ? typed : initialText(p);
        control.placeholder = p.default === null ? p.source : '';
        if (p.type === 'int' || p.type === 'float') {
          control.inputMode = p.type === 'int' ? 'numeric' : 'decimal';
        }
      }
      control.setAttribute('data-param', p.name);
      const keep = () =>
        this._typedValues().set(
          p.name,
          control.type === 'checkbox' ? control.checked : control.value
        );
      control.addEventListener('input', keep);
      control.addEventListener('change', keep);
      const label = el('span', '');
      label.appendChild(el('span', 'jp-SubmarineJobs-name', p.name));
      label.appendChild(
        el('span', 'jp-SubmarineJobs-type', ` ${p.type}${p.nullable ? ' or None' : ''}`)
      );
      const hint = [p.help, `Default: ${p.source}`].filter(Boolean).join(' · ');
      box.appendChild(this._row(label, control, `param-${p.name}`, hint, `${typeWords(p.type)}`));
    }
    this._form.appendChild(box);
  }

  /** The values typed into the parameter fields of the shown notebook. */
  private _typedValues(): Map<string, string | boolean> {
    const path = this._path ?? '';
    let values = this._typed.get(path);
    if (!values) {
      values = new Map();
      this._typed.set(path, values);
    }
    return values;
  }

  private _renderChoices(): void {
    const teams = this._me?.teams ?? [];
    const previousTeam = this._team.value;
    this._team = el('select', 'jp-SubmarinePanel-select', undefined, 'submarine-job-team');
    for (const t of teams) {
      const option = el('option', '', t.name);
      option.value = t.name;
      this._team.appendChild(option);
    }
    // what was chosen, the team of the notebook's folder, else the session's
    const wanted = previousTeam || (this._path ? teamOf(this._path) : null) || this._session.team;
    if (wanted && teams.some(t => t.name === wanted)) {
      this._team.value = wanted;
    }
    this._team.addEventListener('change', () => this._renderEnvironments());
    this._form.appendChild(
      this._row('Team', this._team, 'team', 'The team the run belongs to (its quota, its folder).')
    );
    const previousEnv = this._env.value;
    this._env = el('select', 'jp-SubmarinePanel-select', undefined, 'submarine-job-environment');
    this._form.appendChild(
      this._row(
        'Environment',
        this._env,
        'environment',
        'An environment profile; default: the hub’s.'
      )
    );
    this._renderEnvironments();
    // what was chosen, else the session's environment when the run is for its team
    const env =
      previousEnv || (this._team.value === this._session.team ? this._session.environment : '');
    if (env && Array.from(this._env.options).some(o => o.value === env)) {
      this._env.value = env;
    }
    const sendFiles = this._withFiles.checked;
    this._withFiles = el('input', '', undefined, 'submarine-job-with-files');
    this._withFiles.type = 'checkbox';
    this._withFiles.checked = sendFiles;
    this._form.appendChild(
      this._row(
        'Files beside it',
        this._withFiles,
        'with-files',
        'Send the files of the notebook’s folder with it (data, modules); they are beside it when it runs.'
      )
    );
  }

  private _renderEnvironments(): void {
    fillProfileOptions(this._env, this._environments, this._team.value);
  }

  private _scheduleSection(): HTMLElement {
    const details = el(
      'details',
      'jp-SubmarineJobs-section',
      undefined,
      'submarine-job-schedule-section'
    );
    details.open = this._scheduleOpen;
    details.addEventListener('toggle', () => (this._scheduleOpen = details.open));
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
      this._row(
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
      list.id = `${this._uid}-zones`;
      for (const z of zones) {
        const option = el('option', '');
        option.value = z;
        list.appendChild(option);
      }
      details.appendChild(list);
      this._tz.setAttribute('list', list.id);
    }
    details.appendChild(
      this._row('Time zone', this._tz, 'timezone', 'An IANA name, like Europe/Paris.')
    );
    const actions = el('div', 'jp-SubmarinePanel-toolbar');
    this._scheduleButton = button('Create schedule', () => void this.schedule(), {
      testid: 'submarine-job-schedule-create',
      title: 'Run the notebook with these values at these times'
    });
    actions.appendChild(this._scheduleButton);
    details.appendChild(actions);
    this._scheduleError = el('div', '');
    details.appendChild(this._scheduleError);
    details.appendChild(el('h4', 'jp-SubmarinePanel-label', 'Schedules of this notebook'));
    this._scheduleList = el(
      'ul',
      'jp-SubmarineJobs-schedules',
      undefined,
      'submarine-job-schedules'
    );
    details.appendChild(this._scheduleList);
    this._renderSchedules();
    return details;
  }

  private _renderSchedules(): void {
    const list = this._scheduleList;
    clear(list);
    if (!this._schedules.length) {
      list.appendChild(
        el('li', 'jp-SubmarinePanel-empty', 'None yet.', 'submarine-job-no-schedules')
      );
      return;
    }
    const me = this._me?.name;
    for (const s of this._schedules) {
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
      if (s.owner === me || this._me?.admin) {
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
    clear(this._scheduleError);
    try {
      await this._options.api.pauseNotebookSchedule(s.id, paused);
      this._note(
        `Schedule ${s.id} ${paused ? 'paused' : 'resumed'}.`,
        'submarine-job-schedule-changed'
      );
    } catch (err) {
      this._showError(this._scheduleError, err);
    }
    await this._loadSchedules();
    (
      this._scheduleList.querySelector(
        `[data-testid="submarine-job-schedule-pause-${s.id}"]`
      ) as HTMLElement | null
    )?.focus();
  }

  private async _delete(s: INotebookSchedule): Promise<void> {
    const ok = this._options.confirm
      ? await this._options.confirm(
          'Delete schedule',
          `Delete schedule ${s.id} '${s.cron}' of ${this._path}? Its runs stay.`,
          'Delete'
        )
      : true;
    if (!ok) {
      return;
    }
    clear(this._scheduleError);
    try {
      await this._options.api.deleteNotebookSchedule(s.id);
      this._note(`Schedule ${s.id} deleted.`, 'submarine-job-schedule-changed');
    } catch (err) {
      this._showError(this._scheduleError, err);
    }
    await this._loadSchedules();
  }

  private _gridSection(): HTMLElement {
    const details = el(
      'details',
      'jp-SubmarineJobs-section',
      undefined,
      'submarine-job-grid-section'
    );
    details.open = this._gridOpen;
    details.addEventListener('toggle', () => (this._gridOpen = details.open));
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
      const grid = this._readGrid(false);
      const n = grid ? gridSize(grid) : 0;
      count.textContent = n
        ? `${n} run${n === 1 ? '' : 's'}${n > MAX_FANOUT ? ` (at most ${MAX_FANOUT})` : ''}`
        : '';
    };
    const previous = new Map(Array.from(this._gridInputs).map(([k, v]) => [k, v.value]));
    this._gridInputs.clear();
    for (const p of this._params) {
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
      this._gridInputs.set(p.name, input);
      details.appendChild(this._row(p.name, input, `grid-${p.name}`));
    }
    if (!this._params.length) {
      details.appendChild(
        el('p', 'jp-SubmarinePanel-empty', 'The notebook has no parameters to vary.')
      );
    }
    details.appendChild(count);
    update();
    const actions = el('div', 'jp-SubmarinePanel-toolbar');
    this._gridButton = button('Run grid', () => void this.runGrid(), {
      testid: 'submarine-job-grid-run',
      title: 'One run per combination of these values, under one parent run'
    });
    this._gridButton.disabled = !this._params.length;
    actions.appendChild(this._gridButton);
    details.appendChild(actions);
    this._gridError = el('div', '');
    details.appendChild(this._gridError);
    this._fanoutBox = el('div', 'jp-SubmarineJobs-fanout', undefined, 'submarine-job-grid-summary');
    details.appendChild(this._fanoutBox);
    this._renderFanout();
    return details;
  }

  /** The grid's value lists (null when one is wrong; its error shown if `show`). */
  private _readGrid(show = true): Record<string, unknown[]> | null {
    const grid: Record<string, unknown[]> = {};
    for (const p of this._params) {
      const text = this._gridInputs.get(p.name)?.value ?? '';
      if (!text.trim()) {
        continue;
      }
      const parsed = parseGridValues(p, text);
      if (!parsed.ok) {
        if (show) {
          this._showFieldErrors({ [`grid-${p.name}`]: parsed.error });
        }
        return null;
      }
      grid[p.name] = parsed.values;
    }
    return grid;
  }

  private _renderFanout(): void {
    const box = this._fanoutBox;
    clear(box);
    const job = this._fanout;
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

  private _renderRunsBox(): void {
    clear(this._runsBox);
    if (!this._path || this._paramsError) {
      return;
    }
    this._runsBox.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Job runs of this notebook'));
    this._runsBox.appendChild(this._runsError);
    this._runsBox.appendChild(this._runs);
    this._renderRuns();
  }

  private _renderRuns(): void {
    clear(this._runs);
    if (!this._jobs.length) {
      this._runs.appendChild(
        el(
          'li',
          'jp-SubmarinePanel-empty',
          'No job runs yet: Run now starts one.',
          'submarine-job-no-runs'
        )
      );
      return;
    }
    for (const job of this._jobs) {
      const item = el('li', 'jp-SubmarineJobs-run', undefined, `submarine-job-run-${job.id}`);
      item.dataset.runId = String(job.id);
      const line = el('div', 'jp-SubmarineRuns-line');
      line.appendChild(statusBadge(job.status, `submarine-job-status-${job.id}`));
      line.appendChild(el('span', 'jp-SubmarineRuns-name', `#${job.id} ${job.name}`));
      item.appendChild(line);
      const isFanout = !!job.children;
      const what = isFanout ? childrenText(job) : parametersText(job.parameters);
      if (what) {
        item.appendChild(
          el('div', 'jp-SubmarineRuns-meta', what, `submarine-job-params-${job.id}`)
        );
      }
      const bits = [job.team, job.owner, ago(job.created_at), duration(job.duration)];
      for (const [k, v] of Object.entries(job.metrics ?? {}).slice(0, 2)) {
        bits.push(`${k} ${formatNumber(v)}`);
      }
      item.appendChild(el('div', 'jp-SubmarineRuns-meta', bits.filter(Boolean).join(' · ')));
      if (job.status === 'failed' && job.reason) {
        item.appendChild(el('div', 'jp-SubmarineJobs-reason', job.reason));
      }
      const actions = el('div', 'jp-SubmarineJobs-actions');
      const lab = job.output?.lab_path;
      if (lab && isFinal(job.status)) {
        actions.appendChild(
          button('Open executed notebook', () => void this._open(lab), {
            testid: `submarine-job-open-${job.id}`,
            className: 'jp-SubmarineJobs-link',
            title: `Open ${lab}`
          })
        );
      }
      if (isFanout) {
        actions.appendChild(
          button('Summary', () => void this._showSummary(job.id), {
            testid: `submarine-job-summary-${job.id}`,
            className: 'jp-SubmarineJobs-link',
            title: "The children's parameters, status and metrics"
          })
        );
      }
      actions.appendChild(
        button('Show run', () => this._options.showRun(job.id), {
          testid: `submarine-job-show-${job.id}`,
          className: 'jp-SubmarineJobs-link',
          title: 'Its page in the Experiments tab: status, logs, metrics'
        })
      );
      item.appendChild(actions);
      this._runs.appendChild(item);
    }
  }

  private async _open(path: string): Promise<void> {
    try {
      await this._options.openFile(path);
    } catch (err) {
      this._showError(this._error, err);
    }
  }

  private async _showSummary(id: number): Promise<void> {
    try {
      this._fanout = await this._options.api.getNotebookJob(id);
      this._gridOpen = true;
      const details = this._form.querySelector(
        '[data-testid="submarine-job-grid-section"]'
      ) as HTMLDetailsElement | null;
      if (details) {
        details.open = true;
      }
      this._renderFanout();
      this._fanoutBox.scrollIntoView?.({ block: 'nearest' });
    } catch (err) {
      this._showError(this._gridError, err);
    }
  }

  // --- form helpers --------------------------------------------------------------------

  private _rawValues(): Record<string, string | boolean> {
    const raw: Record<string, string | boolean> = {};
    for (const control of Array.from(
      this._form.querySelectorAll<HTMLInputElement>('[data-param]')
    )) {
      const name = control.getAttribute('data-param')!;
      raw[name] = control.type === 'checkbox' ? control.checked : control.value;
    }
    return raw;
  }

  /** A labelled row with a place for its error (and an optional hint). */
  private _row(
    label: string | HTMLElement,
    control: HTMLElement,
    key: string,
    hint?: string,
    title?: string
  ): HTMLElement {
    const id = `${this._uid}-${key}`;
    control.id = id;
    if (title) {
      control.title = title;
    }
    const row = el('div', 'jp-SubmarineSubmit-row');
    const l = el('label', 'jp-SubmarineSubmit-label');
    l.htmlFor = id;
    if (typeof label === 'string') {
      l.textContent = label;
    } else {
      l.appendChild(label);
    }
    row.appendChild(l);
    row.appendChild(control);
    const described: string[] = [];
    if (hint) {
      const h = el('div', 'jp-SubmarineSubmit-hint', hint);
      h.id = `${id}-hint`;
      described.push(h.id);
      row.appendChild(h);
    }
    const error = el(
      'div',
      'jp-SubmarineSubmit-fieldError',
      '',
      `submarine-job-field-error-${key}`
    );
    error.id = `${id}-error`;
    error.hidden = true;
    described.push(error.id);
    row.appendChild(error);
    control.setAttribute('aria-describedby', described.join(' '));
    const clearError = () => {
      error.hidden = true;
      error.textContent = '';
      control.removeAttribute('aria-invalid');
    };
    control.addEventListener('input', clearError);
    control.addEventListener('change', clearError);
    this._fields.set(key, { control, error });
    return row;
  }

  private _clearErrors(): void {
    for (const { control, error } of this._fields.values()) {
      error.hidden = true;
      error.textContent = '';
      control.removeAttribute('aria-invalid');
    }
    for (const box of [this._error, this._scheduleError, this._gridError]) {
      clear(box);
    }
  }

  /** Show errors by field (`name` for a parameter, `grid-name` for a grid input). */
  private _showFieldErrors(errors: Record<string, string>): void {
    let first: HTMLElement | null = null;
    for (const [name, message] of Object.entries(errors)) {
      const field = this._fields.get(name.startsWith('grid-') ? name : `param-${name}`);
      if (!field) {
        continue;
      }
      field.error.textContent = message;
      field.error.hidden = false;
      field.control.setAttribute('aria-invalid', 'true');
      first = first ?? field.control;
    }
    first?.focus();
  }

  private _showError(box: HTMLElement, err: unknown): void {
    clear(box);
    box.appendChild(errorBox(err, 'submarine-jobs-error'));
  }

  private _note(text: string, testid: string): void {
    clear(this._message);
    this._message.appendChild(el('p', 'jp-SubmarineJobs-note', text, testid));
  }

  private _options: JobsSection.IOptions;
  private _uid: string;
  private _path: string | null = null;
  private _followed: string | null = null;
  private _me: IMe | null = null;
  private _typed = new Map<string, Map<string, string | boolean>>();
  private _session: ISessionInfo = { team: null, environment: null };
  private _environments: IEnvironment[] = [];
  private _params: INotebookParameter[] = [];
  private _hasCell = true;
  private _version: number | null = null;
  private _paramsError: unknown = null;
  private _loading = false;
  private _jobs: INotebookJob[] = [];
  private _schedules: INotebookSchedule[] = [];
  private _fanout: INotebookJob | null = null;
  private _calls = 0;
  private _scheduleOpen = false;
  private _gridOpen = false;
  private _poller: Poller;
  private _fields = new Map<string, { control: HTMLElement; error: HTMLElement }>();
  private _gridInputs = new Map<string, HTMLInputElement>();
  private _head: HTMLElement;
  private _message: HTMLElement;
  private _form: HTMLFormElement;
  private _runsBox: HTMLElement;
  private _runs: HTMLElement;
  private _runsError: HTMLElement;
  private _error = el('div', '');
  private _scheduleError = el('div', '');
  private _gridError = el('div', '');
  private _scheduleList = el('ul', '');
  private _fanoutBox = el('div', '');
  private _team = el('select', '');
  private _env = el('select', '');
  private _withFiles = el('input', '');
  private _cron = el('input', '');
  private _tz = el('input', '');
  private _runButton = el('button', '');
  private _scheduleButton = el('button', '');
  private _gridButton = el('button', '');
}

export namespace JobsSection {
  export interface IOptions {
    api: SubmarineAPI;
    config: Config;
    /** The path of the document in the main area, or null. */
    currentPath: () => string | null;
    /** Save the notebook if it is open with unsaved changes. */
    saveIfDirty?: (path: string) => Promise<void>;
    /** Open a file of the session in JupyterLab. */
    openFile: (path: string) => Promise<unknown>;
    /** Show a run's page in the Experiments tab. */
    showRun: (id: number) => void;
    /** Watch a submitted run (a notification when it ends). */
    watchRun?: (run: INotebookJob) => void;
    confirm?: (title: string, body: string, accept: string) => Promise<boolean>;
  }
}
