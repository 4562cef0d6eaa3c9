/**
 * The Models tab, "Register as model…" and serving, on the real SubmarineAPI
 * with a fake fetch (ServerConnection.makeRequest) standing in for the server.
 */
jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);

import { makeRequest } from './fakejupyter';

import { Widget } from '@lumino/widgets';

import {
  type IEndpoint,
  type IExperiment,
  type IModel,
  type IModelVersion,
  SubmarineAPI
} from '../api';
import { Config } from '../config';
import { ModelsSection, aliasesText, parseTags, tagsText } from '../models';
import {
  RegisterModelForm,
  baseName,
  frameworkOf,
  looksLikeModel,
  registerBytes,
  registerRunOutputs,
  suggestName
} from '../register';
import { EndpointDetail, deploy, endpointName, isSettling, routesText } from '../serving';

const BASE = 'http://localhost:8888/';
const API = `${BASE}submarine/api/v1/`;

type Handler = (init: RequestInit) => [number, unknown] | Promise<[number, unknown]>;

/** A fake server: `METHOD path` (below the base URL, query included) → reply. */
function serve(
  routes: Record<string, Handler | [number, unknown]>
): { method: string; path: string; init: RequestInit }[] {
  const calls: { method: string; path: string; init: RequestInit }[] = [];
  makeRequest.mockReset();
  makeRequest.mockImplementation(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const path = url.startsWith(API) ? url.slice(API.length) : `/${url.slice(BASE.length)}`;
    calls.push({ method, path, init });
    const route = routes[`${method} ${path}`];
    const [status, body] = !route
      ? [404, { status: 404, message: `no route ${method} ${path}` }]
      : typeof route === 'function'
        ? await route(init)
        : route;
    const bytes = ArrayBuffer.isView(body)
      ? (body as Uint8Array)
      : new TextEncoder().encode(
          body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
        );
    return {
      ok: status >= 200 && status < 300,
      status,
      statusText: '',
      text: async () => new TextDecoder().decode(bytes),
      arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
    } as unknown as Response;
  });
  return calls;
}

const settle = () => new Promise(resolve => setTimeout(resolve, 0));
const byTestId = (node: HTMLElement, id: string): HTMLElement | null =>
  node.querySelector(`[data-testid="${id}"]`);
const ME = { name: 'alice', admin: false, teams: [{ name: 'data-science' }, { name: 'ml' }] };

function version(over: Partial<IModelVersion> = {}): IModelVersion {
  return {
    model: 'data-science/iris',
    version: 1,
    id: 11,
    status: 'ready',
    owner: 'alice',
    framework: 'sklearn',
    metrics: { accuracy: 0.95 },
    tags: {},
    aliases: [],
    source_run_id: 42,
    files: [{ path: 'model.joblib', size: 1234, sha256: 'ab' }],
    size: 1234,
    created_at: new Date().toISOString(),
    ...over
  };
}

function model(over: Partial<IModel> = {}): IModel {
  return {
    id: 1,
    team: 'data-science',
    name: 'iris',
    ref: 'data-science/iris',
    owner: 'alice',
    description: 'Iris classifier',
    tags: { task: 'classification' },
    latest_version: 1,
    aliases: {},
    created_at: new Date().toISOString(),
    ...over
  };
}

function endpoint(over: Partial<IEndpoint> = {}): IEndpoint {
  return {
    id: 3,
    team: 'data-science',
    name: 'iris',
    ref: 'data-science/iris',
    owner: 'alice',
    status: 'ready',
    reason: '',
    generation: 1,
    routes: [{ model: 'data-science/iris', version: 1, ref: '1', weight: 100 }],
    url: 'http://hub/services/endpoint-data-science-iris/',
    predict_url: 'http://hub/services/endpoint-data-science-iris/predict',
    serving: { generation: 1 },
    stats: { total: { requests: 3, errors: 0 } },
    ...over
  };
}

