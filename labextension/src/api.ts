import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { components, operations } from './schema';

/**
 * URL namespace of the REST API served by the submarine_hub jupyter-server
 * extension (which forwards the calls to the platform service).
 */
export const API_NAMESPACE = 'submarine/api/v1';

/**
 * URL of the session server's code packer (see submarine_hub/server/code.py):
 * `GET <base>submarine/code-archive?path=FOLDER` answers a .tar.gz of a folder.
 */
export const CODE_ARCHIVE = 'submarine/code-archive';

/**
 * URL of the session server's prediction relay (see submarine_hub/server/handlers.py):
 * `POST <base>submarine/predict/TEAM/NAME` sends the body to the endpoint's
 * predict URL with the session's token.
 */
export const PREDICT_RELAY = 'submarine/predict';

// --- the API's types: src/schema.ts, generated from the OpenAPI document ----------------

/** The document's schemas (`components/schemas`). */
type Schemas = components['schemas'];
/** The JSON an operation answers with status `C`. */
type Reply<
  K extends keyof operations,
  C extends number = 200
> = operations[K]['responses'] extends {
  [code in C]: { content: { 'application/json': infer J } };
}
  ? J
  : never;
/** The JSON body an operation takes. */
type Body<K extends keyof operations> = operations[K] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;
/** The query parameters of an operation. */
type Query<K extends keyof operations> = NonNullable<operations[K]['parameters']['query']>;

/** A team the current user belongs to. */
export type ITeam = Schemas['TeamRef'];
/** The reply of `GET submarine/api/v1/me`. */
export type IMe = Schemas['Me'];

/** A run's status (the document's enum). */
export type RunStatus = Schemas['Experiment']['status'];
/** Statuses of a run; the last three are final. */
export const RUN_STATUSES: ReadonlyArray<RunStatus> = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'killed'
];
export const FINAL_STATUSES: ReadonlyArray<string> = ['succeeded', 'failed', 'killed'];

/** Whether a run's status is final (it will not change again). */
export function isFinal(status: string): boolean {
  return FINAL_STATUSES.includes(status);
}

/** An experiment run (`GET experiments/{id}`; the list has fewer fields). */
export type IExperiment = Schemas['Experiment'];
export type IExperimentPage = Reply<'listExperiments'>;
/** Filters of `GET experiments` (`status`: any of these). */
export type IExperimentFilter = Omit<Query<'listExperiments'>, 'status'> & { status?: string[] };

/** A JSON Schema of an object (what `parameters_schema` of a template is). */
export interface IObjectSchema {
  type?: string;
  properties?: Record<string, IPropertySchema>;
  required?: string[];
}

export interface IPropertySchema {
  type?: string | string[];
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  description?: string;
  title?: string;
}

/** An experiment template (`GET templates`), its parameters as a JSON Schema. */
export type ITemplate = Omit<Schemas['Template'], 'parameters_schema'> & {
  parameters_schema?: IObjectSchema;
};
/** An environment profile (`GET environments`). */
export type IEnvironment = Schemas['Environment'];
/** A team of yours: quota, current usage, spend this month, budget, free GPUs. */
export type ITeamUsage = Schemas['TeamUsage'];
/** One point of a metric's history. */
export type IMetricPoint = NonNullable<Reply<'getExperimentMetrics'>['points']>[number];

/** A version of a versioned file. */
export type IVersion = Schemas['Version'];
/** The reply of `GET files/diff`. */
export type IDiffReply = Reply<'diffVersions'>;
/** The reply of `GET files/content`. */
export type IVersionContent = Reply<'getFileContent'>;

/** A file of a model version (or a run's artifact). */
export type IFileEntry = Schemas['FileEntry'];
/** A registered model (`GET models`; `GET models/{team}/{name}` adds `versions`). */
export type IModel = Schemas['Model'];
/** A version of a registered model. */
export type IModelVersion = Schemas['ModelVersion'];
/** What `POST models/{team}/{name}/versions` takes. */
export type IVersionBody = Body<'createModelVersion'>;
/** A serving endpoint (`GET endpoints`; one endpoint adds `serving` and `stats`). */
export type IEndpoint = Schemas['Endpoint'];
/** An endpoint's requests, errors and latency over time (`GET endpoints/{team}/{name}/metrics`). */
export type IEndpointMetrics = Schemas['EndpointMetrics'];
/** A dataset of the catalog (`GET datasets`). */
export type IDataset = Schemas['Dataset'];
/** The graph of `GET lineage`: datasets → runs → model versions → endpoints. */
export type ILineage = Reply<'getLineage'>;

