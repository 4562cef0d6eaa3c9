jest.mock('@jupyterlab/services', () => ({
  ServerConnection: { makeSettings: () => ({ baseUrl: 'http://localhost:8888/' }) }
}));
jest.mock('@jupyterlab/coreutils', () => ({ URLExt: { join: (...p: string[]) => p.join('/') } }));

import { Widget } from '@lumino/widgets';

import type { IEnvironment, ITemplate, SubmarineAPI } from '../api';
import { SubmitForm, boundsText, kindOfPath, parseTags, templateRef } from '../submit';
import { teamOf } from '../spaces';

const byTestId = (node: HTMLElement, id: string) =>
  node.querySelector(`[data-testid="${id}"]`) as HTMLInputElement & HTMLSelectElement;

const SKLEARN: ITemplate = {
  name: 'sklearn-classifier',
  team: null,
  ref: 'sklearn-classifier',
  description: 'Train a scikit-learn classifier.',
  builtin: true,
  spec: {},
  parameters_schema: {
    type: 'object',
    properties: {
      dataset: { type: 'string', default: 'iris', enum: ['iris', 'wine'] },
      n_estimators: { type: 'integer', default: 100, minimum: 1, maximum: 2000 },
      fast: { type: 'boolean', default: false }
    },
    required: []
  }
};
const TEAM_TEMPLATE: ITemplate = {
  name: 'echo',
  team: 'ml-platform',
  ref: 'ml-platform/echo',
  spec: {},
  parameters_schema: {
    type: 'object',
    properties: { times: { type: 'integer', minimum: 1, maximum: 3 } },
    required: ['times']
  }
};
const ENVS = [
  { id: 1, scope: '_global', team: null, name: 'base', ref: '_global/base' },
  {
    id: 2,
    scope: 'data-science',
    team: 'data-science',
    name: 'pandas',
    ref: 'data-science/pandas'
  },
  { id: 3, scope: 'ml-platform', team: 'ml-platform', name: 'torch', ref: 'ml-platform/torch' }
] as unknown as IEnvironment[];

function fakeApi(over: Record<string, unknown> = {}): SubmarineAPI {
  return {
    me: jest.fn(async () => ({
      name: 'bob',
      admin: false,
      teams: [{ name: 'data-science' }, { name: 'ml-platform' }]
    })),
    listTemplates: jest.fn(async () => [SKLEARN, TEAM_TEMPLATE]),
    listEnvironments: jest.fn(async () => ENVS),
    runTemplate: jest.fn(async () => ({ id: 11, name: 'x', status: 'pending' })),
    submitExperiment: jest.fn(async () => ({ id: 12, name: 'x', status: 'pending' })),
    uploadFolder: jest.fn(async () => 'a'.repeat(32)),
    ...over
  } as unknown as SubmarineAPI;
}

describe('helpers', () => {
  it('knows kinds, teams, refs and tags', () => {
    expect(kindOfPath('a/b.ipynb')).toBe('notebook');
    expect(kindOfPath('train.py')).toBe('script');
    expect(kindOfPath('data.csv')).toBeNull();
    expect(teamOf('teams/ml-platform/x.py')).toBe('ml-platform');
    expect(teamOf('x.py')).toBeNull();
    expect(templateRef(SKLEARN)).toBe('sklearn-classifier');
    expect(templateRef({ name: 'echo', team: 'ds', spec: {} })).toBe('ds/echo');
    expect(parseTags('a, b  c,,a')).toEqual(['a', 'b', 'c']);
    expect(boundsText({ minimum: 1, maximum: 2000 })).toBe('(1 – 2000)');
    expect(boundsText({ minimum: 0 })).toBe('(at least 0)');
    expect(boundsText({ maximum: 5 })).toBe('(at most 5)');
    expect(boundsText({})).toBe('');
  });
});