describe('helpers', () => {
  it('suggest model and endpoint names', () => {
    expect(suggestName('models/iris.joblib')).toBe('iris');
    expect(suggestName('my model (2).pkl')).toBe('my-model-2-');
    expect(baseName('a/b/c.onnx')).toBe('c.onnx');
    expect(frameworkOf('c.onnx')).toBe('onnx');
    expect(frameworkOf('c.joblib')).toBe('');
    expect(looksLikeModel('model.joblib')).toBe(true);
    expect(looksLikeModel('metrics.csv')).toBe(false);
    expect(looksLikeModel('metrics.json')).toBe(false);
    expect(endpointName('Iris_Classifier.v2')).toBe('iris-classifier-v2');
    expect(endpointName('___')).toBe('model');
  });

  it('word aliases, tags and routes', () => {
    expect(aliasesText({ staging: 2, production: 1 })).toBe('production → v1, staging → v2');
    expect(tagsText({ task: 'cls', gold: '' })).toBe('task=cls, gold');
    expect(parseTags(' task = cls ,gold,, url=a=b ')).toEqual({
      task: 'cls',
      gold: '',
      url: 'a=b'
    });
    expect(parseTags(tagsText({ task: 'cls', gold: '' }))).toEqual({ task: 'cls', gold: '' });
    expect(parseTags('')).toEqual({});
    expect(parseTags('a, =b')).toContain('no tag name');
    expect(
      routesText(
        endpoint({
          routes: [
            { model: 'ds/iris', version: 1, ref: 'production', weight: 90 },
            { model: 'ds/iris', version: 2, ref: '2', weight: 10 }
          ]
        })
      )
    ).toBe('90% ds/iris v1 (production), 10% ds/iris v2');
    expect(isSettling(endpoint({ status: 'starting' }))).toBe(true);
    expect(isSettling(endpoint({ generation: 2 }))).toBe(true);
    expect(isSettling(endpoint())).toBe(false);
  });
});

describe('SubmarineAPI: models and serving', () => {
  it('PUTs a model file as bytes, with its path and checksum', async () => {
    const calls = serve({
      'PUT models/data-science/iris/versions/2/files?path=model.joblib': [
        201,
        { path: 'model.joblib', size: 3, sha256: 'x' }
      ]
    });
    const api = new SubmarineAPI();
    const entry = await api.uploadModelFile(
      'data-science',
      'iris',
      2,
      'model.joblib',
      new Uint8Array([1, 2, 3]),
      'x'
    );
    expect(entry.size).toBe(3);
    const init = calls[0].init;
    expect((init.body as Blob).size).toBe(3);
    expect(init.headers).toEqual({
      'Content-Type': 'application/octet-stream',
      'X-Content-SHA256': 'x'
    });
  });

  it("relays a test request through the session's predict relay", async () => {
    const calls = serve({
      'POST /submarine/predict/data-science/iris': init => [
        200,
        { predictions: [0], echo: JSON.parse(init.body as string) }
      ]
    });
    const reply = await new SubmarineAPI().predict('data-science', 'iris', { inputs: [[1]] });
    expect(reply).toEqual({ predictions: [0], echo: { inputs: [[1]] } });
    expect(calls[0].method).toBe('POST');
  });

  it("turns an endpoint's refusal into an error with its message", async () => {
    serve({
      'POST /submarine/predict/data-science/iris': [
        400,
        { status: 400, message: 'inputs must be a list' }
      ]
    });
    await expect(new SubmarineAPI().predict('data-science', 'iris', {})).rejects.toMatchObject({
      status: 400,
      message: 'inputs must be a list'
    });
  });
});

