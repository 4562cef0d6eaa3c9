/**
 * The Models tab: the registered models of your teams and their endpoints; a
 * model's versions (metrics, source run, files, tags, aliases) with Set alias
 * and Deploy; an endpoint's page (see serving.ts).
 */
import type { Message } from '@lumino/messaging';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

import type { IEndpoint, IModel, IModelVersion, SubmarineAPI } from './api';
import { formatNumber } from './chart';
import type { Config } from './config';
import { statusBadge } from './experiments';
import { EndpointDetail, deploy, endpointName, routesText } from './serving';
import { ago, button, clear, el, errorBox, keepFocus, size } from './util';

/** `production → v3, staging → v4`. */
export function aliasesText(aliases: Record<string, number>): string {
  return Object.entries(aliases)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([alias, v]) => `${alias} → v${v}`)
    .join(', ');
}

/** `a=1, b` for tags (name: value; an empty value is just the name). */
export function tagsText(tags: Record<string, string> | undefined): string {
  return Object.entries(tags ?? {})
    .map(([k, v]) => (v ? `${k}=${v}` : k))
    .join(', ');
}

/**
 * Tags from what a person types: `stage=candidate, reviewed` -> `{stage: "candidate",
 * reviewed: ""}`; an error message for a malformed list.
 */
export function parseTags(text: string): Record<string, string> | string {
  const tags: Record<string, string> = {};
  for (const item of text.split(',')) {
    const bit = item.trim();
    if (!bit) {
      continue;
    }
    const at = bit.indexOf('=');
    const name = (at < 0 ? bit : bit.slice(0, at)).trim();
    if (!name) {
      return `"${bit}" has no tag name: write name=value or just name, separated by commas.`;
    }
    tags[name] = at < 0 ? '' : bit.slice(at + 1).trim();
  }
  return tags;
}

/** What the API accepts as an alias (checked before asking it). */
export const ALIAS_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

/** Calls the sidebar activates (a run of the Experiments tab, a dialog...). */
export interface IModelsActions {
  /** Open "Register as model…" for a file (none: the dialog asks which). */
  register: () => void;
  /** Show a run in the Experiments tab. */
  openRun: (id: number) => void;
  confirm: (title: string, body: string, accept: string) => Promise<boolean>;
  /** Open an endpoint's traffic charts in the main area. */
  traffic?: (team: string, name: string) => void;
}

function clickable(item: HTMLElement, label: string, open: () => void): void {
  item.tabIndex = 0;
  item.setAttribute('role', 'button');
  item.setAttribute('aria-label', label);
  item.addEventListener('click', open);
  item.addEventListener('keydown', (e: KeyboardEvent) => {
    if ((e.key === 'Enter' || e.key === ' ') && e.target === item) {
      e.preventDefault();
      open();
    }
  });
}

/**
 * The list: your teams' models (name, team, versions, aliases) and endpoints.
 */
