/**
 * The Datasets tab and run inputs in the submit form, on the real SubmarineAPI
 * with a fake fetch (ServerConnection.makeRequest).
 */
jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);

import { makeRequest } from './fakejupyter';

import { Widget } from '@lumino/widgets';

import { type IDataset, SubmarineAPI } from '../api';
import { DatasetsSection, inputName, lineageLines } from '../datasets';
import { SubmitForm, inputsText, parseInputs } from '../submit';

const API = 'http://localhost:8888/submarine/api/v1/';

function serve(
  routes: Record<string, [number, unknown]>
): { method: string; path: string; init: RequestInit }[] {
  const calls: { method: string; path: string; init: RequestInit }[] = [];
  makeRequest.mockReset();
  makeRequest.mockImplementation(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const path = url.slice(API.length);
    calls.push({ method, path, init });
    const [status, body] = routes[`${method} ${path}`] ?? [
      404,
      { message: `no route ${method} ${path}` }
    ];
    const text = body === undefined ? '' : JSON.stringify(body);
    return {
      ok: status < 300,
      status,
      statusText: '',
      text: async () => text
    } as unknown as Response;
  });
  return calls;
}

const byTestId = (node: HTMLElement, id: string): HTMLElement | null =>
  node.querySelector(`[data-testid="${id}"]`);

function dataset(over: Partial<IDataset> = {}): IDataset {
  return {
    id: 1,
    team: 'data-science',
    name: 'iris-train',
    ref: 'data-science/iris-train',
    owner: 'alice',
    uri: 's3://bucket/iris/train.csv',
    format: 'csv',
    description: 'Iris, the training split',
    tags: ['iris'],
    schema: { sepal_length: 'float' },
    size: 4500,
    shared: false,
    created_at: new Date().toISOString(),
    ...over
  };
}

describe('helpers', () => {
  it('name inputs after datasets', () => {
    expect(inputName('iris-train')).toBe('iris_train');
    expect(inputName('2024.sales')).toBe('_2024_sales');
    expect(inputName('---')).toBe('data');
  });

  it('parse and print run inputs', () => {
    expect(parseInputs('train=data-science/iris\n\n raw = s3://b/k \nlocal=/data/x')).toEqual({
      inputs: [
        { name: 'train', dataset: 'data-science/iris' },
        { name: 'raw', uri: 's3://b/k' },
        { name: 'local', uri: '/data/x' }
      ],
      errors: []
    });
    const bad = parseInputs('no equals\n1x=a\ntrain=a\ntrain=b');
    expect(bad.inputs).toEqual([{ name: 'train', dataset: 'a' }]);
    expect(bad.errors).toHaveLength(3);
    expect(
      inputsText([
        { name: 'train', dataset: 'ds/iris' },
        { name: 'raw', uri: 's3://b' }
      ])
    ).toBe('train=ds/iris\nraw=s3://b');
  });

  it('groups a lineage graph by kind', () => {
    expect(
      lineageLines({
        nodes: [
          { id: 'dataset:ds/iris', kind: 'dataset' },
          { id: 'run:3', kind: 'run', name: 'train', status: 'succeeded' },
          { id: 'model_version:ds/m/1', kind: 'model_version', model: 'ds/m', version: 1 },
          { id: 'endpoint:ds/m', kind: 'endpoint', status: 'ready' }
        ],
        edges: []
      })
    ).toEqual([
      { kind: 'dataset', label: 'Datasets', items: ['ds/iris'] },
      { kind: 'run', label: 'Runs that read it', items: ['#3 train (succeeded)'] },
      { kind: 'model_version', label: 'Model versions from those runs', items: ['ds/m v1'] },
      { kind: 'endpoint', label: 'Endpoints serving them', items: ['ds/m (ready)'] }
    ]);
  });
});