/** A parameter of a notebook's cell tagged `parameters` (`GET notebook-jobs/parameters`). */
export type INotebookParameter = Schemas['NotebookParameter'];
export type INotebookParameters = Schemas['NotebookParameters'];
/** A notebook job: a run of kind `notebook` (`GET notebook-jobs/{id}`, or an item of the list). */
export type INotebookJob = Schemas['NotebookJobRun'];
/** Where a notebook job's executed notebook is kept. */
export type INotebookJobOutput = NonNullable<INotebookJob['output']>;
/** `POST notebook-jobs` (and a schedule's `job`). */
export type INotebookJobRequest = Schemas['NotebookJob'];
/** What `POST notebook-schedules` takes. */
export type INotebookScheduleRequest = Body<'createNotebookSchedule'>;
/** A notebook schedule (`GET notebook-schedules`). */
export type INotebookSchedule = Schemas['NotebookSchedule'];
/** One firing of a schedule: the run it started, or why none. */
export type IScheduleFiring = Schemas['ScheduleFiring'];

/**
 * Error thrown when the server answers with a non-2xx status.
 *
 * `message` is the server's JSON `message` field when there is one.
 */
export class SubmarineAPIError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'SubmarineAPIError';
  }
}

/**
 * Pick a person-readable message out of an error reply body.
 */
function errorMessage(body: unknown, response: Response): string {
  if (body && typeof body === 'object') {
    const { message, reason } = body as { message?: unknown; reason?: unknown };
    if (typeof message === 'string' && message) {
      return message;
    }
    if (typeof reason === 'string' && reason) {
      return reason;
    }
  }
  if (typeof body === 'string' && body.trim()) {
    const text = body.trim();
    // An HTML error page (a proxy's, say) is no message for a person.
    if (!text.startsWith('<')) {
      return text;
    }
  }
  return response.statusText || `HTTP ${response.status}`;
}

function parseBody(text: string): unknown {
  if (text.length === 0) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * `path?k=v&...`, leaving out undefined, null and empty values; arrays are
 * joined with commas.
 */
export function withQuery(
  path: string,
  query: Record<string, string | number | boolean | string[] | undefined | null>
): string {
  const parts: string[] = [];
  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined || raw === null || raw === '') {
      continue;
    }
    const value = Array.isArray(raw) ? raw.join(',') : String(raw);
    if (value === '') {
      continue;
    }
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  }
  return parts.length ? `${path}?${parts.join('&')}` : path;
}

/**
 * Call the Submarine REST API.
 *
 * @param path - path below `submarine/api/v1`, e.g. `me`
 * @param init - initial values for the request
 * @param settings - server connection settings (defaults to the page's)
 * @returns the parsed JSON reply (or `undefined` for an empty body)
 * @throws SubmarineAPIError on a non-2xx reply; ServerConnection.NetworkError
 *   when the server cannot be reached at all
 */
export async function requestAPI<T>(
  path = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const body = parseBody(await response.text());
  if (!response.ok) {
    throw new SubmarineAPIError(errorMessage(body, response), response.status);
  }
  return body as T;
}

/**
 * Fetch raw bytes from the session server (`url` below its base URL).
 *
 * @throws SubmarineAPIError on a non-2xx reply, with the JSON message if any
 */