export class ModelList extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly actions: {
      register: () => void;
      openModel: (team: string, name: string) => void;
      openEndpoint: (team: string, name: string) => void;
    }
  ) {
    super();
    this.addClass('jp-SubmarineModels');
    const toolbar = el('div', 'jp-SubmarinePanel-toolbar');
    toolbar.appendChild(
      button('Register a file…', () => this.actions.register(), {
        accent: true,
        testid: 'submarine-register-file-button',
        title:
          'Register a file of your session as a model version (or right-click it in the file browser)'
      })
    );
    this.node.appendChild(toolbar);
    this._error = el('div', '');
    this.node.appendChild(this._error);
    this.node.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Models'));
    this._models = el('ul', 'jp-SubmarineRuns-list', undefined, 'submarine-models');
    this._models.setAttribute('aria-label', 'Registered models');
    this.node.appendChild(this._models);
    this.node.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Endpoints'));
    this._endpoints = el('ul', 'jp-SubmarineRuns-list', undefined, 'submarine-endpoints');
    this._endpoints.setAttribute('aria-label', 'Serving endpoints');
    this.node.appendChild(this._endpoints);
  }

  get models(): IModel[] {
    return this._modelItems;
  }

  get endpoints(): IEndpoint[] {
    return this._endpointItems;
  }

  async refresh(): Promise<void> {
    const call = ++this._calls;
    const settle = <T>(p: Promise<T>) =>
      p.then(
        value => ({ value, error: null as unknown }),
        (error: unknown) => ({ value: null, error })
      );
    const [models, endpoints] = await Promise.all([
      settle(this.api.listModels()),
      settle(this.api.listEndpoints())
    ]);
    if (call !== this._calls) {
      return;
    }
    clear(this._error);
    if (models.value) {
      this._modelItems = models.value;
    } else {
      this._error.appendChild(errorBox(models.error));
    }
    // endpoints are the hub's alone: a standalone server has none to show
    this._endpointItems = endpoints.value ?? [];
    this._endpointError = endpoints.value ? null : endpoints.error;
    keepFocus(this.node, () => this._render());
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  private _render(): void {
    clear(this._models);
    if (this._modelItems.length === 0) {
      this._models.appendChild(
        el(
          'li',
          'jp-SubmarinePanel-empty',
          'No model yet. Right-click a file in the file browser → Register as model…, or use Register as model… on a run.',
          'submarine-no-models'
        )
      );
    }
    for (const m of this._modelItems) {
      const li = el('li', 'jp-SubmarineRuns-item', undefined, `submarine-model-${m.ref}`);
      li.dataset.model = m.ref;
      const line = el('div', 'jp-SubmarineRuns-line');
      line.appendChild(el('span', 'jp-SubmarineRuns-name', m.name));
      line.appendChild(el('span', 'jp-SubmarinePanel-badge jp-mod-quiet', m.team));
      li.appendChild(line);
      const bits = [
        `${m.latest_version} version${m.latest_version === 1 ? '' : 's'}`,
        aliasesText(m.aliases),
        m.owner,
        ago(m.updated_at ?? m.created_at)
      ];
      li.appendChild(el('div', 'jp-SubmarineRuns-meta', bits.filter(Boolean).join(' · ')));
      if (m.description) {
        li.appendChild(el('div', 'jp-SubmarineEnvironments-description', m.description));
      }
      clickable(li, `Model ${m.ref}, ${m.latest_version} versions`, () =>
        this.actions.openModel(m.team, m.name)
      );
      this._models.appendChild(li);
    }

    clear(this._endpoints);
    if (this._endpointError) {
      this._endpoints.appendChild(errorBox(this._endpointError, 'submarine-endpoints-error'));
    } else if (this._endpointItems.length === 0) {
      this._endpoints.appendChild(
        el(
          'li',
          'jp-SubmarinePanel-empty',
          'No endpoint running. Open a model and Deploy one of its versions.',
          'submarine-no-endpoints'
        )
      );
    }
    for (const ep of this._endpointItems) {
      const li = el('li', 'jp-SubmarineRuns-item', undefined, `submarine-endpoint-${ep.ref}`);
      const line = el('div', 'jp-SubmarineRuns-line');
      line.appendChild(statusBadge(ep.status));
      line.appendChild(el('span', 'jp-SubmarineRuns-name', ep.ref));
      li.appendChild(line);
      li.appendChild(el('div', 'jp-SubmarineRuns-meta', routesText(ep)));
      clickable(li, `Endpoint ${ep.ref}, ${ep.status}`, () =>
        this.actions.openEndpoint(ep.team, ep.name)
      );
      this._endpoints.appendChild(li);
    }
  }

  private _error: HTMLElement;
  private _models: HTMLElement;
  private _endpoints: HTMLElement;
  private _modelItems: IModel[] = [];
  private _endpointItems: IEndpoint[] = [];
  private _endpointError: unknown = null;
  private _calls = 0;
}

/**
 * One model: its aliases (remove), its versions newest first (metrics, source
 * run, files, tags), and per ready version Set alias and Deploy.
 */