describe('registering', () => {
  it('creates the model, a version, uploads the file and marks it ready', async () => {
    const calls = serve({
      'POST models': [201, model({ latest_version: 0 })],
      'POST models/data-science/iris/versions': [201, version({ status: 'uploading', files: [] })],
      'PUT models/data-science/iris/versions/1/files?path=iris.joblib': [
        201,
        { path: 'iris.joblib', size: 2 }
      ],
      'POST models/data-science/iris/versions/1/ready': [200, version()]
    });
    const v = await registerBytes(
      new SubmarineAPI(),
      { team: 'data-science', name: 'iris', description: 'd', framework: 'sklearn', create: true },
      'iris.joblib',
      new Uint8Array([7, 8])
    );
    expect(v.status).toBe('ready');
    expect(calls.map(c => `${c.method} ${c.path}`)).toEqual([
      'POST models',
      'POST models/data-science/iris/versions',
      'PUT models/data-science/iris/versions/1/files?path=iris.joblib',
      'POST models/data-science/iris/versions/1/ready'
    ]);
    expect(JSON.parse(calls[0].init.body as string)).toEqual({
      team: 'data-science',
      name: 'iris',
      description: 'd'
    });
    expect(JSON.parse(calls[1].init.body as string)).toEqual({
      description: 'd',
      framework: 'sklearn'
    });
  });

  it('deletes the half-made version when the upload fails, and says why', async () => {
    const calls = serve({
      'POST models/data-science/iris/versions': [201, version({ version: 3, status: 'uploading' })],
      'PUT models/data-science/iris/versions/3/files?path=f.pkl': [413, { message: 'too big' }],
      'DELETE models/data-science/iris/versions/3': [204, undefined]
    });
    await expect(
      registerBytes(
        new SubmarineAPI(),
        { team: 'data-science', name: 'iris', create: false },
        'f.pkl',
        new Uint8Array([1])
      )
    ).rejects.toMatchObject({ status: 413, message: 'too big' });
    expect(calls.map(c => c.method)).toEqual(['POST', 'PUT', 'DELETE']);
  });

  it("registers a run's outputs in one request (from_run)", async () => {
    const calls = serve({
      'POST models/data-science/wine/versions': [201, version({ model: 'data-science/wine' })]
    });
    await registerRunOutputs(
      new SubmarineAPI(),
      { team: 'data-science', name: 'wine', create: false },
      42,
      ['model.joblib']
    );
    expect(JSON.parse(calls[0].init.body as string)).toEqual({
      from_run: { run_id: 42, paths: ['model.joblib'] }
    });
  });
});

