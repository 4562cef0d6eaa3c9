/**
 * The submit form: a template (its parameter inputs generated from the
 * template's JSON Schema), a script or a notebook of the session, with a run
 * name, team, environment profile and tags.
 */
import { Widget } from '@lumino/widgets';

import {
  type IEnvironment,
  type IExperiment,
  type IMe,
  type ISessionInfo,
  type ITemplate,
  type SubmarineAPI,
  sessionDefaults
} from './api';
import { fillProfileOptions } from './environments';
import { FieldRows } from './fieldrows';
import {
  type IField,
  type RawValue,
  codeLayout,
  fieldsFromSchema,
  folderOf,
  parseKeyValues,
  parseValues,
  runName,
  splitArgs
} from './schemaform';
import { teamOf } from './spaces';
import { button, clear, el, errorBox } from './util';

export type SubmitKind = 'template' | 'script' | 'notebook';

/** What the form starts with (a file from the file browser, a profile...). */
export interface ISubmitPrefill {
  kind?: SubmitKind;
  /** A script or notebook of the file browser. */
  path?: string;
  /** A template's ref (`name`, or `team/name`). */
  template?: string;
  /** An environment profile's ref. */
  environment?: string;
  team?: string;
  /** Inputs of the run: datasets (`team/name`) or URIs, by input name. */
  inputs?: IRunInput[];
}

/** An input of a run's spec: a dataset of the catalog, or a URI. */
export interface IRunInput {
  name: string;
  dataset?: string;
  uri?: string;
}

/** `name=team/dataset` (or `name=s3://...`, `name=/abs/path`) lines → inputs. */
export function parseInputs(text: string): { inputs: IRunInput[]; errors: string[] } {
  const inputs: IRunInput[] = [];
  const errors: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) {
      continue;
    }
    const eq = line.indexOf('=');
    const name = eq > 0 ? line.slice(0, eq).trim() : '';
    const source = eq > 0 ? line.slice(eq + 1).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !source) {
      errors.push(
        `"${line}" is not name=dataset (a name of letters, digits and _, e.g. train=team/iris).`
      );
      continue;
    }
    if (inputs.some(i => i.name === name)) {
      errors.push(`Input ${name} is given twice.`);
      continue;
    }
    inputs.push(
      /^[a-z][a-z0-9+.-]*:\/\/|^\//.test(source) ? { name, uri: source } : { name, dataset: source }
    );
  }
  return { inputs, errors };
}

/** The lines the inputs field shows for inputs. */
export function inputsText(inputs: IRunInput[] | undefined): string {
  return (inputs ?? []).map(i => `${i.name}=${i.dataset ?? i.uri ?? ''}`).join('\n');
}

/** The ref a template is run by: `name` (global) or `team/name`. */
export function templateRef(t: ITemplate): string {
  return t.ref ?? (t.team ? `${t.team}/${t.name}` : t.name);
}

/** The kind of run a file makes: notebooks and Python scripts. */
export function kindOfPath(path: string): SubmitKind | null {
  if (/\.ipynb$/i.test(path)) {
    return 'notebook';
  }
  if (/\.py$/i.test(path)) {
    return 'script';
  }
  return null;
}

/** `(1 – 2000)`, `(at least 0)`, `(at most 5)` or '' for a field's bounds. */
export function boundsText(field: Pick<IField, 'minimum' | 'maximum'>): string {
  const { minimum: lo, maximum: hi } = field;
  if (lo !== undefined && hi !== undefined) {
    return `(${lo} – ${hi})`;
  }
  if (lo !== undefined) {
    return `(at least ${lo})`;
  }
  return hi !== undefined ? `(at most ${hi})` : '';
}

/** Comma- or space-separated tags. */
export function parseTags(text: string): string[] {
  return Array.from(new Set(text.split(/[\s,]+/).filter(Boolean)));
}

let formCount = 0;

export class SubmitForm extends Widget {
  constructor(options: SubmitForm.IOptions) {
    super();
    this._api = options.api;
    this._options = options;
    this._uid = `submarine-submit-${++formCount}`;
    this._rows = new FieldRows(this._uid, { onEdit: () => clear(this._error) });
    this.addClass('jp-SubmarineSubmit');
    this.node.setAttribute('data-testid', 'submarine-submit-form');
  }