export class ModelDetail extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    private readonly actions: {
      back: () => void;
      openRun: (id: number) => void;
      openEndpoint: (team: string, name: string) => void;
    }
  ) {
    super();
    this.addClass('jp-SubmarineModel');
  }

  get model(): IModel | null {
    return this._model;
  }

  /** Show model `team/name`. */
  async load(team: string, name: string): Promise<void> {
    this._ref = { team, name };
    this._model = null;
    clear(this.node);
    const nav = el('div', 'jp-SubmarinePanel-toolbar');
    nav.appendChild(
      button('← Models', () => this.actions.back(), {
        testid: 'submarine-models-back',
        title: 'Back to the models and endpoints'
      })
    );
    this.node.appendChild(nav);
    this._body = el('div', 'jp-SubmarineModel-body');
    this._body.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…'));
    this.node.appendChild(this._body);
    this._message = el('div', 'jp-SubmarineRun-message', undefined, 'submarine-model-message');
    this._message.setAttribute('aria-live', 'polite');
    this.node.appendChild(this._message);
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const ref = this._ref;
    if (!ref) {
      return;
    }
    try {
      const model = await this.api.getModel(ref.team, ref.name);
      if (ref !== this._ref) {
        return;
      }
      this._model = model;
    } catch (err) {
      if (ref === this._ref) {
        clear(this._body);
        this._body.appendChild(errorBox(err));
      }
      return;
    }
    keepFocus(this.node, () => this._render(this._model!));
  }

  /** Point `alias` at `version` (a refusal is shown). */
  async setAlias(version: number, alias: string): Promise<boolean> {
    const m = this._model;
    if (!m) {
      return false;
    }
    clear(this._message);
    const wanted = alias.trim();
    if (!ALIAS_PATTERN.test(wanted)) {
      this._message.appendChild(
        errorBox(
          `"${wanted}" is no alias: use 1-64 lowercase letters, digits, '_' or '-', starting with a letter (e.g. production).`,
          'submarine-models-error'
        )
      );
      return false;
    }
    try {
      await this.api.setAlias(m.team, m.name, wanted, version);
    } catch (err) {
      this._message.appendChild(errorBox(err, 'submarine-models-error'));
      return false;
    }
    this._say(`${wanted} now points at version ${version}.`);
    await this.refresh();
    return true;
  }

  async removeAlias(alias: string): Promise<void> {
    const m = this._model;
    if (!m) {
      return;
    }
    clear(this._message);
    try {
      await this.api.deleteAlias(m.team, m.name, alias);
    } catch (err) {
      this._message.appendChild(errorBox(err, 'submarine-models-error'));
      return;
    }
    this._say(`Removed alias ${alias}.`);
    await this.refresh();
  }

  /** Replace the tags of `version` with those of `text` (`a=1, b`). */
  async setTags(version: number, text: string): Promise<boolean> {
    const m = this._model;
    if (!m) {
      return false;
    }
    clear(this._message);
    const tags = parseTags(text);
    if (typeof tags === 'string') {
      this._message.appendChild(errorBox(tags, 'submarine-models-error'));
      return false;
    }
    try {
      await this.api.updateVersion(m.team, m.name, version, { tags });
    } catch (err) {
      this._message.appendChild(errorBox(err, 'submarine-models-error'));
      return false;
    }
    this._say(`Saved the tags of version ${version}.`);
    await this.refresh();
    return true;
  }

  /** Serve `version` at endpoint `name`; opens the endpoint's page when asked. */
  async deploy(version: number, name: string): Promise<IEndpoint | null> {
    const m = this._model;
    if (!m) {
      return null;
    }
    clear(this._message);
    try {
      const { endpoint } = await deploy(this.api, m.team, m.name, version, name.trim());
      this.actions.openEndpoint(endpoint.team, endpoint.name);
      return endpoint;
    } catch (err) {
      this._message.appendChild(errorBox(err, 'submarine-models-error'));
      return null;
    }
  }

  private _say(text: string): void {
    clear(this._message);
    this._message.appendChild(el('div', 'jp-SubmarineModel-said', text, 'submarine-model-said'));
  }

  private _render(m: IModel): void {
    clear(this._body);
    const head = el('div', 'jp-SubmarineRun-head');
    head.appendChild(el('h3', 'jp-SubmarineRun-title', m.ref, 'submarine-model-title'));
    this._body.appendChild(head);
    if (m.description) {
      this._body.appendChild(el('p', 'jp-SubmarineEnvironments-description', m.description));
    }
    const facts = el('dl', 'jp-SubmarineRun-facts');
    const fact = (label: string, value: string) => {
      if (value) {
        facts.appendChild(el('dt', '', label));
        facts.appendChild(el('dd', '', value));
      }
    };
    fact('Team', m.team);
    fact('Owner', m.owner);
    fact('Tags', tagsText(m.tags));
    fact('Created', new Date(m.created_at).toLocaleString());
    this._body.appendChild(facts);

    // aliases, each removable
    const aliases = el('div', 'jp-SubmarineModel-aliases', undefined, 'submarine-model-aliases');
    aliases.appendChild(el('h4', 'jp-SubmarinePanel-label', 'Aliases'));
    const entries = Object.entries(m.aliases).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length === 0) {
      aliases.appendChild(
        el('p', 'jp-SubmarinePanel-empty', 'No alias yet: set one on a version (e.g. production).')
      );
    }
    const chips = el('ul', 'jp-SubmarinePanel-chips');
    for (const [alias, v] of entries) {
      const li = el('li', 'jp-SubmarineModel-alias', undefined, `submarine-alias-${alias}`);
      li.appendChild(el('span', '', `${alias} → v${v}`));
      const remove = button('×', () => void this.removeAlias(alias), {
        testid: `submarine-alias-remove-${alias}`,
        title: `Remove alias ${alias}`,
        className: 'jp-SubmarineModel-aliasRemove'
      });
      remove.setAttribute('aria-label', `Remove alias ${alias}`);
      li.appendChild(remove);
      chips.appendChild(li);
    }
    aliases.appendChild(chips);
    this._body.appendChild(aliases);

    // versions
    this._body.appendChild(el('h4', 'jp-SubmarinePanel-label', 'Versions'));
    const list = el('ul', 'jp-SubmarineRuns-list', undefined, 'submarine-model-versions');
    list.setAttribute('aria-label', `Versions of ${m.ref}`);
    for (const v of m.versions ?? []) {
      list.appendChild(this._version(m, v));
    }
    if (!(m.versions ?? []).length) {
      list.appendChild(el('li', 'jp-SubmarinePanel-empty', 'No version yet.'));
    }
    this._body.appendChild(list);
  }

  private _version(m: IModel, v: IModelVersion): HTMLElement {
    const n = v.version;
    const li = el('li', 'jp-SubmarineEnvironments-item', undefined, `submarine-model-version-${n}`);
    const line = el('div', 'jp-SubmarineRuns-line');
    line.appendChild(el('span', 'jp-SubmarineRuns-name', `v${n}`));
    line.appendChild(statusBadge(v.status, `submarine-version-status-${n}`));
    for (const alias of v.aliases) {
      line.appendChild(el('span', 'jp-SubmarinePanel-badge', alias));
    }
    li.appendChild(line);
    const bits = [v.framework, v.owner, ago(v.created_at), size(v.size)];
    li.appendChild(el('div', 'jp-SubmarineRuns-meta', bits.filter(Boolean).join(' · ')));
    if (v.description) {
      li.appendChild(el('div', 'jp-SubmarineEnvironments-description', v.description));
    }
    const metrics = Object.entries(v.metrics ?? {});
    if (metrics.length) {
      li.appendChild(
        el(
          'div',
          'jp-SubmarineModel-metrics',
          metrics.map(([k, x]) => `${k} ${formatNumber(x)}`).join(' · '),
          `submarine-version-metrics-${n}`
        )
      );
    }
    if (tagsText(v.tags)) {
      li.appendChild(el('div', 'jp-SubmarineRuns-meta', `tags: ${tagsText(v.tags)}`));
    }
    if (v.source_run_id) {
      const source = el('div', 'jp-SubmarineRuns-meta');
      source.appendChild(document.createTextNode('from run '));
      const link = el(
        'button',
        'jp-SubmarineModel-link',
        `#${v.source_run_id}`,
        `submarine-version-run-${n}`
      );
      link.type = 'button';
      link.title = 'Show the run in the Experiments tab';
      link.addEventListener('click', () => this.actions.openRun(v.source_run_id!));
      source.appendChild(link);
      li.appendChild(source);
    }
    if (v.files.length) {
      const files = el('ul', 'jp-SubmarineModel-files', undefined, `submarine-version-files-${n}`);
      files.setAttribute('aria-label', `Files of version ${n}`);
      for (const f of v.files) {
        const item = el('li', '', `${f.path} (${size(f.size)})`);
        if (f.sha256) {
          item.title = `SHA-256 ${f.sha256}`;
        }
        files.appendChild(item);
      }
      li.appendChild(files);
    }
    if (v.status === 'ready') {
      li.appendChild(this._versionActions(m, n));
    }
    if (v.status === 'ready' || v.status === 'archived') {
      li.appendChild(this._tagsForm(n, v.tags));
    }
    return li;
  }

  private _tagsForm(n: number, tags: Record<string, string> | undefined): HTMLElement {
    const row = el('form', 'jp-SubmarinePanel-toolbar');
    row.noValidate = true;
    const input = el('input', 'jp-SubmarinePanel-input', undefined, `submarine-tags-input-${n}`);
    input.type = 'text';
    input.value = tagsText(tags);
    input.placeholder = 'tags, e.g. stage=candidate, reviewed';
    input.setAttribute('aria-label', `Tags of version ${n}: name=value or name, comma-separated`);
    const save = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-reject jp-SubmarinePanel-button',
      'Save tags',
      `submarine-tags-save-${n}`
    );
    save.type = 'submit';
    save.title = `Replace the tags of version ${n}`;
    row.addEventListener('submit', e => {
      e.preventDefault();
      void this.setTags(n, input.value);
    });
    row.appendChild(input);
    row.appendChild(save);
    return row;
  }

  private _versionActions(m: IModel, n: number): HTMLElement {
    const box = el('div', 'jp-SubmarineModel-actions');
    // set (or move) an alias
    const aliasRow = el('form', 'jp-SubmarinePanel-toolbar');
    aliasRow.noValidate = true;
    const alias = el('input', 'jp-SubmarinePanel-input', undefined, `submarine-alias-input-${n}`);
    alias.type = 'text';
    alias.placeholder = 'alias, e.g. production';
    alias.setAttribute('aria-label', `Alias to point at version ${n}`);
    alias.setAttribute('list', `submarine-alias-names-${m.id}`);
    const names = el('datalist', '');
    names.id = `submarine-alias-names-${m.id}`;
    for (const a of new Set(['production', 'staging', ...Object.keys(m.aliases)])) {
      const option = el('option', '');
      option.value = a;
      names.appendChild(option);
    }
    const set = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-reject jp-SubmarinePanel-button',
      'Set alias',
      `submarine-alias-set-${n}`
    );
    set.type = 'submit';
    set.title = `Point the alias at version ${n} (moves it if it points elsewhere)`;
    aliasRow.addEventListener('submit', e => {
      e.preventDefault();
      void this.setAlias(n, alias.value);
    });
    aliasRow.appendChild(alias);
    aliasRow.appendChild(names);
    aliasRow.appendChild(set);
    box.appendChild(aliasRow);

    // deploy to an endpoint
    const deployRow = el('form', 'jp-SubmarinePanel-toolbar');
    deployRow.noValidate = true;
    const target = el('input', 'jp-SubmarinePanel-input', undefined, `submarine-deploy-name-${n}`);
    target.type = 'text';
    target.value = endpointName(m.name);
    target.setAttribute('aria-label', `Endpoint to serve version ${n} at (new or running)`);
    const go = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-accept jp-SubmarinePanel-button',
      'Deploy',
      `submarine-deploy-${n}`
    );
    go.type = 'submit';
    go.title = `Serve version ${n} at this endpoint: a running one rolls to it, otherwise a new one starts`;
    deployRow.addEventListener('submit', e => {
      e.preventDefault();
      go.disabled = true;
      void this.deploy(n, target.value).finally(() => (go.disabled = false));
    });
    deployRow.appendChild(target);
    deployRow.appendChild(go);
    box.appendChild(deployRow);
    return box;
  }

  private _ref: { team: string; name: string } | null = null;
  private _model: IModel | null = null;
  private _body = el('div', '');
  private _message = el('div', '');
}

