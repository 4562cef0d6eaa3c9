jest.mock('@jupyterlab/services', () => ({
  ServerConnection: { makeSettings: () => ({ baseUrl: 'http://localhost:8888/' }) }
}));
jest.mock('@jupyterlab/coreutils', () => ({ URLExt: { join: (...p: string[]) => p.join('/') } }));

import { Widget } from '@lumino/widgets';

import type { IExperiment, RunStatus, SubmarineAPI } from '../api';
import { Config } from '../config';
import { ExperimentsSection, RunWatcher } from '../experiments';

const byTestId = (node: HTMLElement, id: string): HTMLElement | null =>
  node.querySelector(`[data-testid="${id}"]`);
const bytes = (text: string) => new TextEncoder().encode(text);
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

function run(over: Partial<IExperiment> = {}): IExperiment {
  return {
    id: 7,
    name: 'sklearn-classifier',
    team: 'data-science',
    owner: 'alice',
    kind: 'command',
    status: 'running',
    created_at: new Date().toISOString(),
    template: 'sklearn-classifier',
    parameters: { dataset: 'wine' },
    metrics: {},
    logs: ['main-0'],
    ...over
  };
}

function fakeApi(over: Partial<Record<keyof SubmarineAPI, unknown>> = {}): SubmarineAPI {
  return {
    me: jest.fn(async () => ({ name: 'alice', admin: false, teams: [{ name: 'data-science' }] })),
    listExperiments: jest.fn(async () => ({ items: [], next: null })),
    getExperiment: jest.fn(async () => run()),
    readLog: jest.fn(async () => new Uint8Array(0)),
    metricHistory: jest.fn(async () => []),
    killExperiment: jest.fn(async () => run({ kill_requested: true })),
    rerunExperiment: jest.fn(async () => run({ id: 8, status: 'pending' })),
    listTemplates: jest.fn(async () => []),
    listEnvironments: jest.fn(async () => []),
    ...over
  } as unknown as SubmarineAPI;
}

describe('RunWatcher', () => {
  it('calls back once when a watched run ends, then forgets it', async () => {
    const statuses: RunStatus[] = ['running', 'succeeded'];
    const api = fakeApi({
      getExperiment: jest.fn(async () => run({ status: statuses.shift() ?? 'succeeded' }))
    });
    const finished = jest.fn();
    const watcher = new RunWatcher(api, new Config(), finished);
    watcher.watch(run({ status: 'pending' }));
    expect(watcher.ids).toEqual([7]);
    await watcher.check();
    expect(finished).not.toHaveBeenCalled();
    await watcher.check();
    expect(finished).toHaveBeenCalledTimes(1);
    expect(finished.mock.calls[0][0].status).toBe('succeeded');
    expect(watcher.has(7)).toBe(false);
    await watcher.check();
    expect(finished).toHaveBeenCalledTimes(1);
    watcher.dispose();
  });

  it('does not watch an ended run, and drops a run that is gone', async () => {
    const api = fakeApi({
      getExperiment: jest.fn(async () => {
        throw Object.assign(new Error('No run 9.'), { status: 404 });
      })
    });
    const finished = jest.fn();
    const watcher = new RunWatcher(api, new Config(), finished);
    watcher.watch(run({ status: 'failed' }));
    expect(watcher.ids).toEqual([]);
    watcher.watch(run({ id: 9 }));
    await watcher.check();
    expect(watcher.ids).toEqual([]);
    expect(finished).not.toHaveBeenCalled();
    watcher.dispose();
  });
});