describe('DatasetsSection', () => {
  let section: DatasetsSection;
  const useForRun = jest.fn();
  afterEach(() => {
    if (section?.isAttached) {
      Widget.detach(section);
    }
  });

  function make() {
    section = new DatasetsSection({ api: new SubmarineAPI(), useForRun });
    Widget.attach(section, document.body);
  }

  it("lists your teams' datasets with URI, format, size, schema; Use for a run", async () => {
    serve({
      'GET datasets': [
        200,
        {
          items: [
            dataset(),
            dataset({ team: 'ml', name: 'shared-set', ref: 'ml/shared-set', shared: true })
          ]
        }
      ]
    });
    make();
    await section.refresh();
    const item = byTestId(section.node, 'submarine-dataset-data-science/iris-train')!;
    expect(byTestId(item, 'submarine-dataset-uri-data-science/iris-train')!.textContent).toBe(
      's3://bucket/iris/train.csv'
    );
    expect(item.textContent).toContain('csv · 4.5 kB');
    expect(item.textContent).toContain('schema: sepal_length float');
    expect(byTestId(section.node, 'submarine-dataset-ml/shared-set')!.textContent).toContain(
      'shared'
    );
    byTestId(item, 'submarine-use-dataset-data-science/iris-train')!.click();
    expect(useForRun).toHaveBeenCalledWith(
      expect.objectContaining({ ref: 'data-science/iris-train' })
    );
  });

  it('says so when there is none, and shows a refusal as a message', async () => {
    serve({ 'GET datasets': [200, { items: [] }] });
    make();
    await section.refresh();
    expect(byTestId(section.node, 'submarine-no-datasets')).not.toBeNull();
    serve({ 'GET datasets': [401, { message: 'token expired' }] });
    await section.refresh();
    expect(byTestId(section.node, 'submarine-error')!.textContent).toContain(
      'Your login has expired'
    );
  });

  it('shows the lineage on demand', async () => {
    serve({
      'GET datasets': [200, { items: [dataset()] }],
      'GET lineage?dataset=data-science%2Firis-train': [
        200,
        {
          nodes: [
            { id: 'dataset:data-science/iris-train', kind: 'dataset' },
            { id: 'run:9', kind: 'run', name: 'fit', status: 'succeeded' }
          ],
          edges: [{ from: 'dataset:data-science/iris-train', to: 'run:9' }]
        }
      ]
    });
    make();
    await section.refresh();
    await section.toggleLineage(section.items[0]);
    const box = byTestId(section.node, 'submarine-lineage-data-science/iris-train')!;
    expect(box.textContent).toContain('#9 fit (succeeded)');
    await section.toggleLineage(section.items[0]);
    expect(byTestId(section.node, 'submarine-lineage-data-science/iris-train')).toBeNull();
  });
});

describe('SubmitForm inputs', () => {
  it('prefills a dataset input and sends it with the run', async () => {
    const calls = serve({
      'GET me': [200, { name: 'alice', admin: false, teams: [{ name: 'data-science' }] }],
      'GET templates': [
        200,
        {
          items: [{ name: 'sklearn-classifier', team: null, parameters_schema: { properties: {} } }]
        }
      ],
      'GET environments': [200, { items: [] }],
      'POST templates/_global/sklearn-classifier/runs': [
        201,
        { id: 5, name: 'x', status: 'pending' }
      ]
    });
    const submitted = jest.fn();
    const form = new SubmitForm({ api: new SubmarineAPI(), cancel: jest.fn(), submitted });
    Widget.attach(form, document.body);
    await form.open({ inputs: [{ name: 'iris_train', dataset: 'data-science/iris-train' }] });
    const inputs = byTestId(form.node, 'submarine-run-inputs') as HTMLTextAreaElement;
    expect(inputs.value).toBe('iris_train=data-science/iris-train');
    await form.submit();
    const post = calls.find(c => c.method === 'POST')!;
    expect(JSON.parse(post.init.body as string).inputs).toEqual([
      { name: 'iris_train', dataset: 'data-science/iris-train' }
    ]);
    expect(submitted).toHaveBeenCalled();
    // a line that is no input is marked, and nothing is sent
    inputs.value = 'oops';
    await expect(form.submit()).resolves.toBeNull();
    expect(byTestId(form.node, 'submarine-field-error-inputs')!.hidden).toBe(false);
    expect(calls.filter(c => c.method === 'POST')).toHaveLength(1);
    Widget.detach(form);
  });
});
