/**
 * "Register as model…": a form (shown in a dialog) that registers a file of the
 * session, or outputs of a run, as a new version of a team's model — a new model
 * or an existing one.
 */
import { Widget } from '@lumino/widgets';

import type { IExperiment, IFileEntry, IModel, IModelVersion, SubmarineAPI } from './api';
import { clear, el, errorBox, size } from './util';

/** The frameworks a version may name (see submarine_hub/core/models.py). */
export const FRAMEWORKS = [
  '',
  'sklearn',
  'onnx',
  'pytorch',
  'tensorflow',
  'xgboost',
  'lightgbm',
  'custom'
];

/** What is registered: a file of the session, or outputs of a run. */
export type RegisterSource = { kind: 'file'; path: string } | { kind: 'run'; run: IExperiment };

/** Where it goes and what is said about it. */
export interface IRegisterTarget {
  team: string;
  name: string;
  description?: string;
  framework?: string;
  /** Create the model first (it does not exist yet). */
  create: boolean;
}

/** The last part of a path. */
export function baseName(path: string): string {
  const parts = path.replace(/\/+$/, '').split('/');
  return parts[parts.length - 1] ?? '';
}

/** A model name suggested by a file or run name: `iris.joblib` → `iris`. */
export function suggestName(text: string): string {
  const stem = baseName(text).replace(/\.[^.]*$/, '');
  return stem
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 100);
}

/** The framework a file's extension suggests ('' when it does not say). */
export function frameworkOf(path: string): string {
  if (/\.onnx$/i.test(path)) {
    return 'onnx';
  }
  if (/\.(pt|pth)$/i.test(path)) {
    return 'pytorch';
  }
  return '';
}

/** Files of a run's outputs that look like models (pickles, ONNX, weights). */
export function looksLikeModel(path: string): boolean {
  return /\.(joblib|pkl|pickle|onnx|pt|pth|h5|keras|safetensors)$/i.test(path);
}

/** Hex SHA-256 of bytes, or undefined where the browser has no WebCrypto (plain http). */
export async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    return undefined;
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(digest, b => b.toString(16).padStart(2, '0')).join('');
}

function versionBody(target: IRegisterTarget): { description?: string; framework?: string } {
  const body: { description?: string; framework?: string } = {};
  if (target.description) {
    body.description = target.description;
  }
  if (target.framework) {
    body.framework = target.framework;
  }
  return body;
}

/**
 * Register bytes as a new version: create the model (if asked), an empty
 * version, upload the file, mark the version ready. A version left half-done by
 * a failure is deleted, so a failed registration leaves nothing behind.
 */
export async function registerBytes(
  api: SubmarineAPI,
  target: IRegisterTarget,
  fileName: string,
  bytes: Uint8Array
): Promise<IModelVersion> {
  if (target.create) {
    await api.createModel({
      team: target.team,
      name: target.name,
      description: target.description ?? ''
    });
  }
  const version = await api.createVersion(target.team, target.name, versionBody(target));
  try {
    const digest = await sha256Hex(bytes);
    await api.uploadModelFile(target.team, target.name, version.version, fileName, bytes, digest);
    return await api.markReady(target.team, target.name, version.version);
  } catch (err) {
    await api.deleteVersion(target.team, target.name, version.version).catch(() => undefined);
    throw err;
  }
}

/** Register outputs of a run as a new version (copied by the service, in one step). */
export async function registerRunOutputs(
  api: SubmarineAPI,
  target: IRegisterTarget,
  runId: number,
  paths: string[]
): Promise<IModelVersion> {
  if (target.create) {
    await api.createModel({
      team: target.team,
      name: target.name,
      description: target.description ?? ''
    });
  }
  return api.createVersion(target.team, target.name, {
    ...versionBody(target),
    from_run: { run_id: runId, paths }
  });
}

let formCount = 0;

/**
 * The form's fields: the file (or the run's outputs to take), team, model name
 * (a list of the team's models to choose from, or a new name), description and
 * framework. `submit()` registers; a refusal is shown in the form.
 */
export class RegisterModelForm extends Widget {
  constructor(options: RegisterModelForm.IOptions) {
    super();
    this._api = options.api;
    this._source = options.source;
    this._uid = `submarine-register-${++formCount}`;
    this.addClass('jp-SubmarineRegister');
    this.node.setAttribute('data-testid', 'submarine-register-form');
  }

