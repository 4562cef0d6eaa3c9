jest.mock('@jupyterlab/services', () => ({
  ServerConnection: { makeSettings: () => ({ baseUrl: 'http://localhost:8888/' }) }
}));
jest.mock('@jupyterlab/coreutils', () => ({ URLExt: { join: (...p: string[]) => p.join('/') } }));

import { Widget } from '@lumino/widgets';

import type { IVersion, SubmarineAPI } from '../api';
import { EnvironmentsSection, resourcesText } from '../environments';
import { HistorySection } from '../history';

const byTestId = (node: HTMLElement, id: string) =>
  node.querySelector(`[data-testid="${id}"]`) as HTMLElement & HTMLSelectElement & HTMLInputElement;

const version = (number: number, over: Partial<IVersion> = {}): IVersion => ({
  space: 'user:alice',
  path: 'nb.ipynb',
  number,
  action: 'save',
  author: 'alice',
  size: 1000,
  format: 'notebook',
  created_at: new Date().toISOString(),
  ...over
});

const nb = (source: string) => ({
  cells: [{ cell_type: 'code', source, metadata: {}, outputs: [] }]
});

function fakeApi(over: Record<string, unknown> = {}): SubmarineAPI {
  let items = [version(3), version(2), version(1)];
  return {
    me: jest.fn(async () => ({ name: 'alice', admin: false, teams: [] })),
    listVersions: jest.fn(async () => items),
    diff: jest.fn(async () => ({
      a: version(2),
      b: version(3),
      summary: { added: 0, removed: 0, modified: 1, unchanged: 0 },
      text: '',
      diff: [
        {
          op: 'patch',
          key: 'cells',
          diff: [{ op: 'patch', key: 0, diff: [{ op: 'patch', key: 'source', diff: [] }] }]
        }
      ]
    })),
    fileContent: jest.fn(async (_s: string, _p: string, v: number) => ({
      ...version(v),
      content: nb(`value = ${v}`)
    })),
    restore: jest.fn(async () => {
      items = [version(4, { action: 'restore' }), ...items];
      return items[0];
    }),
    listEnvironments: jest.fn(async () => []),
    ...over
  } as unknown as SubmarineAPI;
}

