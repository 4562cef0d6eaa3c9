/**
 * A run page's Spark and SQL parts, on the real SubmarineAPI with a fake fetch.
 */
jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => ({
  ...jest.requireActual('./fakejupyter').coreutils,
  PageConfig: { getOption: (name: string) => (name === 'hubPrefix' ? '/jhub/hub/' : '') }
}));

import { makeRequest } from './fakejupyter';

import { type IExperiment, SubmarineAPI } from '../api';
import { renderSparkSql, serviceUrl } from '../sparksql';

const API = 'http://localhost:8888/submarine/api/v1/';

function serve(routes: Record<string, [number, unknown]>): void {
  makeRequest.mockReset();
  makeRequest.mockImplementation(async (url: string) => {
    const [status, body] = routes[url.slice(API.length)] ?? [404, { message: 'no' }];
    return { ok: status < 300, status, statusText: '', text: async () => JSON.stringify(body) };
  });
}

function run(fields: Partial<IExperiment>): IExperiment {
  return { id: 7, name: 'r', team: 't', owner: 'o', status: 'running', ...fields } as IExperiment;
}

describe('a Spark or SQL run page', () => {
  it("links a running Spark application's UI through the hub and shows its executors", async () => {
    serve({
      'experiments/7/spark': [
        200,
        { running: true, executors: 2, cores: 2, app_id: 'app-1', ui: 'experiments/7/spark/ui/' }
      ]
    });
    const node = document.createElement('div');
    await renderSparkSql(new SubmarineAPI(), run({ kind: 'spark' }), node);
    const facts = node.querySelector('[data-testid="submarine-spark-executors"]');
    expect(facts?.textContent).toContain('2 executor(s), 2 core(s)');
    const link = node.querySelector('a') as HTMLAnchorElement;
    expect(link.getAttribute('href')).toBe(
      '/jhub/services/submarine/api/v1/experiments/7/spark/ui/'
    );
    expect(serviceUrl('x')).toBe('/jhub/services/submarine/api/v1/x');
  });

  it('shows an ended Spark run without a UI link', async () => {
    serve({ 'experiments/7/spark': [200, { running: false, executors: 0, ui: null }] });
    const node = document.createElement('div');
    await renderSparkSql(new SubmarineAPI(), run({ kind: 'spark', status: 'killed' }), node);
    expect(node.querySelector('a')).toBeNull();
    expect(node.textContent).toContain('event log');
  });

  it("shows a SQL run's row count and first rows", async () => {
    serve({
      'experiments/7/artifacts?path=result.json': [
        200,
        {
          rows: 2,
          columns: ['city', 'n'],
          preview: [
            { city: 'Lima', n: 5 },
            { city: 'Oslo', n: 7 }
          ]
        }
      ]
    });
    const node = document.createElement('div');
    await renderSparkSql(new SubmarineAPI(), run({ kind: 'sql', status: 'succeeded' }), node);
    expect(node.querySelector('h3')?.textContent).toBe('Result: 2 rows');
    const cells = Array.from(node.querySelectorAll('td')).map(td => td.textContent);
    expect(cells).toEqual(['Lima', '5', 'Oslo', '7']);
  });

  it('adds nothing to other runs', async () => {
    serve({});
    const node = document.createElement('div');
    await renderSparkSql(new SubmarineAPI(), run({ kind: 'command' }), node);
    expect(node.childElementCount).toBe(0);
    expect(makeRequest).not.toHaveBeenCalled();
  });
});