describe('ExperimentsSection', () => {
  let section: ExperimentsSection;
  afterEach(() => {
    section?.dispose();
    document.body.innerHTML = '';
  });

  const confirm = jest.fn(async () => true);

  function make(api: SubmarineAPI) {
    const config = new Config({ refreshInterval: 600 });
    const watcher = new RunWatcher(api, config, () => undefined);
    section = new ExperimentsSection({ api, config, watcher, confirm });
    Widget.attach(section, document.body);
    return { watcher };
  }

  it('lists runs with their status and filters by status', async () => {
    const api = fakeApi({
      listExperiments: jest.fn(async () => ({
        items: [run({ metrics: { accuracy: 0.9736 } }), run({ id: 6, status: 'failed' })],
        next: null
      }))
    });
    make(api);
    await section.list.refresh();
    const items = Array.from(section.node.querySelectorAll('.jp-SubmarineRuns-item'));
    expect(items.map(i => i.getAttribute('data-testid'))).toEqual([
      'submarine-run-7',
      'submarine-run-6'
    ]);
    expect(items[0].textContent).toContain('accuracy 0.974');
    expect(items[1].querySelector('[data-status]')?.textContent).toBe('failed');

    byTestId(section.node, 'submarine-filter-failed')!.click();
    await settle();
    const last = (api.listExperiments as jest.Mock).mock.calls.pop()[0];
    expect(last.status).toEqual(['failed']);
    expect(byTestId(section.node, 'submarine-filter-failed')!.getAttribute('aria-pressed')).toBe(
      'true'
    );
    byTestId(section.node, 'submarine-filter-all')!.click();
    await settle();
    expect((api.listExperiments as jest.Mock).mock.calls.pop()[0].status).toEqual([]);
  });

  it('opens a run from the list with the keyboard', async () => {
    const api = fakeApi({
      listExperiments: jest.fn(async () => ({ items: [run()], next: null }))
    });
    make(api);
    await section.list.refresh();
    const item = byTestId(section.node, 'submarine-run-7')!;
    item.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await settle();
    expect(section.view).toBe('run');
    expect(api.getExperiment).toHaveBeenCalledWith(7);
  });

  it('follows a run: status, parameters, log by offset, metric chart', async () => {
    const states = [
      run({ status: 'running' }),
      run({ status: 'succeeded', metrics: { accuracy: 0.97, f1_macro: 0.96 }, exit_code: 0 })
    ];
    const chunks = [bytes('training on wine\n'), bytes('{"accuracy": 0.97}\n')];
    const api = fakeApi({
      getExperiment: jest.fn(async () => states[0]),
      readLog: jest.fn(async () => chunks.shift() ?? new Uint8Array(0)),
      metricHistory: jest.fn(async () => [{ step: 0, value: 0.97 }])
    });
    make(api);
    await section.showRun(7);
    expect(byTestId(section.node, 'submarine-run-status')?.textContent).toBe('running');
    expect(byTestId(section.node, 'submarine-run-params')?.textContent).toContain('wine');
    expect(byTestId(section.node, 'submarine-log')?.textContent).toBe(
      'training on wine\n{"accuracy": 0.97}\n'
    );
    expect(byTestId(section.node, 'submarine-log-state')?.textContent).toBe('following…');
    const offsets = (api.readLog as jest.Mock).mock.calls.map(c => c[2]);
    const end = chunks.length === 0 ? 17 + bytes('{"accuracy": 0.97}\n').length : -1;
    expect(offsets).toEqual([0, 17, end]);

    states.shift();
    await section.detail.refresh();
    expect(byTestId(section.node, 'submarine-run-status')?.textContent).toBe('succeeded');
    expect(byTestId(section.node, 'submarine-metric-accuracy')?.textContent).toBe('accuracy0.97');
    expect(section.node.querySelector('svg.jp-SubmarineChart')).not.toBeNull();
    expect(api.metricHistory).toHaveBeenCalledWith(7, 'accuracy');
    expect(byTestId(section.node, 'submarine-kill')).toBeNull();
    // the next read starts where the log ended
    expect((api.readLog as jest.Mock).mock.calls.pop()[2]).toBe(end);

    byTestId(section.node, 'submarine-metric-f1_macro')!.click();
    await settle();
    expect(api.metricHistory).toHaveBeenLastCalledWith(7, 'f1_macro');
  });

  it("shows a run's tags and its artifacts as download links", async () => {
    const api = fakeApi({
      getExperiment: jest.fn(async () => run({ status: 'succeeded', tags: ['wine', 'baseline'] })),
      listArtifacts: jest.fn(async () => [{ path: 'out/model.joblib', size: 2048 }]),
      settings: { baseUrl: 'http://localhost:8888/user/bob/' }
    } as Partial<Record<keyof SubmarineAPI, unknown>>);
    make(api);
    await section.showRun(7);
    await settle();
    expect(byTestId(section.node, 'submarine-run-facts')?.textContent).toContain(
      'Tagswine, baseline'
    );
    const link = byTestId(section.node, 'submarine-artifact-out/model.joblib') as HTMLAnchorElement;
    expect(link.getAttribute('href')).toBe(
      'http://localhost:8888/user/bob/submarine/api/v1/experiments/7/artifacts?path=out%2Fmodel.joblib'
    );
    expect(link.download).toBe('model.joblib');
    expect(byTestId(section.node, 'submarine-run-artifacts')?.textContent).toContain(
      'out/model.joblib 2.05 kB'
    );
  });

  it('kills, reruns (and watches the rerun), shows refusals', async () => {
    const api = fakeApi({
      killExperiment: jest.fn(async () => {
        throw Object.assign(new Error('Only its owner or an admin kills run 7.'), {
          status: 403
        });
      })
    });
    const { watcher } = make(api);
    await section.showRun(7);
    confirm.mockResolvedValueOnce(false);
    byTestId(section.node, 'submarine-kill')!.click();
    await settle();
    expect(api.killExperiment).not.toHaveBeenCalled();
    byTestId(section.node, 'submarine-kill')!.click();
    await settle();
    await settle();
    expect(confirm).toHaveBeenLastCalledWith(
      'Kill this run?',
      'Run 7 (sklearn-classifier) is stopped and ends as killed; its logs, metrics and artifacts so far are kept.',
      'Kill'
    );
    expect(byTestId(section.node, 'submarine-error')?.textContent).toBe(
      'Only its owner or an admin kills run 7.'
    );
    byTestId(section.node, 'submarine-rerun')!.click();
    await settle();
    expect(api.rerunExperiment).toHaveBeenCalledWith(7);
    expect(watcher.has(8)).toBe(true);
    expect(api.getExperiment).toHaveBeenLastCalledWith(8);
    watcher.dispose();
  });

  it('toggles watching a running run', async () => {
    const { watcher } = make(fakeApi());
    await section.showRun(7);
    const watch = byTestId(section.node, 'submarine-watch')!;
    expect(watch.textContent).toBe('Watch');
    watch.click();
    expect(watcher.has(7)).toBe(true);
    expect(byTestId(section.node, 'submarine-watch')!.getAttribute('aria-pressed')).toBe('true');
    byTestId(section.node, 'submarine-watch')!.click();
    expect(watcher.has(7)).toBe(false);
    watcher.dispose();
  });
});