describe('RegisterModelForm', () => {
  let form: RegisterModelForm;
  afterEach(() => {
    if (form?.isAttached) {
      Widget.detach(form);
    }
  });

  function open(source: ConstructorParameters<typeof RegisterModelForm>[0]['source']) {
    form = new RegisterModelForm({ api: new SubmarineAPI(), source });
    Widget.attach(form, document.body);
    return form.open();
  }

  it('offers your teams and their models, and says whether the model is new', async () => {
    serve({ 'GET me': [200, ME], 'GET models': [200, { items: [model()] }] });
    await open({ kind: 'file', path: 'work/iris.joblib' });
    const team = byTestId(form.node, 'submarine-register-team') as HTMLSelectElement;
    expect(Array.from(team.options).map(o => o.value)).toEqual(['data-science', 'ml']);
    expect((byTestId(form.node, 'submarine-register-file') as HTMLInputElement).value).toBe(
      'work/iris.joblib'
    );
    expect((byTestId(form.node, 'submarine-register-model') as HTMLInputElement).value).toBe(
      'iris'
    );
    expect(byTestId(form.node, 'submarine-register-kind')!.textContent).toBe(
      'A new version (2) of data-science/iris.'
    );
    expect(form.target.create).toBe(false);
    team.value = 'ml';
    team.dispatchEvent(new Event('change'));
    expect(byTestId(form.node, 'submarine-register-kind')!.textContent).toBe(
      'A new model ml/iris, version 1.'
    );
    expect(form.target.create).toBe(true);
  });

  it("reads the session's file and shows the service's refusal of a bad name", async () => {
    const calls = serve({
      'GET me': [200, ME],
      'GET models': [200, { items: [] }],
      'GET /files/work/iris.joblib': [200, new Uint8Array([1, 2, 3])],
      'POST models': [
        400,
        { status: 400, message: "'name' must be 1-100 letters, digits, '_', '.' or '-'." }
      ]
    });
    await open({ kind: 'file', path: 'work/iris.joblib' });
    (byTestId(form.node, 'submarine-register-model') as HTMLInputElement).value = 'bad name!';
    await expect(form.submit()).resolves.toBeNull();
    expect(byTestId(form.node, 'submarine-register-error')!.textContent).toBe(
      "'name' must be 1-100 letters, digits, '_', '.' or '-'."
    );
    expect(calls.some(c => c.path === '/files/work/iris.joblib')).toBe(true);
    expect(calls.some(c => c.path.startsWith('models/'))).toBe(false);
  });

  it('asks for a file and a name before sending anything', async () => {
    serve({ 'GET me': [200, ME], 'GET models': [200, { items: [] }] });
    await open({ kind: 'file', path: '' });
    (byTestId(form.node, 'submarine-register-model') as HTMLInputElement).value = 'm';
    await expect(form.submit()).resolves.toBeNull();
    expect(byTestId(form.node, 'submarine-register-error')!.textContent).toContain('which file');
    (byTestId(form.node, 'submarine-register-model') as HTMLInputElement).value = '';
    await form.submit();
    expect(byTestId(form.node, 'submarine-register-error')!.textContent).toContain('a name');
  });

  it("lists a run's outputs, ticks the model file, and registers from the run", async () => {
    const run: IExperiment = {
      id: 42,
      name: 'sklearn-classifier',
      template: 'sklearn-classifier',
      team: 'ml',
      owner: 'alice',
      kind: 'command',
      status: 'succeeded',
      created_at: ''
    };
    const calls = serve({
      'GET me': [200, ME],
      'GET models': [200, { items: [] }],
      'GET experiments/42/artifacts': [
        200,
        {
          items: [
            { path: 'metrics.json', size: 30 },
            { path: 'model.joblib', size: 10 },
            { path: 'report.txt', size: 3 }
          ]
        }
      ],
      'POST models': [201, model({ team: 'ml', name: 'sklearn-classifier' })],
      'POST models/ml/sklearn-classifier/versions': [201, version()]
    });
    await open({ kind: 'run', run });
    const team = byTestId(form.node, 'submarine-register-team') as HTMLSelectElement;
    expect(team.value).toBe('ml');
    expect(team.disabled).toBe(true);
    expect(form.paths).toEqual(['model.joblib']);
    await expect(form.submit()).resolves.toMatchObject({ version: 1 });
    const body = JSON.parse(calls[calls.length - 1].init.body as string);
    expect(body.from_run).toEqual({ run_id: 42, paths: ['model.joblib'] });
    expect(body.framework).toBe('sklearn');
  });
});