export async function requestBytes(
  url: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Uint8Array> {
  const full = URLExt.join(settings.baseUrl, url);
  const response = await ServerConnection.makeRequest(full, init, settings);
  if (!response.ok) {
    const body = parseBody(await response.text());
    throw new SubmarineAPIError(errorMessage(body, response), response.status);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** What this session runs for: the team and environment profile it was started with. */
export interface ISessionInfo {
  team: string | null;
  environment: string | null;
}

const NO_SESSION: ISessionInfo = { team: null, environment: null };

/**
 * The session's team and environment (`submarine/session` of the server
 * extension): the default team and environment of the panel's forms. Nothing
 * (nulls) when the server does not say.
 */
export async function sessionDefaults(api: SubmarineAPI): Promise<ISessionInfo> {
  try {
    return (await api.session?.()) ?? NO_SESSION;
  } catch {
    return NO_SESSION;
  }
}

/**
 * Fetch who the current user is and the teams they belong to.
 */
export function getMe(settings?: ServerConnection.ISettings): Promise<IMe> {
  return requestAPI<IMe>('me', { method: 'GET' }, settings);
}

/** `team/name` for a team's template or profile, `_global/name` for a global one. */
export function scopedPath(ref: string): string {
  return ref.includes('/') ? ref : `_global/${ref}`;
}

/** `team/name` for a URL path, each part encoded. */
export function modelPath(team: string, name: string): string {
  return `${encodeURIComponent(team)}/${encodeURIComponent(name)}`;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/**
 * The REST API as the panels use it: one object, so the widgets can be given
 * a fake in tests.
 */
export class SubmarineAPI {
  constructor(settings?: ServerConnection.ISettings) {
    this.settings = settings ?? ServerConnection.makeSettings();
  }

  readonly settings: ServerConnection.ISettings;

  private _get<T>(path: string): Promise<T> {
    return requestAPI<T>(path, { method: 'GET' }, this.settings);
  }

  private _send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = JSON_HEADERS;
    }
    return requestAPI<T>(path, init, this.settings);
  }

  /** Who you are (fetched once, then remembered). */
  me(refresh = false): Promise<IMe> {
    if (refresh || !this._me) {
      const call = getMe(this.settings);
      this._me = call;
      call.catch(() => {
        if (this._me === call) {
          this._me = null;
        }
      });
    }
    return this._me;
  }

  /** The session's team and environment (fetched once). */
  session(): Promise<ISessionInfo> {
    if (!this._session) {
      const url = URLExt.join(this.settings.baseUrl, 'submarine', 'session');
      this._session = ServerConnection.makeRequest(url, { method: 'GET' }, this.settings).then(
        async response => (response.ok ? ((await response.json()) as ISessionInfo) : NO_SESSION),
        () => NO_SESSION
      );
    }
    return this._session;
  }

  // --- experiments ------------------------------------------------------------------
  listExperiments(filter: IExperimentFilter = {}): Promise<IExperimentPage> {
    return this._get(withQuery('experiments', { ...filter }));
  }

  getExperiment(id: number): Promise<IExperiment> {
    return this._get(`experiments/${id}`);
  }

  submitExperiment(spec: Record<string, unknown>): Promise<IExperiment> {
    return this._send('POST', 'experiments', spec);
  }

  runTemplate(ref: string, body: Body<'runTemplate'>): Promise<IExperiment> {
    return this._send('POST', `templates/${scopedPath(ref)}/runs`, body);
  }

  killExperiment(id: number): Promise<IExperiment> {
    return this._send('POST', `experiments/${id}/kill`);
  }

  rerunExperiment(id: number): Promise<IExperiment> {
    return this._send('POST', `experiments/${id}/rerun`);
  }

  /**
   * A run's log from byte `offset` on (what is there now; the lab polls).
   */
  readLog(id: number, name: string | undefined, offset: number): Promise<Uint8Array> {
    const path = withQuery(`experiments/${id}/logs`, { name, offset });
    return requestBytes(`${API_NAMESPACE}/${path}`, { method: 'GET' }, this.settings);
  }

  metricHistory(id: number, key: string, maxPoints = 500): Promise<IMetricPoint[]> {
    const path = withQuery(`experiments/${id}/metrics`, { key, max_points: maxPoints });
    return this._get<{ points: IMetricPoint[] }>(path).then(r => r.points ?? []);
  }

  async listTemplates(team?: string): Promise<ITemplate[]> {
    return (await this._get<{ items: ITemplate[] }>(withQuery('templates', { team }))).items;
  }

  /** Your teams' quota, usage, spend against the budget and free GPUs. */
  async teamUsage(): Promise<ITeamUsage[]> {
    return (await this._get<{ items: ITeamUsage[] }>('usage/teams')).items;
  }

  async listEnvironments(team?: string): Promise<IEnvironment[]> {
    return (await this._get<{ items: IEnvironment[] }>(withQuery('environments', { team }))).items;
  }

  /**
   * Pack a folder of the session (the session server does) and upload it as a
   * run's code; returns the upload id for `code: {upload: ID}`.
   */
  async uploadFolder(folder: string): Promise<string> {
    const archive = await requestBytes(
      withQuery(CODE_ARCHIVE, { path: folder || '/' }),
      { method: 'GET' },
      this.settings
    );
    const reply = await requestAPI<{ id: string }>(
      'uploads',
      {
        method: 'POST',
        body: new Blob([archive], { type: 'application/gzip' }),
        headers: { 'Content-Type': 'application/gzip' }
      },
      this.settings
    );
    return reply.id;
  }

  // --- versioned files --------------------------------------------------------------
  async listVersions(space: string, path: string): Promise<IVersion[]> {
    return (await this._get<{ items: IVersion[] }>(withQuery('files/versions', { space, path })))
      .items;
  }

  fileContent(space: string, path: string, version?: number): Promise<IVersionContent> {
    return this._get(withQuery('files/content', { space, path, version }));
  }

  diff(
    space: string,
    path: string,
    a: number,
    b: number,
    options: { ignoreOutputs?: boolean; ignoreMetadata?: boolean } = {}
  ): Promise<IDiffReply> {
    return this._get(
      withQuery('files/diff', {
        space,
        path,
        a,
        b,
        ignore_outputs: options.ignoreOutputs ? '1' : undefined,
        ignore_metadata: options.ignoreMetadata ? '1' : undefined
      })
    );
  }

  restore(space: string, path: string, version: number, message?: string): Promise<IVersion> {
    return this._send('POST', 'files/restore', { space, path, version, message });
  }

  // --- models -----------------------------------------------------------------------
  async listModels(team?: string): Promise<IModel[]> {
    return (await this._get<{ items: IModel[] }>(withQuery('models', { team }))).items;
  }

  /** A model with its versions, newest first. */
  getModel(team: string, name: string): Promise<IModel> {
    return this._get(`models/${modelPath(team, name)}`);
  }

  createModel(body: Body<'createModel'>): Promise<IModel> {
    return this._send('POST', 'models', body);
  }

  createVersion(team: string, name: string, body: IVersionBody): Promise<IModelVersion> {
    return this._send('POST', `models/${modelPath(team, name)}/versions`, body);
  }

  /** Change a version's `description`, `tags` or `archived`. */
  updateVersion(
    team: string,
    name: string,
    version: number,
    body: Body<'updateModelVersion'>
  ): Promise<IModelVersion> {
    return this._send('PATCH', `models/${modelPath(team, name)}/versions/${version}`, body);
  }

  deleteVersion(team: string, name: string, version: number): Promise<void> {
    return this._send('DELETE', `models/${modelPath(team, name)}/versions/${version}`);
  }

  /** Upload one file of an `uploading` version (its bytes, checked by SHA-256 if given). */
  uploadModelFile(
    team: string,
    name: string,
    version: number,
    path: string,
    bytes: Uint8Array,
    sha256?: string
  ): Promise<IFileEntry> {
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    if (sha256) {
      headers['X-Content-SHA256'] = sha256;
    }
    return requestAPI<IFileEntry>(
      withQuery(`models/${modelPath(team, name)}/versions/${version}/files`, { path }),
      { method: 'PUT', body: new Blob([bytes], { type: 'application/octet-stream' }), headers },
      this.settings
    );
  }

  markReady(team: string, name: string, version: number): Promise<IModelVersion> {
    return this._send('POST', `models/${modelPath(team, name)}/versions/${version}/ready`);
  }

  /** Point an alias at a version (creates or moves it). */
  setAlias(team: string, name: string, alias: string, version: number): Promise<unknown> {
    return this._send(
      'PUT',
      `models/${modelPath(team, name)}/aliases/${encodeURIComponent(alias)}`,
      { version }
    );
  }

  deleteAlias(team: string, name: string, alias: string): Promise<void> {
    return this._send(
      'DELETE',
      `models/${modelPath(team, name)}/aliases/${encodeURIComponent(alias)}`
    );
  }

  /** The files a run wrote to its artifacts folder. */
  async listArtifacts(runId: number): Promise<IFileEntry[]> {
    return (await this._get<{ items: IFileEntry[] }>(`experiments/${runId}/artifacts`)).items;
  }

  /** The bytes of a file of the session (its `files/` handler). */
  readSessionFile(path: string): Promise<Uint8Array> {
    const parts = path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
    return requestBytes(`files/${parts}`, { method: 'GET' }, this.settings);
  }

  // --- serving ----------------------------------------------------------------------
  async listEndpoints(team?: string): Promise<IEndpoint[]> {
    return (await this._get<{ items: IEndpoint[] }>(withQuery('endpoints', { team }))).items;
  }

  getEndpoint(team: string, name: string): Promise<IEndpoint> {
    return this._get(`endpoints/${modelPath(team, name)}`);
  }

  createEndpoint(body: Body<'createEndpoint'>): Promise<IEndpoint> {
    return this._send('POST', 'endpoints', body);
  }

  updateEndpoint(team: string, name: string, body: Body<'updateEndpoint'>): Promise<IEndpoint> {
    return this._send('PATCH', `endpoints/${modelPath(team, name)}`, body);
  }

  stopEndpoint(team: string, name: string): Promise<IEndpoint> {
    return this._send('DELETE', `endpoints/${modelPath(team, name)}`);
  }

  endpointMetrics(
    team: string,
    name: string,
    window: number,
    step: number
  ): Promise<IEndpointMetrics> {
    return this._get(withQuery(`endpoints/${modelPath(team, name)}/metrics`, { window, step }));
  }

  endpointLog(team: string, name: string, offset: number): Promise<Uint8Array> {
    const path = withQuery(`endpoints/${modelPath(team, name)}/logs`, { offset });
    return requestBytes(`${API_NAMESPACE}/${path}`, { method: 'GET' }, this.settings);
  }

  /** POST a JSON body to the endpoint's predict URL (relayed by the session). */
  predict(team: string, name: string, body: unknown): Promise<unknown> {
    const url = URLExt.join(this.settings.baseUrl, PREDICT_RELAY, modelPath(team, name));
    return ServerConnection.makeRequest(
      url,
      { method: 'POST', body: JSON.stringify(body), headers: JSON_HEADERS },
      this.settings
    ).then(async response => {
      const reply = parseBody(await response.text());
      if (!response.ok) {
        throw new SubmarineAPIError(errorMessage(reply, response), response.status);
      }
      return reply;
    });
  }

  // --- datasets ---------------------------------------------------------------------
  async listDatasets(team?: string): Promise<IDataset[]> {
    return (await this._get<{ items: IDataset[] }>(withQuery('datasets', { team }))).items;
  }

  getDataset(team: string, name: string): Promise<IDataset> {
    return this._get(`datasets/${modelPath(team, name)}`);
  }

  lineage(query: Query<'getLineage'>): Promise<ILineage> {
    return this._get(withQuery('lineage', { ...query }));
  }

  // --- notebook jobs ----------------------------------------------------------------
  /** The parameters of a notebook (a path of the file browser). */
  notebookParameters(notebook: string, version?: number): Promise<INotebookParameters> {
    return this._get(withQuery('notebook-jobs/parameters', { notebook, version }));
  }

  /** The jobs of one notebook, newest first (single runs and fan-out parents). */
  async listNotebookJobs(notebook: string, limit = 50): Promise<INotebookJob[]> {
    return (
      await this._get<{ items: INotebookJob[] }>(withQuery('notebook-jobs', { notebook, limit }))
    ).items;
  }

  /** Run a notebook now: one run, or a fan-out (`grid` / `parameter_sets`). */
  runNotebook(body: INotebookJobRequest): Promise<INotebookJob> {
    return this._send('POST', 'notebook-jobs', body);
  }

  getNotebookJob(id: number): Promise<INotebookJob> {
    return this._get(`notebook-jobs/${id}`);
  }

  async listNotebookSchedules(team?: string): Promise<INotebookSchedule[]> {
    return (
      await this._get<{ items: INotebookSchedule[] }>(withQuery('notebook-schedules', { team }))
    ).items;
  }

  createNotebookSchedule(body: INotebookScheduleRequest): Promise<INotebookSchedule> {
    return this._send('POST', 'notebook-schedules', body);
  }

  /** Pause (true) or resume (false) a schedule. */
  pauseNotebookSchedule(id: number, paused: boolean): Promise<INotebookSchedule> {
    return this._send('PATCH', `notebook-schedules/${id}`, { paused });
  }

  async deleteNotebookSchedule(id: number): Promise<void> {
    await this._send('DELETE', `notebook-schedules/${id}`);
  }

  async scheduleFirings(id: number, limit = 20): Promise<IScheduleFiring[]> {
    return (
      await this._get<{ items: IScheduleFiring[] }>(
        withQuery(`notebook-schedules/${id}/runs`, { limit })
      )
    ).items;
  }

  private _me: Promise<IMe> | null = null;
  private _session: Promise<ISessionInfo> | null = null;
}