  /** The teams, the models and (for a run) its outputs; then the fields. */
  async open(): Promise<void> {
    clear(this.node);
    this.node.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…'));
    try {
      const run = this._source.kind === 'run' ? this._source.run : null;
      const [me, models, artifacts] = await Promise.all([
        this._api.me(),
        this._api.listModels(),
        run ? this._api.listArtifacts(run.id) : Promise.resolve([] as IFileEntry[])
      ]);
      this._teams = run ? [run.team] : me.teams.map(t => t.name);
      this._models = models;
      this._artifacts = artifacts;
    } catch (err) {
      clear(this.node);
      this.node.appendChild(errorBox(err, 'submarine-register-error'));
      return;
    }
    this._build();
  }

  /** Focus the first field to fill: the file when none is given, else the model name. */
  focusFirst(): void {
    if (!this._built) {
      return;
    }
    (this._source.kind === 'file' && !this._file.value ? this._file : this._name).focus();
  }

  /** Whether the fields are shown (open() succeeded). */
  get ready(): boolean {
    return this._built;
  }

  /** The registration as the fields say it. */
  get target(): IRegisterTarget {
    const team = this._team.value;
    const name = this._name.value.trim();
    return {
      team,
      name,
      description: this._description.value.trim(),
      framework: this._framework.value,
      create: !this._models.some(m => m.team === team && m.name === name)
    };
  }

  /** The run outputs ticked (run source). */
  get paths(): string[] {
    return Array.from(
      this.node.querySelectorAll<HTMLInputElement>('input[data-artifact]:checked')
    ).map(box => box.getAttribute('data-artifact')!);
  }

  /**
   * Register; resolves with the new version, or null when refused (the reason is
   * shown in the form).
   */
  async submit(): Promise<IModelVersion | null> {
    if (!this._built || this._busy) {
      return null;
    }
    clear(this._error);
    const target = this.target;
    if (!target.team) {
      return this._fail('Choose a team: you are in none yet.');
    }
    if (!target.name) {
      this._name.focus();
      return this._fail('Give the model a name (a new one, or one of the list).');
    }
    this._busy = true;
    this._status.textContent = 'Registering…';
    try {
      if (this._source.kind === 'run') {
        const paths = this.paths;
        if (paths.length === 0) {
          return this._fail('Tick at least one output file of the run.');
        }
        return await registerRunOutputs(this._api, target, this._source.run.id, paths);
      }
      const path = this._file.value.trim().replace(/^\/+/, '');
      if (!path) {
        this._file.focus();
        return this._fail('Say which file of your session to register.');
      }
      this._status.textContent = 'Reading the file…';
      const bytes = await this._api.readSessionFile(path);
      this._status.textContent = `Uploading ${size(bytes.length)}…`;
      return await registerBytes(this._api, target, baseName(path), bytes);
    } catch (err) {
      this._error.appendChild(errorBox(err, 'submarine-register-error'));
      return null;
    } finally {
      this._busy = false;
      this._status.textContent = '';
    }
  }

  private _fail(message: string): null {
    clear(this._error);
    const box = el('div', 'jp-SubmarinePanel-error', message, 'submarine-register-error');
    box.setAttribute('role', 'alert');
    this._error.appendChild(box);
    return null;
  }