  /** The template chosen (template kind). */
  get template(): ITemplate | null {
    return this._templates.find(t => templateRef(t) === this._templateSelect?.value) ?? null;
  }

  /** The kind of run the form submits. */
  get kind(): SubmitKind {
    return this._kind;
  }

  /**
   * Load templates, environments and teams, and show the form.
   */
  async open(prefill: ISubmitPrefill = {}): Promise<void> {
    this._prefill = prefill;
    this._kind = prefill.kind ?? (prefill.path ? kindOfPath(prefill.path) : null) ?? 'template';
    clear(this.node);
    this.node.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…'));
    try {
      const [me, templates, environments, session] = await Promise.all([
        this._api.me(),
        this._api.listTemplates(),
        this._api.listEnvironments(),
        sessionDefaults(this._api)
      ]);
      this._me = me;
      this._session = session;
      this._templates = templates;
      this._environments = environments;
    } catch (err) {
      clear(this.node);
      this.node.appendChild(errorBox(err));
      this.node.appendChild(button('Cancel', () => this._options.cancel()));
      return;
    }
    this._build();
  }

  /**
   * Check the form and submit the run; resolves with it (or null when the form
   * or the service refused: the reason is shown).
   */
  async submit(): Promise<IExperiment | null> {
    clear(this._error);
    this._rows.clearErrors();
    const meta: Record<string, unknown> = {};
    const team = this._teamSelect.value;
    if (team) {
      meta.team = team;
    }
    const tags = parseTags(this._tagsInput.value);
    if (tags.length) {
      meta.tags = tags;
    }
    const profile = this._envSelect.value;
    const environment = profile ? { profile } : undefined;
    const parsedInputs = parseInputs(this._inputsInput.value);
    if (parsedInputs.errors.length) {
      this._showFieldErrors({ inputs: parsedInputs.errors.join(' ') });
      return null;
    }
    const inputs = parsedInputs.inputs.length ? parsedInputs.inputs : undefined;
    this._submitButton.disabled = true;
    this._submitButton.textContent = 'Submitting…';
    try {
      let run: IExperiment;
      if (this._kind === 'template') {
        const t = this.template;
        if (!t) {
          this._fail('Choose a template.');
          return null;
        }
        const parsed = parseValues(this._fields, this._rawValues());
        const byRow: Record<string, string> = {};
        for (const [k, v] of Object.entries(parsed.errors)) {
          byRow[`param-${k}`] = v;
        }
        if (this._showFieldErrors(byRow)) {
          return null;
        }
        meta.name = this._nameInput.value.trim() || runName(t.name);
        const body: Record<string, unknown> = { parameters: parsed.values, meta };
        if (environment) {
          body.environment = environment;
        }
        if (inputs) {
          body.inputs = inputs;
        }
        run = await this._api.runTemplate(templateRef(t), body);
      } else {
        const layout = codeLayout(this._pathInput.value, this._folderInput.value);
        if ('error' in layout) {
          this._showFieldErrors({ path: layout.error });
          return null;
        }
        let task: Record<string, unknown>;
        if (this._kind === 'script') {
          task = { script: layout.entry, args: splitArgs(this._argsInput.value) };
        } else {
          const parsed = parseKeyValues(this._paramsInput.value);
          const problems = Object.values(parsed.errors);
          if (problems.length) {
            this._showFieldErrors({ notebookParameters: problems.join(' ') });
            return null;
          }
          task = { notebook: layout.entry, parameters: parsed.values };
        }
        meta.name = this._nameInput.value.trim() || runName(layout.entry);
        this._submitButton.textContent = 'Uploading code…';
        const upload = await this._api.uploadFolder(layout.folder);
        this._submitButton.textContent = 'Submitting…';
        const spec: Record<string, unknown> = { meta, task, code: { upload } };
        if (environment) {
          spec.environment = environment;
        }
        if (inputs) {
          spec.inputs = inputs;
        }
        run = await this._api.submitExperiment(spec);
      }
      this._options.submitted(run);
      return run;
    } catch (err) {
      this._error.appendChild(errorBox(err, 'submarine-submit-error'));
      return null;
    } finally {
      this._submitButton.disabled = false;
      this._submitButton.textContent = 'Submit';
    }
  }