/**
 * The Models tab: the list, a model, or an endpoint.
 */
export class ModelsSection extends Widget {
  constructor(options: ModelsSection.IOptions) {
    super();
    this.addClass('jp-SubmarineModelsSection');
    this.list = new ModelList(options.api, {
      register: options.actions.register,
      openModel: (team, name) => void this.showModel(team, name),
      openEndpoint: (team, name) => void this.showEndpoint(team, name)
    });
    this.detail = new ModelDetail(options.api, {
      back: () => this.showList(),
      openRun: options.actions.openRun,
      openEndpoint: (team, name) => void this.showEndpoint(team, name)
    });
    this.endpoint = new EndpointDetail(options.api, options.config, {
      back: () => this.showList(),
      confirm: options.actions.confirm,
      traffic: options.actions.traffic
    });
    const stack = new Panel();
    for (const w of [this.list, this.detail, this.endpoint]) {
      stack.addWidget(w);
    }
    const layout = new PanelLayout();
    layout.addWidget(stack);
    this.layout = layout;
    this._show(this.list);
  }

  readonly list: ModelList;
  readonly detail: ModelDetail;
  readonly endpoint: EndpointDetail;

  /** 'list', 'model' or 'endpoint'. */
  get view(): string {
    return this._view;
  }

  showList(): void {
    this._show(this.list);
  }

  async showModel(team: string, name: string): Promise<void> {
    this._show(this.detail);
    await this.detail.load(team, name);
  }

  async showEndpoint(team: string, name: string): Promise<void> {
    this._show(this.endpoint);
    await this.endpoint.load(team, name);
  }

  async refresh(): Promise<void> {
    if (this._view === 'model') {
      await this.detail.refresh();
    } else if (this._view === 'endpoint') {
      await this.endpoint.refresh();
    } else {
      await this.list.refresh();
    }
  }

  private _show(widget: Widget): void {
    for (const w of [this.list, this.detail, this.endpoint]) {
      if (w === widget) {
        w.show();
      } else {
        w.hide();
      }
    }
    this._view = widget === this.list ? 'list' : widget === this.detail ? 'model' : 'endpoint';
  }

  private _view = 'list';
}

export namespace ModelsSection {
  export interface IOptions {
    api: SubmarineAPI;
    config: Config;
    actions: IModelsActions;
  }
}
