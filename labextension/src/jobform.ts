/**
 * The Jobs tab's form: labelled rows with their errors, the notebook's parameters
 * as typed inputs, and the team, environment and files-beside-it choices.
 */
import type { IEnvironment, INotebookParameter, ISessionInfo, ITeam } from './api';
import { fillProfileOptions } from './environments';
import { FieldRows } from './fieldrows';
import { initialText, typeWords } from './jobparams';
import { teamOf } from './spaces';
import { clear, el, errorBox } from './util';

/** Show `err` in `box` (what was there before goes). */
export function showError(box: HTMLElement, err: unknown): void {
  clear(box);
  box.appendChild(errorBox(err, 'submarine-jobs-error'));
}

/**
 * The tab's form rows: keyed `param-NAME` (a parameter), `grid-NAME` (a grid input)
 * or the choice's name; their errors are `submarine-job-field-error-KEY`.
 */
export function jobRows(uid: string): FieldRows {
  return new FieldRows(uid, { errorTestId: 'submarine-job-field-error-' });
}

/** The row of an error by field (`name` for a parameter, `grid-name` for a grid input). */
export function jobRowKey(name: string): string {
  return name.startsWith('grid-') ? name : `param-${name}`;
}

/**
 * The notebook's parameters as typed inputs; what was typed for a notebook
 * survives a switch to another one and back.
 */
export class ParameterFields {
  /** The parameters' fieldset for the notebook `path`. */
  render(
    path: string,
    params: INotebookParameter[],
    hasCell: boolean,
    rows: FieldRows
  ): HTMLElement {
    const box = el('fieldset', 'jp-SubmarineJobs-params', undefined, 'submarine-job-params');
    box.appendChild(el('legend', 'jp-SubmarinePanel-label', 'Parameters'));
    if (!hasCell) {
      box.appendChild(
        el(
          'p',
          'jp-SubmarineSubmit-hint',
          'This notebook has no cell tagged parameters: tag one (the property inspector, or View → Cell Toolbar → Tags) to give it parameters. It can still run as it is.',
          'submarine-job-no-parameters'
        )
      );
    } else if (!params.length) {
      box.appendChild(
        el('p', 'jp-SubmarineSubmit-hint', 'The parameters cell defines no parameters.')
      );
    }
    const typedValues = this._typedValues(path);
    for (const p of params) {
      let control: HTMLInputElement;
      // what was typed for this notebook survives a switch to another tab and back
      const typed = typedValues.get(p.name);
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
        typedValues.set(p.name, control.type === 'checkbox' ? control.checked : control.value);
      control.addEventListener('input', keep);
      control.addEventListener('change', keep);
      const label = el('span', '');
      label.appendChild(el('span', 'jp-SubmarineJobs-name', p.name));
      label.appendChild(
        el('span', 'jp-SubmarineJobs-type', ` ${p.type}${p.nullable ? ' or None' : ''}`)
      );
      const hint = [p.help, `Default: ${p.source}`].filter(Boolean).join(' · ');
      box.appendChild(rows.row(label, control, `param-${p.name}`, hint, `${typeWords(p.type)}`));
    }
    return box;
  }

  /** What the parameter inputs below `form` hold, by parameter name. */
  static rawValues(form: HTMLElement): Record<string, string | boolean> {
    const raw: Record<string, string | boolean> = {};
    for (const control of Array.from(form.querySelectorAll<HTMLInputElement>('[data-param]'))) {
      const name = control.getAttribute('data-param')!;
      raw[name] = control.type === 'checkbox' ? control.checked : control.value;
    }
    return raw;
  }

  /** The values typed into the parameter fields of the notebook `path`. */
  private _typedValues(path: string): Map<string, string | boolean> {
    let values = this._typed.get(path);
    if (!values) {
      values = new Map();
      this._typed.set(path, values);
    }
    return values;
  }

  private _typed = new Map<string, Map<string, string | boolean>>();
}

/** Where the choices start from: the user's teams, the notebook, the session. */
export interface IChoiceContext {
  teams: ITeam[];
  path: string | null;
  session: ISessionInfo;
  environments: IEnvironment[];
}

/**
 * The team, environment and files-beside-it choices of a job; drawn again,
 * they keep what was chosen.
 */
export class JobChoices {
  /** The chosen team ('' for the default). */
  get team(): string {
    return this._team.value;
  }

  /** The chosen environment profile ('' for the hub's). */
  get environment(): string {
    return this._env.value;
  }

  /** Whether the notebook's folder is sent with it. */
  get withFiles(): boolean {
    return this._withFiles.checked;
  }

  /** The rows of the three choices. */
  render(context: IChoiceContext, rows: FieldRows): HTMLElement[] {
    const { teams, path, session } = context;
    const out: HTMLElement[] = [];
    const previousTeam = this._team.value;
    this._team = el('select', 'jp-SubmarinePanel-select', undefined, 'submarine-job-team');
    for (const t of teams) {
      const option = el('option', '', t.name);
      option.value = t.name;
      this._team.appendChild(option);
    }
    // what was chosen, the team of the notebook's folder, else the session's
    const wanted = previousTeam || (path ? teamOf(path) : null) || session.team;
    if (wanted && teams.some(t => t.name === wanted)) {
      this._team.value = wanted;
    }
    this._team.addEventListener('change', () => this._renderEnvironments(context));
    out.push(
      rows.row('Team', this._team, 'team', 'The team the run belongs to (its quota, its folder).')
    );
    const previousEnv = this._env.value;
    this._env = el('select', 'jp-SubmarinePanel-select', undefined, 'submarine-job-environment');
    out.push(
      rows.row(
        'Environment',
        this._env,
        'environment',
        'An environment profile; default: the hub’s.'
      )
    );
    this._renderEnvironments(context);
    // what was chosen, else the session's environment when the run is for its team
    const env = previousEnv || (this._team.value === session.team ? session.environment : '');
    if (env && Array.from(this._env.options).some(o => o.value === env)) {
      this._env.value = env;
    }
    const sendFiles = this._withFiles.checked;
    this._withFiles = el('input', '', undefined, 'submarine-job-with-files');
    this._withFiles.type = 'checkbox';
    this._withFiles.checked = sendFiles;
    out.push(
      rows.row(
        'Files beside it',
        this._withFiles,
        'with-files',
        'Send the files of the notebook’s folder with it (data, modules); they are beside it when it runs.'
      )
    );
    return out;
  }

  private _renderEnvironments(context: IChoiceContext): void {
    fillProfileOptions(this._env, context.environments, this._team.value);
  }

  private _team = el('select', '');
  private _env = el('select', '');
  private _withFiles = el('input', '');
}