  // --- building the form ----------------------------------------------------------------
  private _build(): void {
    clear(this.node);
    const form = el('form', 'jp-SubmarineSubmit-form');
    form.noValidate = true;
    form.addEventListener('submit', e => {
      e.preventDefault();
      void this.submit();
    });
    form.appendChild(el('h3', 'jp-SubmarineSubmit-title', 'New experiment run'));

    // what to run
    const kinds = el('fieldset', 'jp-SubmarineSubmit-kinds');
    kinds.appendChild(el('legend', 'jp-SubmarinePanel-label', 'What to run'));
    for (const [kind, label] of [
      ['template', 'Template'],
      ['script', 'Script'],
      ['notebook', 'Notebook']
    ] as [SubmitKind, string][]) {
      const wrap = el('label', 'jp-SubmarinePanel-check');
      const radio = el('input', '', undefined, `submarine-kind-${kind}`);
      radio.type = 'radio';
      radio.name = `${this._uid}-kind`;
      radio.value = kind;
      radio.checked = kind === this._kind;
      radio.addEventListener('change', () => {
        if (radio.checked) {
          this._kind = kind;
          this._renderKind();
        }
      });
      wrap.appendChild(radio);
      wrap.appendChild(document.createTextNode(` ${label}`));
      kinds.appendChild(wrap);
    }
    form.appendChild(kinds);

    // template
    this._templateBox = el('div', 'jp-SubmarineSubmit-kindBox');
    this._templateSelect = el(
      'select',
      'jp-SubmarinePanel-select',
      undefined,
      'submarine-template'
    );
    for (const t of this._templates) {
      const option = el('option', '', t.team ? `${t.name} (${t.team})` : t.name);
      option.value = templateRef(t);
      this._templateSelect.appendChild(option);
    }
    const wanted = this._prefill.template;
    if (wanted) {
      const match = this._templates.find(t => templateRef(t) === wanted || t.name === wanted);
      if (match) {
        this._templateSelect.value = templateRef(match);
      }
    }
    this._templateSelect.addEventListener('change', () => this._renderTemplate());
    this._templateBox.appendChild(this._rows.row('Template', this._templateSelect, 'template'));
    if (this._templates.length === 0) {
      this._templateBox.appendChild(
        el('p', 'jp-SubmarinePanel-empty', 'No template is available to you yet.')
      );
    }
    this._templateDescription = el('p', 'jp-SubmarineSubmit-description');
    this._templateBox.appendChild(this._templateDescription);
    this._paramBox = el('div', 'jp-SubmarineSubmit-params', undefined, 'submarine-params');
    this._templateBox.appendChild(this._paramBox);
    form.appendChild(this._templateBox);

    // script or notebook
    this._fileBox = el('div', 'jp-SubmarineSubmit-kindBox');
    this._pathInput = this._input('submarine-file-path', 'e.g. project/train.py');
    this._pathInput.value = this._prefill.path ?? '';
    this._fileLabel = el('span', '', 'File');
    this._fileBox.appendChild(this._rows.row(this._fileLabel, this._pathInput, 'path'));
    this._argsInput = this._input('submarine-script-args', 'e.g. --epochs 3');
    this._argsRow = this._rows.row('Arguments', this._argsInput, 'args');
    this._fileBox.appendChild(this._argsRow);
    this._paramsInput = el(
      'textarea',
      'jp-SubmarinePanel-input',
      undefined,
      'submarine-notebook-params'
    );
    this._paramsInput.rows = 3;
    this._paramsInput.placeholder = 'name=value, one a line (the cell tagged parameters)';
    this._paramsRow = this._rows.row('Parameters', this._paramsInput, 'notebookParameters');
    this._fileBox.appendChild(this._paramsRow);
    this._folderInput = this._input('submarine-code-folder', 'the home folder');
    this._folderInput.value = folderOf(this._prefill.path ?? '');
    this._pathInput.addEventListener('change', () => {
      if (!this._folderInput.value) {
        this._folderInput.value = folderOf(this._pathInput.value);
      }
    });
    this._fileBox.appendChild(
      this._rows.row(
        'Code folder',
        this._folderInput,
        'folder',
        "Uploaded as the run's working folder (at most 16 MiB)."
      )
    );
    form.appendChild(this._fileBox);

    // common
    this._nameInput = this._input('submarine-run-name', '');
    form.appendChild(this._rows.row('Run name', this._nameInput, 'name'));
    this._teamSelect = el('select', 'jp-SubmarinePanel-select', undefined, 'submarine-run-team');
    const teams = this._me?.teams ?? [];
    for (const t of teams) {
      const option = el('option', '', t.name);
      option.value = t.name;
      this._teamSelect.appendChild(option);
    }
    // the prefilled team, the team of the file's folder, else the session's
    const team =
      this._prefill.team ??
      (this._prefill.path ? teamOf(this._prefill.path) : null) ??
      this._session.team;
    if (team && teams.some(t => t.name === team)) {
      this._teamSelect.value = team;
    }
    this._teamSelect.addEventListener('change', () => this._renderEnvironments());
    form.appendChild(this._rows.row('Team', this._teamSelect, 'team'));
    this._envSelect = el('select', 'jp-SubmarinePanel-select', undefined, 'submarine-environment');
    form.appendChild(
      this._rows.row(
        'Environment',
        this._envSelect,
        'environment',
        'An environment profile (see the Environments tab); default: the hub’s.'
      )
    );
    this._tagsInput = this._input('submarine-run-tags', 'e.g. baseline, iris');
    form.appendChild(this._rows.row('Tags', this._tagsInput, 'tags'));
    this._inputsInput = el(
      'textarea',
      'jp-SubmarinePanel-input',
      undefined,
      'submarine-run-inputs'
    );
    this._inputsInput.rows = 2;
    this._inputsInput.placeholder = 'name=team/dataset, one a line';
    this._inputsInput.value = inputsText(this._prefill.inputs);
    form.appendChild(
      this._rows.row(
        'Inputs',
        this._inputsInput,
        'inputs',
        'Datasets (see the Datasets tab) or URIs; the run reads each from $SUBMARINE_INPUT_<NAME>.'
      )
    );

    const actions = el('div', 'jp-SubmarinePanel-toolbar');
    this._submitButton = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-accept jp-SubmarinePanel-button',
      'Submit',
      'submarine-submit'
    );
    this._submitButton.type = 'submit';
    actions.appendChild(this._submitButton);
    actions.appendChild(
      button('Cancel', () => this._options.cancel(), { testid: 'submarine-submit-cancel' })
    );
    form.appendChild(actions);
    this._error = el('div', 'jp-SubmarineSubmit-error');
    form.appendChild(this._error);
    this.node.appendChild(form);