describe('ModelsSection', () => {
  let section: ModelsSection;
  const openRun = jest.fn();
  afterEach(() => {
    if (section?.isAttached) {
      Widget.detach(section);
    }
    section?.dispose();
  });

  function make() {
    section = new ModelsSection({
      api: new SubmarineAPI(),
      config: new Config({ refreshInterval: 60 }),
      actions: { register: jest.fn(), openRun, confirm: async () => true }
    });
    Widget.attach(section, document.body);
  }

  it('lists the models and endpoints of your teams; none says so', async () => {
    serve({
      'GET models': [200, { items: [model({ aliases: { production: 1 } })] }],
      'GET endpoints': [200, { items: [endpoint()] }]
    });
    make();
    await section.list.refresh();
    const item = byTestId(section.node, 'submarine-model-data-science/iris')!;
    expect(item.textContent).toContain('production → v1');
    expect(byTestId(section.node, 'submarine-endpoint-data-science/iris')!.textContent).toContain(
      '100% data-science/iris v1'
    );
    serve({ 'GET models': [200, { items: [] }], 'GET endpoints': [200, { items: [] }] });
    await section.list.refresh();
    expect(byTestId(section.node, 'submarine-no-models')).not.toBeNull();
    expect(byTestId(section.node, 'submarine-no-endpoints')).not.toBeNull();
  });

  it("shows a model's versions with metrics, source run and files; Enter opens it", async () => {
    serve({
      'GET models': [200, { items: [model()] }],
      'GET endpoints': [200, { items: [] }],
      'GET models/data-science/iris': [
        200,
        {
          ...model({ aliases: { production: 1 } }),
          versions: [version({ aliases: ['production'] })]
        }
      ]
    });
    make();
    await section.list.refresh();
    const item = byTestId(section.node, 'submarine-model-data-science/iris')!;
    item.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await settle();
    await settle();
    expect(section.view).toBe('model');
    const v1 = byTestId(section.node, 'submarine-model-version-1')!;
    expect(byTestId(v1, 'submarine-version-metrics-1')!.textContent).toBe('accuracy 0.95');
    expect(byTestId(v1, 'submarine-version-files-1')!.textContent).toContain('model.joblib');
    byTestId(v1, 'submarine-version-run-1')!.click();
    expect(openRun).toHaveBeenCalledWith(42);
    expect(byTestId(section.node, 'submarine-alias-production')!.textContent).toContain(
      'production → v1'
    );
  });

  it('sets, refuses and removes aliases', async () => {
    const calls = serve({
      'GET models/data-science/iris': [200, { ...model(), versions: [version()] }],
      'PUT models/data-science/iris/aliases/production': [200, { version: 1 }],
      'DELETE models/data-science/iris/aliases/production': [204, undefined]
    });
    make();
    await section.showModel('data-science', 'iris');
    await expect(section.detail.setAlias(1, 'Not An Alias')).resolves.toBe(false);
    expect(byTestId(section.node, 'submarine-models-error')!.textContent).toContain('lowercase');
    await expect(section.detail.setAlias(1, 'production')).resolves.toBe(true);
    const put = calls.find(c => c.method === 'PUT')!;
    expect(JSON.parse(put.init.body as string)).toEqual({ version: 1 });
    expect(byTestId(section.node, 'submarine-model-said')!.textContent).toBe(
      'production now points at version 1.'
    );
    await section.detail.removeAlias('production');
    expect(calls.some(c => c.method === 'DELETE')).toBe(true);
  });

  it('edits the tags of a version; a malformed list is refused before any call', async () => {
    const calls = serve({
      'GET models/data-science/iris': [200, { ...model(), versions: [version()] }],
      'PATCH models/data-science/iris/versions/1': [200, version({ tags: { stage: 'candidate' } })]
    });
    make();
    await section.showModel('data-science', 'iris');
    await expect(section.detail.setTags(1, '=oops')).resolves.toBe(false);
    expect(byTestId(section.node, 'submarine-models-error')!.textContent).toContain('no tag name');
    expect(calls.some(c => c.method === 'PATCH')).toBe(false);
    await expect(section.detail.setTags(1, 'stage = candidate, reviewed')).resolves.toBe(true);
    const patch = calls.find(c => c.method === 'PATCH')!;
    expect(JSON.parse(patch.init.body as string)).toEqual({
      tags: { stage: 'candidate', reviewed: '' }
    });
    expect(byTestId(section.node, 'submarine-model-said')!.textContent).toBe(
      'Saved the tags of version 1.'
    );
  });

  it('deploys a version: a new endpoint, or a rolling update of a running one', async () => {
    const calls = serve({
      'GET endpoints?team=data-science': [200, { items: [] }],
      'POST endpoints': [201, endpoint({ status: 'starting' })]
    });
    const api = new SubmarineAPI();
    await expect(deploy(api, 'data-science', 'iris', 2, 'iris')).resolves.toMatchObject({
      created: true
    });
    expect(JSON.parse(calls[1].init.body as string)).toEqual({
      name: 'iris',
      team: 'data-science',
      model: 'iris',
      version: 2
    });
    const again = serve({
      'GET endpoints?team=data-science': [200, { items: [endpoint()] }],
      'PATCH endpoints/data-science/iris': [202, endpoint({ status: 'updating' })]
    });
    await expect(deploy(api, 'data-science', 'iris', 2, 'iris')).resolves.toMatchObject({
      created: false
    });
    expect(JSON.parse(again[1].init.body as string)).toEqual({ model: 'iris', version: 2 });
  });

  it("shows the service's refusal of a deployment", async () => {
    serve({
      'GET models/data-science/iris': [200, { ...model(), versions: [version()] }],
      'GET endpoints?team=data-science': [200, { items: [] }],
      'POST endpoints': [400, { message: "'name' must be 1-40 lowercase letters" }]
    });
    make();
    await section.showModel('data-science', 'iris');
    await expect(section.detail.deploy(1, 'Bad_Name')).resolves.toBeNull();
    expect(byTestId(section.node, 'submarine-models-error')!.textContent).toContain('lowercase');
  });
});

