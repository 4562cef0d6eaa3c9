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
 *
 * Its parts: the form (`jobform.ts`), the schedules (`jobschedules.ts`), the grid
 * and a fan-out's summary (`jobgrid.ts`), the list of runs (`jobruns.ts`).
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
import type { Config } from './config';
import type { FieldRows } from './fieldrows';
import { JobChoices, ParameterFields, jobRowKey, jobRows, showError } from './jobform';
import { GridSection } from './jobgrid';
import { MAX_FANOUT, collectValues, fieldErrorsFromMessage, gridSize } from './jobparams';
import { renderJobRuns } from './jobruns';
import { ScheduleSection } from './jobschedules';
import { spaceOf } from './spaces';
import { Poller, clear, el, errorBox, errorText, keepFocus } from './util';

export { childrenText } from './jobruns';

/** Whether a path is a notebook. */
export function isNotebook(path: string | null | undefined): path is string {
  return !!path && /\.ipynb$/i.test(path);
}

let nextUid = 0;

export class JobsSection extends Widget {
  constructor(options: JobsSection.IOptions) {
    super();
    this._options = options;
    this._rows = jobRows(`submarine-jobs-${++nextUid}`);
    this._scheduling = new ScheduleSection({
      api: options.api,
      rows: this._rows,
      schedules: () => this._schedules,
      me: () => this._me,
      path: () => this._path,
      create: () => void this.schedule(),
      reload: () => this._loadSchedules(),
      note: (text, testid) => this._note(text, testid),
      confirm: options.confirm
    });
    this._grid = new GridSection({
      rows: this._rows,
      fanout: () => this._fanout,
      run: () => void this.runGrid(),
      showRun: id => options.showRun(id)
    });
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
    const cron = this._scheduling.cron;
    if (!job) {
      return null;
    }
    if (!cron) {
      this._scheduling.needCron();
      return null;
    }
    const timezone = this._scheduling.timezone || 'UTC';
    return this._submit(
      this._scheduling.createButton,
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
      this._scheduling.error
    );
  }

  /** Run the notebook over the grid of values. */
  async runGrid(): Promise<INotebookJob | null> {
    const base = this._jobRequest();
    if (!base) {
      return null;
    }
    const grid = this._grid.read(this._params);
    if (!grid) {
      return null;
    }
    const count = gridSize(grid);
    if (count === 0) {
      showError(this._grid.error, new Error('Give a list of values for at least one parameter.'));
      return null;
    }
    if (count > MAX_FANOUT) {
      showError(
        this._grid.error,
        new Error(`The grid makes ${count} runs; at most ${MAX_FANOUT}.`)
      );
      return null;
    }
    for (const name of Object.keys(grid)) {
      delete base.parameters?.[name];
    }
    return this._submit(
      this._grid.runButton,
      async () => {
        const run = await this._options.api.runNotebook(await this._withFolder({ ...base, grid }));
        this._options.watchRun?.(run);
        this._fanout = run;
        this._note(
          `Submitted run #${run.id} (${run.name}, team ${run.team}) with ${count} child runs.`,
          'submarine-job-submitted'
        );
        this._grid.renderFanout();
        return run;
      },
      this._grid.error
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
    this._rows.clearErrors();
    for (const box of [this._error, this._scheduling.error, this._grid.error]) {
      clear(box);
    }
    const raw = ParameterFields.rawValues(this._form);
    const { values, errors } = collectValues(this._params, raw);
    if (Object.keys(errors).length) {
      this._rows.showErrors(errors, jobRowKey);
      return null;
    }
    const body: INotebookJobRequest = { notebook: path };
    if (Object.keys(values).length) {
      body.parameters = values;
    }
    if (this._choices.team) {
      body.team = this._choices.team;
    }
    if (this._choices.environment) {
      body.environment = { profile: this._choices.environment };
    }
    return body;
  }

  /** The job with the notebook's folder uploaded (`files`), when the box is ticked. */
  private async _withFolder(body: INotebookJobRequest): Promise<INotebookJobRequest> {
    if (!this._choices.withFiles) {
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
      this._rows.showErrors(fields, jobRowKey);
      showError(box, err);
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
      this._scheduling.renderList();
      this._grid.renderFanout();
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
    this._scheduling.renderList();
  }

  // --- rendering ---------------------------------------------------------------------

  private _render(): void {
    clear(this._head);
    clear(this._form);
    this._rows.reset();
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
    this._form.appendChild(
      this._parameters.render(this._path, this._params, this._hasCell, this._rows)
    );
    const choices = this._choices.render(
      {
        teams: this._me?.teams ?? [],
        path: this._path,
        session: this._session,
        environments: this._environments
      },
      this._rows
    );
    for (const row of choices) {
      this._form.appendChild(row);
    }
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
    this._form.appendChild(this._scheduling.render());
    this._form.appendChild(this._grid.render(this._params));
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
    renderJobRuns(this._runs, this._jobs, {
      open: path => void this._open(path),
      summary: id => void this._showSummary(id),
      showRun: id => this._options.showRun(id),
      explore: this._options.explore
    });
  }

  private async _open(path: string): Promise<void> {
    try {
      await this._options.openFile(path);
    } catch (err) {
      showError(this._error, err);
    }
  }

  private async _showSummary(id: number): Promise<void> {
    try {
      this._fanout = await this._options.api.getNotebookJob(id);
      this._grid.open();
      this._grid.renderFanout();
      this._grid.fanoutBox.scrollIntoView?.({ block: 'nearest' });
    } catch (err) {
      showError(this._grid.error, err);
    }
  }

  private _note(text: string, testid: string): void {
    clear(this._message);
    this._message.appendChild(el('p', 'jp-SubmarineJobs-note', text, testid));
  }

  private _options: JobsSection.IOptions;
  private _rows: FieldRows;
  private _parameters = new ParameterFields();
  private _choices = new JobChoices();
  private _scheduling: ScheduleSection;
  private _grid: GridSection;
  private _path: string | null = null;
  private _followed: string | null = null;
  private _me: IMe | null = null;
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
  private _poller: Poller;
  private _head: HTMLElement;
  private _message: HTMLElement;
  private _form: HTMLFormElement;
  private _runsBox: HTMLElement;
  private _runs: HTMLElement;
  private _runsError: HTMLElement;
  private _error = el('div', '');
  private _runButton = el('button', '');
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
    /** Open the run explorer on a filter (a job's runs). */
    explore?: (filter: string) => void;
    /** Watch a submitted run (a notification when it ends). */
    watchRun?: (run: INotebookJob) => void;
    confirm?: (title: string, body: string, accept: string) => Promise<boolean>;
  }
}