describe('HistorySection', () => {
  let history: HistorySection;
  afterEach(() => {
    history?.dispose();
    document.body.innerHTML = '';
  });

  function make(api: SubmarineAPI, over: Partial<HistorySection.IOptions> = {}) {
    const options: HistorySection.IOptions = {
      api,
      currentPath: () => null,
      restoreInSession: jest.fn(async () => undefined),
      reloadOpen: jest.fn(async () => undefined),
      confirm: jest.fn(async () => true),
      ...over
    };
    history = new HistorySection(options);
    Widget.attach(history, document.body);
    return options;
  }

  it('asks for a file first', () => {
    make(fakeApi());
    expect(byTestId(history.node, 'submarine-history-empty')).not.toBeNull();
  });

  it("lists a file's versions, newest first, each restorable but the newest", async () => {
    const api = fakeApi();
    make(api);
    await history.setFile('nb.ipynb');
    expect(api.listVersions).toHaveBeenCalledWith('user:alice', 'nb.ipynb');
    expect(byTestId(history.node, 'submarine-history-path').textContent).toBe('nb.ipynb');
    const rows = Array.from(history.node.querySelectorAll('.jp-SubmarineHistory-version'));
    expect(rows.map(r => r.getAttribute('data-testid'))).toEqual([
      'submarine-version-3',
      'submarine-version-2',
      'submarine-version-1'
    ]);
    expect(byTestId(history.node, 'submarine-restore-3')).toBeNull();
    expect(byTestId(history.node, 'submarine-restore-2')).not.toBeNull();
    expect(byTestId(history.node, 'submarine-diff-a').value).toBe('2');
    expect(byTestId(history.node, 'submarine-diff-b').value).toBe('3');
  });

  it('draws the diff of two versions', async () => {
    const api = fakeApi();
    make(api);
    await history.setFile('nb.ipynb');
    byTestId(history.node, 'submarine-diff-a').value = '1';
    byTestId(history.node, 'submarine-diff-ignore-outputs').checked = true;
    await history.showDiff(1, 3);
    expect(api.diff).toHaveBeenCalledWith('user:alice', 'nb.ipynb', 1, 3, {
      ignoreOutputs: true
    });
    expect(byTestId(history.node, 'submarine-diff-summary').textContent).toBe(
      '0 added, 0 removed, 1 modified, 0 unchanged cells'
    );
    const lines = Array.from(history.node.querySelectorAll('.jp-SubmarineDiff-line')).map(
      l => l.textContent
    );
    expect(lines).toEqual(['- value = 1\n', '+ value = 3\n']);
  });

  it('restores a session file through the session, after asking', async () => {
    const api = fakeApi();
    const options = make(api);
    await history.setFile('nb.ipynb');
    byTestId(history.node, 'submarine-restore-2').click();
    await new Promise(resolve => setTimeout(resolve, 0));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(options.confirm).toHaveBeenCalled();
    expect(options.restoreInSession).toHaveBeenCalledWith('nb.ipynb', 2);
    expect(api.restore).not.toHaveBeenCalled();
  });

  it('restores a team file through the platform and reloads open copies', async () => {
    const api = fakeApi();
    const options = make(api);
    await history.setFile('teams/data-science/report.ipynb');
    expect(api.listVersions).toHaveBeenCalledWith('team:data-science', 'report.ipynb');
    await history.restore(2);
    expect(api.restore).toHaveBeenCalledWith(
      'team:data-science',
      'report.ipynb',
      2,
      'Restored version 2 from JupyterLab'
    );
    expect(options.reloadOpen).toHaveBeenCalledWith('teams/data-science/report.ipynb');
    expect(byTestId(history.node, 'submarine-restored').textContent).toBe(
      'Restored version 2 as version 4.'
    );
  });

  it("reads, diffs and restores a file shared with you in its owner's space", async () => {
    const api = fakeApi();
    const options = make(api);
    const path = 'shared/users/bob/report.ipynb';
    await history.setFile(path);
    expect(api.listVersions).toHaveBeenCalledWith('user:bob', 'report.ipynb');
    await history.showDiff(1, 3);
    expect(api.diff).toHaveBeenCalledWith('user:bob', 'report.ipynb', 1, 3, {
      ignoreOutputs: false
    });
    expect(api.fileContent).toHaveBeenCalledWith('user:bob', 'report.ipynb', 1);
    await history.restore(2);
    expect(api.restore).toHaveBeenCalledWith(
      'user:bob',
      'report.ipynb',
      2,
      'Restored version 2 from JupyterLab'
    );
    expect(options.restoreInSession).not.toHaveBeenCalled();
    expect(options.reloadOpen).toHaveBeenCalledWith(path);
  });

  it('does nothing when the restore is not confirmed', async () => {
    const api = fakeApi();
    const options = make(api, { confirm: jest.fn(async () => false) });
    await history.setFile('nb.ipynb');
    await history.restore(1);
    expect(options.restoreInSession).not.toHaveBeenCalled();
  });

  it('says when a file has no versions, and shows other errors', async () => {
    const notFound = Object.assign(new Error('No file x.ipynb.'), { status: 404 });
    make(fakeApi({ listVersions: jest.fn(async () => Promise.reject(notFound)) }));
    await history.setFile('x.ipynb');
    expect(byTestId(history.node, 'submarine-no-versions')).not.toBeNull();
    history.dispose();
    const refused = Object.assign(new Error("You are not a member of team 'x'."), {
      status: 403
    });
    make(fakeApi({ listVersions: jest.fn(async () => Promise.reject(refused)) }));
    await history.setFile('teams/x/y.ipynb');
    expect(byTestId(history.node, 'submarine-error').textContent).toBe(
      "You are not a member of team 'x'."
    );
  });

  it('follows the document in the main area when shown', async () => {
    const api = fakeApi();
    make(api, { currentPath: () => 'open.ipynb' });
    history.hide();
    history.show();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(history.path).toBe('open.ipynb');
  });
});

describe('EnvironmentsSection', () => {
  it('lists profiles and opens the submit form with one', async () => {
    const env = {
      id: 1,
      scope: 'data-science',
      team: 'data-science',
      name: 'pandas',
      ref: 'data-science/pandas',
      owner: 'alice',
      description: 'pandas and pyarrow',
      packages: ['pandas>=2.2', 'pyarrow'],
      resources: { cpu: 2, memory: '4G' },
      build: { state: 'ready' }
    };
    const useForRun = jest.fn();
    const section = new EnvironmentsSection({
      api: fakeApi({ listEnvironments: jest.fn(async () => [env]) }),
      useForRun
    });
    Widget.attach(section, document.body);
    await section.refresh();
    const item = byTestId(section.node, 'submarine-environment-data-science/pandas');
    expect(item.textContent).toContain('pandas and pyarrow');
    expect(item.textContent).toContain('2 CPU · 4G');
    expect(item.textContent).toContain('pandas>=2.2, pyarrow');
    byTestId(section.node, 'submarine-use-environment-data-science/pandas').click();
    expect(useForRun).toHaveBeenCalledWith(env);
    section.dispose();
  });

  it('words resources', () => {
    expect(resourcesText({ cpu: 0.5, memory: '512M', gpus: 2 })).toBe('0.5 CPU · 512M · 2 GPUs');
    expect(resourcesText(undefined)).toBe('');
  });
});