    this._renderKind();
    this._renderEnvironments();
    // the prefilled environment, else the session's when the run is for its team
    const environment =
      this._prefill.environment ??
      (this._teamSelect.value === this._session.team ? this._session.environment : null);
    if (environment && Array.from(this._envSelect.options).some(o => o.value === environment)) {
      this._envSelect.value = environment;
    }
  }

  private _input(testid: string, placeholder: string): HTMLInputElement {
    const input = el('input', 'jp-SubmarinePanel-input', undefined, testid);
    input.type = 'text';
    input.placeholder = placeholder;
    return input;
  }

  private _renderKind(): void {
    const template = this._kind === 'template';
    this._templateBox.hidden = !template;
    this._fileBox.hidden = template;
    this._argsRow.hidden = this._kind !== 'script';
    this._paramsRow.hidden = this._kind !== 'notebook';
    this._fileLabel.textContent = this._kind === 'notebook' ? 'Notebook' : 'Script';
    this._pathInput.placeholder =
      this._kind === 'notebook' ? 'e.g. project/analysis.ipynb' : 'e.g. project/train.py';
    if (template) {
      this._renderTemplate();
    } else {
      this._nameInput.placeholder = this._pathInput.value
        ? runName(this._pathInput.value)
        : 'from the file name';
    }
  }

  private _renderTemplate(): void {
    const t = this.template;
    this._rows.forget('param-');
    clear(this._paramBox);
    this._templateDescription.textContent = t?.description ?? '';
    this._fields = fieldsFromSchema(t?.parameters_schema);
    this._nameInput.placeholder = t ? runName(t.name) : '';
    if (t?.team && this._me?.teams.some(x => x.name === t.team)) {
      this._teamSelect.value = t.team;
      this._renderEnvironments();
    }
    if (this._fields.length) {
      this._paramBox.appendChild(el('h4', 'jp-SubmarinePanel-label', 'Parameters'));
    }
    for (const field of this._fields) {
      this._paramBox.appendChild(this._fieldRow(field));
    }
  }

  private _fieldRow(field: IField): HTMLElement {
    let control: HTMLInputElement | HTMLSelectElement;
    if (field.kind === 'choice') {
      const select = el('select', 'jp-SubmarinePanel-select');
      for (const choice of field.choices) {
        const option = el('option', '', String(choice));
        option.value = String(choice);
        select.appendChild(option);
      }
      select.value = field.initial;
      control = select;
    } else if (field.kind === 'boolean') {
      const box = el('input', '');
      box.type = 'checkbox';
      box.checked = field.initial === 'true';
      control = box;
    } else {
      const input = el('input', 'jp-SubmarinePanel-input');
      input.type = field.kind === 'string' ? 'text' : 'number';
      if (field.kind === 'integer') {
        input.step = '1';
      } else if (field.kind === 'number') {
        input.step = 'any';
      }
      if (field.minimum !== undefined) {
        input.min = String(field.minimum);
      }
      if (field.maximum !== undefined) {
        input.max = String(field.maximum);
      }
      input.value = field.initial;
      control = input;
    }
    control.setAttribute('data-testid', `submarine-param-${field.name}`);
    control.setAttribute('data-param', field.name);
    if (field.required) {
      control.setAttribute('aria-required', 'true');
    }
    const hint = [field.description, boundsText(field)].filter(Boolean).join(' ');
    return this._rows.row(
      `${field.label}${field.required ? ' *' : ''}`,
      control,
      `param-${field.name}`,
      hint || undefined
    );
  }

  private _renderEnvironments(): void {
    fillProfileOptions(this._envSelect, this._environments, this._teamSelect.value);
  }

  private _rawValues(): Record<string, RawValue> {
    const raw: Record<string, RawValue> = {};
    for (const control of Array.from(
      this._paramBox.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-param]')
    )) {
      const name = control.getAttribute('data-param')!;
      raw[name] =
        control instanceof HTMLInputElement && control.type === 'checkbox'
          ? control.checked
          : control.value;
    }
    return raw;
  }

  /** Show errors by field (template parameters by name); true if there were any. */
  private _showFieldErrors(errors: Record<string, string>): boolean {
    const keys = Object.keys(errors);
    if (keys.length === 0) {
      return false;
    }
    this._fail(
      keys.length === 1
        ? 'Fix the field marked above, then submit again.'
        : `Fix the ${keys.length} fields marked above, then submit again.`
    );
    this._rows.showErrors(errors);
    return true;
  }

  private _fail(message: string): void {
    clear(this._error);
    const box = el('div', 'jp-SubmarinePanel-error', message, 'submarine-submit-error');
    box.setAttribute('role', 'alert');
    this._error.appendChild(box);
  }

  private _api: SubmarineAPI;
  private _options: SubmitForm.IOptions;
  private _uid: string;
  private _prefill: ISubmitPrefill = {};
  private _kind: SubmitKind = 'template';
  private _me: IMe | null = null;
  private _session: ISessionInfo = { team: null, environment: null };
  private _templates: ITemplate[] = [];
  private _environments: IEnvironment[] = [];
  private _fields: IField[] = [];
  private _rows: FieldRows;
  private _templateBox = el('div', '');
  private _templateSelect = el('select', '');
  private _templateDescription = el('p', '');
  private _paramBox = el('div', '');
  private _fileBox = el('div', '');
  private _fileLabel = el('span', '');
  private _pathInput = el('input', '');
  private _argsInput = el('input', '');
  private _argsRow: HTMLElement = el('div', '');
  private _paramsInput = el('textarea', '');
  private _paramsRow: HTMLElement = el('div', '');
  private _folderInput = el('input', '');
  private _nameInput = el('input', '');
  private _teamSelect = el('select', '');
  private _envSelect = el('select', '');
  private _tagsInput = el('input', '');
  private _inputsInput = el('textarea', '');
  private _submitButton = el('button', '');
  private _error = el('div', '');
}

export namespace SubmitForm {
  export interface IOptions {
    api: SubmarineAPI;
    cancel: () => void;
    submitted: (run: IExperiment) => void;
  }
}