  private _build(): void {
    clear(this.node);
    const source = this._source;
    if (source.kind === 'file') {
      this._file = this._input('submarine-register-file', 'e.g. models/iris.joblib');
      this._file.value = source.path;
      this.node.appendChild(this._row('File', this._file, 'file'));
    } else {
      const box = el(
        'fieldset',
        'jp-SubmarineRegister-artifacts',
        undefined,
        'submarine-register-artifacts'
      );
      box.appendChild(
        el('legend', 'jp-SubmarinePanel-label', `Outputs of run #${source.run.id} to register`)
      );
      if (this._artifacts.length === 0) {
        box.appendChild(
          el(
            'p',
            'jp-SubmarinePanel-empty',
            'This run has no output files (yet).',
            'submarine-register-no-artifacts'
          )
        );
      }
      const likely = this._artifacts.filter(a => looksLikeModel(a.path));
      for (const a of this._artifacts) {
        const label = el('label', 'jp-SubmarinePanel-check');
        const check = el('input', '', undefined, `submarine-register-artifact-${a.path}`);
        check.type = 'checkbox';
        check.setAttribute('data-artifact', a.path);
        check.checked = this._artifacts.length === 1 || (likely.length === 1 && likely[0] === a);
        label.appendChild(check);
        label.appendChild(document.createTextNode(` ${a.path} (${size(a.size)})`));
        box.appendChild(label);
      }
      this.node.appendChild(box);
    }

    this._team = el('select', 'jp-SubmarinePanel-select', undefined, 'submarine-register-team');
    for (const t of this._teams) {
      const option = el('option', '', t);
      option.value = t;
      this._team.appendChild(option);
    }
    this._team.disabled = source.kind === 'run';
    this._team.addEventListener('change', () => this._renderModels());
    this.node.appendChild(
      this._row(
        'Team',
        this._team,
        'team',
        source.kind === 'run' ? "A run's outputs go to a model of its team." : undefined
      )
    );

    this._name = this._input('submarine-register-model', 'a new name, or one of the list');
    this._list = el('datalist', '');
    this._list.id = `${this._uid}-models`;
    this._name.setAttribute('list', this._list.id);
    this._name.value = suggestName(
      source.kind === 'file' ? source.path : (source.run.template ?? source.run.name)
    );
    this._name.addEventListener('input', () => this._renderKind());
    this.node.appendChild(this._row('Model', this._name, 'model'));
    this.node.appendChild(this._list);
    this._kind = el('div', 'jp-SubmarineSubmit-hint', '', 'submarine-register-kind');
    this._kind.setAttribute('aria-live', 'polite');
    this.node.appendChild(this._kind);

    this._description = el(
      'textarea',
      'jp-SubmarinePanel-input',
      undefined,
      'submarine-register-description'
    );
    this._description.rows = 2;
    this.node.appendChild(this._row('Description', this._description, 'description'));

    this._framework = el(
      'select',
      'jp-SubmarinePanel-select',
      undefined,
      'submarine-register-framework'
    );
    for (const f of FRAMEWORKS) {
      const option = el('option', '', f || 'not said');
      option.value = f;
      this._framework.appendChild(option);
    }
    this._framework.value = source.kind === 'file' ? frameworkOf(source.path) : 'sklearn';
    if (source.kind === 'run' && !source.run.template) {
      this._framework.value = '';
    }
    this.node.appendChild(
      this._row(
        'Framework',
        this._framework,
        'framework',
        'How an endpoint loads it; a .joblib or .pkl is served as is.'
      )
    );

    this._status = el('div', 'jp-SubmarineRegister-status', '', 'submarine-register-status');
    this._status.setAttribute('aria-live', 'polite');
    this.node.appendChild(this._status);
    this._error = el('div', 'jp-SubmarineRegister-error');
    this.node.appendChild(this._error);
    this._built = true;
    this._renderModels();
  }

  private _renderModels(): void {
    clear(this._list);
    for (const m of this._models.filter(m => m.team === this._team.value)) {
      const option = el('option', '');
      option.value = m.name;
      option.textContent = `${m.name} (${m.latest_version} version${m.latest_version === 1 ? '' : 's'})`;
      this._list.appendChild(option);
    }
    this._renderKind();
  }

  private _renderKind(): void {
    const t = this.target;
    const model = this._models.find(m => m.team === t.team && m.name === t.name);
    this._kind.textContent = !t.name
      ? ''
      : model
        ? `A new version (${model.latest_version + 1}) of ${model.ref}.`
        : `A new model ${t.team}/${t.name}, version 1.`;
  }

  private _input(testid: string, placeholder: string): HTMLInputElement {
    const input = el('input', 'jp-SubmarinePanel-input', undefined, testid);
    input.type = 'text';
    input.placeholder = placeholder;
    return input;
  }

  private _row(label: string, control: HTMLElement, key: string, hint?: string): HTMLElement {
    const id = `${this._uid}-${key}`;
    control.id = id;
    const row = el('div', 'jp-SubmarineSubmit-row');
    const l = el('label', 'jp-SubmarineSubmit-label', label);
    l.htmlFor = id;
    row.appendChild(l);
    row.appendChild(control);
    if (hint) {
      const h = el('div', 'jp-SubmarineSubmit-hint', hint);
      h.id = `${id}-hint`;
      control.setAttribute('aria-describedby', h.id);
      row.appendChild(h);
    }
    control.addEventListener('input', () => clear(this._error));
    return row;
  }

  private _api: SubmarineAPI;
  private _source: RegisterSource;
  private _uid: string;
  private _teams: string[] = [];
  private _models: IModel[] = [];
  private _artifacts: IFileEntry[] = [];
  private _built = false;
  private _busy = false;
  private _file = el('input', '');
  private _team = el('select', '');
  private _name = el('input', '');
  private _list = el('datalist', '');
  private _kind = el('div', '');
  private _description = el('textarea', '');
  private _framework = el('select', '');
  private _status = el('div', '');
  private _error = el('div', '');
}

export namespace RegisterModelForm {
  export interface IOptions {
    api: SubmarineAPI;
    source: RegisterSource;
  }
}
