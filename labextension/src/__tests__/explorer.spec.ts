jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);
jest.mock('@jupyterlab/rendermime', () => ({
  MimeModel: class {
    constructor(readonly options: unknown) {}
  }
}));

import { SubmarineAPI } from '../api';
import {
  RunsTable,
  artifactTree,
  csvHead,
  metricChartSpec,
  parallelSpec,
  parquetTable,
  smooth
} from '../explorer';
import { makeRequest } from './fakejupyter';

const reply = (body: unknown, status = 200) => ({
  ok: status < 400,
  status,
  statusText: '',
  text: async () => JSON.stringify(body)
});

const run = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  name: `run-${id}`,
  team: 't',
  owner: 'alice',
  kind: 'command',
  status: 'succeeded',
  created_at: '2026-12-01T00:00:00Z',
  started_at: '2026-12-01T00:00:00Z',
  duration: 3,
  tags: [],
  params: { lr: '0.1' },
  metrics: { acc: 0.9 },
  children: 0,
  ...extra
});

describe('smooth', () => {
  it('is the identity without smoothing and an EMA with it', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = smooth([0, 10, 10], 0.5);
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(5);
    expect(s[2]).toBeCloseTo(7.5);
  });
});

describe('csvHead', () => {
  it('keeps quoted commas and stops after the head', () => {
    const rows = csvHead('a,b\n1,"x, y"\n2,"say ""hi"""\n', 1);
    expect(rows).toEqual([
      ['a', 'b'],
      ['1', 'x, y']
    ]);
    expect(csvHead('a\n1\n2\n3\n', 20)).toHaveLength(4);
  });
});

describe('artifactTree', () => {
  it('nests files under their folders', () => {
    const root = artifactTree([
      { path: 'plots/a.png', size: 1 },
      { path: 'plots/deep/b.csv', size: 2 },
      { path: 'c.json', size: 3 }
    ]);
    expect(Array.from(root.children.keys()).sort()).toEqual(['c.json', 'plots']);
    const plots = root.children.get('plots')!;
    expect(plots.file).toBeUndefined();
    expect(plots.children.get('deep')!.children.get('b.csv')!.file!.size).toBe(2);
  });
});

describe('chart specs', () => {
  it('draws one line per run with the values in the tooltip, smoothed and on a log scale', () => {
    const spec = metricChartSpec(
      [
        {
          run: 'a #1',
          points: [
            { step: 0, value: 4, timestamp: 1 },
            { step: 1, value: 2, timestamp: 2 }
          ]
        },
        { run: 'b #2', points: [{ step: 0, value: 3, timestamp: 1 }] }
      ],
      'loss',
      { x: 'step', smoothing: 0.5, log: true }
    ) as any;
    expect(spec.data.values).toHaveLength(3);
    expect(spec.data.values[1]).toMatchObject({ run: 'a #1', step: 1, raw: 2, value: 3 });
    expect(spec.encoding.color.field).toBe('run');
    expect(spec.encoding.y.scale).toEqual({ type: 'log' });
    expect(spec.encoding.tooltip.map((t: any) => t.field)).toEqual(['run', 'step', 'raw', 'value']);
    const byTime = metricChartSpec([], 'loss', { x: 'time', smoothing: 0, log: false }) as any;
    expect(byTime.encoding.x.type).toBe('temporal');
  });

  it('puts every numeric param and metric on an axis of the parallel coordinates', () => {
    const items = [run(1, { params: { lr: '0.1' }, metrics: { acc: 0.9 } }), run(2)] as any;
    const spec = parallelSpec(items, ['params.lr', 'metrics.acc']) as any;
    // no dots in Vega field names (a dot reads a nested field)
    expect(spec.data.values[0]).toMatchObject({ 'params:lr': 0.1, 'metrics:acc': 0.9 });
    expect(spec.transform[1]).toEqual({ fold: ['params:lr', 'metrics:acc'] });
  });
});

describe('RunsTable', () => {
  beforeEach(() => makeRequest.mockReset());

  it('searches on the server, folds children and sorts by a column click', async () => {
    makeRequest.mockResolvedValueOnce(
      reply({
        items: [run(5, { children: 2, best: { key: 'acc', value: 0.95 } }), run(4)],
        keys: { params: ['lr'], metrics: ['acc'] },
        next_page_token: 'tok'
      })
    );
    const table = new RunsTable(new SubmarineAPI(), { compare: jest.fn(), artifacts: jest.fn() });
    await table.search();
    const url = decodeURIComponent(makeRequest.mock.calls[0][0]);
    expect(url).toContain('experiments/search?filter=attributes.parent_id IS NULL');
    const kids = table.node.querySelector('[data-testid="explorer-kids-5"]')!;
    expect(kids.textContent).toContain('2 runs · best acc 0.95');
    expect(
      table.node.querySelector('[data-testid="explorer-more"]')!.hasAttribute('disabled')
    ).toBe(false);

    makeRequest.mockResolvedValueOnce(
      reply({
        items: [run(7), run(8)],
        keys: { params: [], metrics: ['acc'] },
        next_page_token: null
      })
    );
    (table.node.querySelector('[data-testid="explorer-fold-5"]') as HTMLElement).click();
    await new Promise(r => setTimeout(r, 0));
    expect(decodeURIComponent(makeRequest.mock.calls[1][0])).toContain(
      'filter=attributes.parent_id = 5'
    );
    expect(table.node.querySelectorAll('tr.jp-SubmarineExplorer-child')).toHaveLength(2);

    makeRequest.mockResolvedValueOnce(reply({ items: [], keys: {}, next_page_token: null }));
    (table.node.querySelector('th[data-sort="metrics.acc"]') as HTMLElement).click();
    await new Promise(r => setTimeout(r, 0));
    expect(decodeURIComponent(makeRequest.mock.calls[2][0])).toContain('order_by=metrics.acc DESC');
    expect(table.orderBy).toEqual(['metrics.acc DESC']);
  });

  it("shows the service's message for a bad filter", async () => {
    makeRequest.mockResolvedValueOnce(
      reply({ status: 400, message: "Unexpected 'or' (comparisons are joined by AND only)." }, 400)
    );
    const table = new RunsTable(new SubmarineAPI(), { compare: jest.fn(), artifacts: jest.fn() });
    table.filter = 'metrics.a > 1 or x';
    await table.search();
    expect(table.node.querySelector('[data-testid="explorer-error"]')!.textContent).toContain(
      'AND only'
    );
  });
});

describe('parquetTable', () => {
  it("shows each column's type under its name, the rows and how many there are", () => {
    const box = parquetTable({
      format: 'parquet',
      columns: [
        { name: 'id', type: 'int64' },
        { name: 'tags', type: 'list<element: string>' }
      ],
      rows: [
        [1, ['a', 'b']],
        [2, null]
      ],
      num_rows: 1000,
      num_columns: 150
    });
    expect(box.querySelector('[data-testid="artifact-parquet-meta"]')?.textContent).toBe(
      '1000 rows × 150 columns (the first 2); the first 2 rows shown'
    );
    const cells = Array.from(box.querySelectorAll('tr')).map(tr =>
      Array.from(tr.children).map(c => c.textContent)
    );
    expect(cells).toEqual([
      ['idint64', 'tagslist<element: string>'],
      ['1', '["a","b"]'],
      ['2', '']
    ]);
  });
});