describe('SubmitForm', () => {
  let form: SubmitForm;
  const submitted = jest.fn();
  const cancel = jest.fn();
  afterEach(() => {
    form?.dispose();
    submitted.mockReset();
    document.body.innerHTML = '';
  });

  async function open(api: SubmarineAPI, prefill = {}) {
    form = new SubmitForm({ api, submitted, cancel });
    Widget.attach(form, document.body);
    await form.open(prefill);
    return form;
  }

  it("defaults to the session's team and environment for a user of two teams", async () => {
    const session = jest.fn(async () => ({
      team: 'ml-platform',
      environment: 'ml-platform/torch'
    }));
    await open(fakeApi({ session }));
    expect(byTestId(form.node, 'submarine-run-team').value).toBe('ml-platform');
    expect(byTestId(form.node, 'submarine-environment').value).toBe('ml-platform/torch');
    // a file in another team's folder still goes to that team, in the hub's environment
    form.dispose();
    await open(fakeApi({ session }), { path: 'teams/data-science/train.py' });
    expect(byTestId(form.node, 'submarine-run-team').value).toBe('data-science');
    expect(byTestId(form.node, 'submarine-environment').value).toBe('');
  });

  it("generates the template's parameter inputs from its JSON Schema", async () => {
    await open(fakeApi());
    expect(byTestId(form.node, 'submarine-template').value).toBe('sklearn-classifier');
    const dataset = byTestId(form.node, 'submarine-param-dataset');
    expect(dataset.tagName).toBe('SELECT');
    expect(Array.from(dataset.options).map(o => o.value)).toEqual(['iris', 'wine']);
    const n = byTestId(form.node, 'submarine-param-n_estimators');
    expect([n.type, n.value, n.min, n.max]).toEqual(['number', '100', '1', '2000']);
    expect(byTestId(form.node, 'submarine-param-fast').type).toBe('checkbox');
    // every input has a label
    const label = form.node.querySelector(`label[for="${n.id}"]`);
    expect(label?.textContent).toBe('n estimators');
  });

  it('submits a template run with the parameters, name, team, environment and tags', async () => {
    const api = fakeApi();
    await open(api);
    byTestId(form.node, 'submarine-param-dataset').value = 'wine';
    byTestId(form.node, 'submarine-param-n_estimators').value = '20';
    byTestId(form.node, 'submarine-environment').value = 'data-science/pandas';
    byTestId(form.node, 'submarine-run-tags').value = 'baseline, wine';
    byTestId(form.node, 'submarine-submit').click();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(api.runTemplate).toHaveBeenCalledWith('sklearn-classifier', {
      parameters: { dataset: 'wine', n_estimators: 20, fast: false },
      meta: { name: 'sklearn-classifier', team: 'data-science', tags: ['baseline', 'wine'] },
      environment: { profile: 'data-science/pandas' }
    });
    expect(submitted).toHaveBeenCalledWith(expect.objectContaining({ id: 11 }));
  });

  it('offers the global profiles and those of the chosen team', async () => {
    await open(fakeApi());
    const options = () =>
      Array.from(byTestId(form.node, 'submarine-environment').options).map(o => o.value);
    expect(options()).toEqual(['', 'base', 'data-science/pandas']);
    const team = byTestId(form.node, 'submarine-run-team');
    team.value = 'ml-platform';
    team.dispatchEvent(new Event('change'));
    expect(options()).toEqual(['', 'base', 'ml-platform/torch']);
  });

  it('marks bad inputs and does not submit', async () => {
    const api = fakeApi();
    await open(api, { template: 'ml-platform/echo' });
    // a team's template runs in its team
    expect(byTestId(form.node, 'submarine-run-team').value).toBe('ml-platform');
    expect(await form.submit()).toBeNull();
    const times = byTestId(form.node, 'submarine-param-times');
    expect(times.getAttribute('aria-invalid')).toBe('true');
    expect(byTestId(form.node, 'submarine-field-error-param-times').textContent).toBe(
      'times is required.'
    );
    expect(document.activeElement).toBe(times);
    expect(byTestId(form.node, 'submarine-submit-error').textContent).toBe(
      'Fix the field marked above, then submit again.'
    );
    // changing the input takes its mark away
    times.value = '9';
    times.dispatchEvent(new Event('input'));
    expect(times.hasAttribute('aria-invalid')).toBe(false);
    expect(byTestId(form.node, 'submarine-submit-error')).toBeNull();
    await form.submit();
    expect(byTestId(form.node, 'submarine-field-error-param-times').textContent).toBe(
      'times must be at most 3.'
    );
    expect(api.runTemplate).not.toHaveBeenCalled();
  });

  it("shows the service's refusal as its message", async () => {
    const api = fakeApi({
      runTemplate: jest.fn(async () => {
        throw Object.assign(
          new Error('Team data-science runs 2 experiments, its limit (max_running_experiments).'),
          { status: 403 }
        );
      })
    });
    await open(api);
    await form.submit();
    const error = byTestId(form.node, 'submarine-submit-error');
    expect(error.textContent).toBe(
      'Team data-science runs 2 experiments, its limit (max_running_experiments).'
    );
    expect(error.getAttribute('role')).toBe('alert');
    expect(byTestId(form.node, 'submarine-submit').disabled).toBe(false);
  });

  it('submits a script of the session with its folder as code', async () => {
    const api = fakeApi();
    await open(api, { path: 'teams/ml-platform/project/train.py' });
    expect(form.kind).toBe('script');
    expect(byTestId(form.node, 'submarine-code-folder').value).toBe('teams/ml-platform/project');
    expect(byTestId(form.node, 'submarine-run-team').value).toBe('ml-platform');
    byTestId(form.node, 'submarine-script-args').value = '--epochs 3 --name "a b"';
    await form.submit();
    expect(api.uploadFolder).toHaveBeenCalledWith('teams/ml-platform/project');
    expect(api.submitExperiment).toHaveBeenCalledWith({
      meta: { name: 'train', team: 'ml-platform' },
      task: { script: 'train.py', args: ['--epochs', '3', '--name', 'a b'] },
      code: { upload: 'a'.repeat(32) }
    });
  });

  it('submits a notebook with its parameters', async () => {
    const api = fakeApi();
    await open(api, { path: 'analysis.ipynb' });
    expect(form.kind).toBe('notebook');
    byTestId(form.node, 'submarine-notebook-params').value = 'alpha=0.5\nname=iris';
    byTestId(form.node, 'submarine-run-name').value = 'nightly';
    await form.submit();
    expect(api.uploadFolder).toHaveBeenCalledWith('');
    expect(api.submitExperiment).toHaveBeenCalledWith({
      meta: { name: 'nightly', team: 'data-science' },
      task: { notebook: 'analysis.ipynb', parameters: { alpha: 0.5, name: 'iris' } },
      code: { upload: 'a'.repeat(32) }
    });
  });

  it('refuses a file outside its code folder', async () => {
    const api = fakeApi();
    await open(api, { path: 'a/train.py' });
    byTestId(form.node, 'submarine-code-folder').value = 'b';
    await form.submit();
    expect(byTestId(form.node, 'submarine-field-error-path').textContent).toBe(
      'a/train.py is not inside the code folder b/.'
    );
    expect(api.uploadFolder).not.toHaveBeenCalled();
  });

  it('says so when the form cannot load', async () => {
    await open(
      fakeApi({
        listTemplates: jest.fn(async () => {
          throw new TypeError('Failed to fetch');
        })
      })
    );
    expect(byTestId(form.node, 'submarine-error').textContent).toContain(
      'Could not reach the Submarine service'
    );
  });
});