describe('EndpointDetail', () => {
  let page: EndpointDetail;
  afterEach(() => {
    if (page?.isAttached) {
      Widget.detach(page);
    }
    page?.dispose();
  });

  async function load() {
    page = new EndpointDetail(new SubmarineAPI(), new Config({ refreshInterval: 60 }), {
      back: jest.fn(),
      confirm: async () => true
    });
    Widget.attach(page, document.body);
    await page.load('data-science', 'iris');
  }

  it('shows status, predict URL, routes, statistics and the log', async () => {
    serve({
      'GET endpoints/data-science/iris': [200, endpoint()],
      'GET endpoints/data-science/iris/logs?offset=0': [
        200,
        new TextEncoder().encode('listening\n')
      ],
      'GET endpoints/data-science/iris/logs?offset=10': [200, new Uint8Array()]
    });
    await load();
    expect(byTestId(page.node, 'submarine-endpoint-status')!.getAttribute('data-status')).toBe(
      'ready'
    );
    expect(byTestId(page.node, 'submarine-endpoint-url')!.textContent).toBe(
      'http://hub/services/endpoint-data-science-iris/predict'
    );
    expect(byTestId(page.node, 'submarine-endpoint-facts')!.textContent).toContain('3 (0 errors)');
    expect(byTestId(page.node, 'submarine-endpoint-log')!.textContent).toBe('listening\n');
  });

  it('sends a test request and shows the reply, or what is wrong', async () => {
    serve({
      'GET endpoints/data-science/iris': [200, endpoint()],
      'GET endpoints/data-science/iris/logs?offset=0': [200, new Uint8Array()],
      'POST /submarine/predict/data-science/iris': init =>
        (JSON.parse(init.body as string) as { inputs?: unknown }).inputs
          ? [200, { predictions: [0], model: 'data-science/iris', version: 1 }]
          : [400, { message: 'Send {"inputs": [...]}' }]
    });
    await load();
    const body = byTestId(page.node, 'submarine-predict-body') as HTMLTextAreaElement;
    body.value = '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}';
    await page.sendRequest();
    expect(JSON.parse(byTestId(page.node, 'submarine-predict-reply')!.textContent!)).toEqual({
      predictions: [0],
      model: 'data-science/iris',
      version: 1
    });
    body.value = '{"rows": []}';
    await page.sendRequest();
    expect(byTestId(page.node, 'submarine-predict-error')!.textContent).toBe(
      'Send {"inputs": [...]}'
    );
    body.value = '{not json';
    await page.sendRequest();
    expect(byTestId(page.node, 'submarine-predict-error')!.textContent).toContain('not JSON');
    expect(body.getAttribute('aria-invalid')).toBe('true');
  });
});
