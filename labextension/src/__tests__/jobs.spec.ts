jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);

import { makeRequest } from './fakejupyter';

import { Widget } from '@lumino/widgets';

import { type INotebookParameter, SubmarineAPI } from '../api';
import { Config } from '../config';
import {
  checkValue,
  collectValues,
  describeCron,
  fieldErrorsFromMessage,
  gridSize,
  initialText,
  parseGridValues
} from '../jobparams';
import { JobsSection, childrenText, isNotebook } from '../jobs';
import { exploreAllFilter, exploreFilter, renderJobRuns } from '../jobruns';

const P = (name: string, type: string, def: unknown, extra: Partial<INotebookParameter> = {}) =>
  ({
    name,
    type,
    default: def,
    source: JSON.stringify(def),
    help: '',
    nullable: false,
    ...extra
  }) as INotebookParameter;

const PARAMS = [
  P('alpha', 'float', 0.5, { help: 'learning rate' }),
  P('epochs', 'int', 3),
  P('dataset', 'str', 'iris'),
  P('layers', 'list', [64, 32]),
  P('fast', 'bool', false)
];

describe('parameter values', () => {
  it('start from the defaults and are checked against the types', () => {
    expect(PARAMS.map(initialText)).toEqual(['0.5', '3', 'iris', '[64,32]', 'false']);
    expect(initialText(P('n', 'any', null, { source: '2 ** 10' }))).toBe('');
    expect(checkValue(PARAMS[1], '7')).toEqual({ ok: true, value: 7 });
    expect(checkValue(PARAMS[1], 'many')).toEqual({
      ok: false,
      error: 'epochs must be a whole number (int), not "many".'
    });
    expect(checkValue(PARAMS[1], '2.5').ok).toBe(false);
    expect(checkValue(PARAMS[0], '1e-3')).toEqual({ ok: true, value: 0.001 });
    expect(checkValue(PARAMS[0], 'fast').ok).toBe(false);
    expect(checkValue(PARAMS[3], '[1, 2]')).toEqual({ ok: true, value: [1, 2] });
    expect(checkValue(PARAMS[3], '{"a": 1}').ok).toBe(false);
    expect(checkValue(PARAMS[4], true)).toEqual({ ok: true, value: true });
    expect(checkValue(PARAMS[4], 'no')).toEqual({ ok: true, value: false });
    expect(checkValue(P('seed', 'int', null, { nullable: true }), 'None')).toEqual({
      ok: true,
      value: null
    });
    expect(checkValue(P('x', 'any', null), '{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(checkValue(P('x', 'any', null), 'text')).toEqual({ ok: true, value: 'text' });
  });

  it('sends only what differs from the defaults; empty keeps the default', () => {
    const raw = { alpha: '0.5', epochs: '5', dataset: '', layers: '[64,32]', fast: true };
    expect(collectValues(PARAMS, raw)).toEqual({ values: { epochs: 5, fast: true }, errors: {} });
    const bad = collectValues(PARAMS, { epochs: 'ten', alpha: 'x' });
    expect(Object.keys(bad.errors).sort()).toEqual(['alpha', 'epochs']);
  });

  it('reads grids as comma-separated values or JSON lists', () => {
    expect(parseGridValues(PARAMS[0], '0.1, 0.5,0.9')).toEqual({
      ok: true,
      values: [0.1, 0.5, 0.9]
    });
    expect(parseGridValues(PARAMS[2], '["a,b", "c"]')).toEqual({ ok: true, values: ['a,b', 'c'] });
    expect(parseGridValues(PARAMS[3], '[[1], [2, 3]]')).toEqual({
      ok: true,
      values: [[1], [2, 3]]
    });
    expect(parseGridValues(PARAMS[1], '1,,2').ok).toBe(false);
    expect(parseGridValues(PARAMS[1], '1, x')).toEqual({
      ok: false,
      error: 'epochs must be a whole number (int), not "x".'
    });
    expect(gridSize({ a: [1, 2, 3], b: ['x', 'y'] })).toBe(6);
    expect(gridSize({})).toBe(0);
  });

  it("maps the service's 400 message back to the fields", () => {
    const message =
      "Bad notebook parameters: 'alpha' must be a float (a number), not 'fast'; 'epochs' " +
      "must be an int (a whole number), not 2.5; unknown parameter 'lr'. The notebook's " +
      'parameters: alpha (float), epochs (int).';
    expect(fieldErrorsFromMessage(message, ['alpha', 'epochs'])).toEqual({
      alpha: "'alpha' must be a float (a number), not 'fast'.",
      epochs: "'epochs' must be an int (a whole number), not 2.5."
    });
    expect(
      fieldErrorsFromMessage(
        "Bad notebook parameters: set 2: 'alpha' must be a float (a number), not 'x'. The notebook's",
        ['alpha']
      )
    ).toEqual({ alpha: "'alpha' must be a float (a number), not 'x'." });
    expect(fieldErrorsFromMessage('Quota exceeded', ['alpha'])).toEqual({});
  });

  it('describes common cron expressions', () => {
    expect(describeCron('0 6 * * 1-5')).toBe('At 06:00 Monday to Friday');
    expect(describeCron('30 7 * * *')).toBe('At 07:30 every day');
    expect(describeCron('*/15 * * * *')).toBe('Every 15 minutes');
    expect(describeCron('*/30 * * * * *')).toBe('Every 30 seconds');
    expect(describeCron('0 0 1 1 *')).toBe('At 00:00 on day 1 of the month in January');
    expect(describeCron('5 * * * 0,6')).toBe('Every hour at minute 5 on Sunday, Saturday');
    expect(describeCron('0 9-17 * * *')).toBeNull();
    expect(describeCron('not a cron')).toBeNull();
  });

  it('knows notebooks and counts children', () => {
    expect(isNotebook('a/b.ipynb')).toBe(true);
    expect(isNotebook('a/b.py')).toBe(false);
    expect(isNotebook(null)).toBe(false);
    expect(
      childrenText({ children: { total: 3, by_status: { succeeded: 2, running: 1 } } } as any)
    ).toBe('3 runs: 2 succeeded, 1 running');
  });
});

// --- the tab, against a fake session server -------------------------------------------

interface ICall {
  method: string;
  path: string;
  body: any;
}

function reply(status: number, body: unknown): Response {
  const text = body === undefined ? '' : JSON.stringify(body);
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: '',
    text: async () => text
  } as unknown as Response;
}

/** A fake of the service behind `submarine/api/v1/`: routes by method and path. */
function fakeServer() {
  const calls: ICall[] = [];
  const state = {
    jobs: [] as any[],
    schedules: [] as any[],
    nextId: 40,
    reject: null as null | { status: number; message: string }
  };
  makeRequest.mockImplementation(async (url: string, init: RequestInit) => {
    const method = init.method ?? 'GET';
    const path = url.replace('http://localhost:8888/submarine/api/v1/', '');
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, path, body });
    const route = `${method} ${path.split('?')[0]}`;
    if (url.startsWith('http://localhost:8888/submarine/code-archive')) {
      return {
        ok: true,
        status: 200,
        arrayBuffer: async () => new ArrayBuffer(3)
      } as unknown as Response;
    }
    if (route === 'POST uploads') {
      return reply(201, { id: 'f'.repeat(32) });
    }
    if (route === 'GET me') {
      return reply(200, { name: 'alice', admin: false, teams: [{ name: 'data-science' }] });
    }
    if (route === 'GET environments') {
      return reply(200, { items: [{ id: 1, team: null, name: 'base', ref: '_global/base' }] });
    }
    if (route === 'GET notebook-jobs/parameters') {
      return reply(200, {
        notebook: { space: 'user:alice', path: 'train.ipynb', version: 7 },
        parameters: PARAMS,
        has_parameters_cell: true
      });
    }
    if (route === 'GET notebook-jobs') {
      return reply(200, { items: state.jobs });
    }
    if (route === 'POST notebook-jobs') {
      if (state.reject) {
        return reply(state.reject.status, state.reject);
      }
      const id = state.nextId++;
      const run: any = {
        id,
        name: 'train',
        team: 'data-science',
        owner: 'alice',
        kind: 'notebook',
        status: 'pending',
        created_at: new Date().toISOString(),
        parameters: body.parameters ?? {},
        output: {
          space: 'team:data-science',
          path: `jobs/train/${id}.ipynb`,
          lab_path: `teams/data-science/jobs/train/${id}.ipynb`
        }
      };
      if (body.grid) {
        run.children = [
          {
            id: id + 1,
            name: 'train-1',
            status: 'pending',
            parameters: { alpha: 0.1, dataset: 'iris' },
            metrics: { acc: 0.5 }
          }
        ];
      }
      state.jobs = [run, ...state.jobs];
      return reply(201, run);
    }
    if (route.startsWith('GET notebook-jobs/')) {
      const id = Number(path.split('/')[1]);
      const job = state.jobs.find(j => j.id === id);
      return job ? reply(200, job) : reply(404, { status: 404, message: 'no such run' });
    }
    if (route === 'GET notebook-schedules') {
      return reply(200, { items: state.schedules });
    }
    if (route === 'POST notebook-schedules') {
      const s = {
        id: state.schedules.length + 1,
        name: 'train',
        team: 'data-science',
        owner: 'alice',
        notebook: 'user:alice/train.ipynb',
        cron: body.cron,
        timezone: body.timezone,
        paused: false,
        next_run_at: '2030-01-01T06:00:00+00:00',
        job: body.job
      };
      state.schedules.push(s, { ...s, id: 99, notebook: 'user:alice/other.ipynb' });
      return reply(201, s);
    }
    if (method === 'PATCH' && path.startsWith('notebook-schedules/')) {
      const s = state.schedules.find(x => x.id === Number(path.split('/')[1]));
      s.paused = body.paused;
      return reply(200, s);
    }
    if (method === 'DELETE' && path.startsWith('notebook-schedules/')) {
      state.schedules = state.schedules.filter(x => x.id !== Number(path.split('/')[1]));
      return reply(204, undefined);
    }
    return reply(404, { status: 404, message: `no route ${route}` });
  });
  return { calls, state };
}

const byTestId = (node: HTMLElement, id: string) =>
  node.querySelector(`[data-testid="${id}"]`) as HTMLInputElement & HTMLSelectElement;

const flush = async () => {
  for (let i = 0; i < 10; i++) {
    await new Promise(r => setTimeout(r, 0));
  }
};

describe('JobsSection', () => {
  let section: JobsSection;
  const opened: string[] = [];
  const shown: number[] = [];
  const saved: string[] = [];

  async function open(path = 'train.ipynb', schedules: any[] = []) {
    const server = fakeServer();
    server.state.schedules = schedules;
    section = new JobsSection({
      api: new SubmarineAPI(),
      config: new Config({ refreshInterval: 600 }),
      currentPath: () => path,
      saveIfDirty: async p => {
        saved.push(p);
      },
      openFile: async p => opened.push(p),
      showRun: id => shown.push(id),
      confirm: async () => true
    });
    Widget.attach(section, document.body);
    await section.setNotebook(path);
    await flush();
    return server;
  }

  afterEach(() => {
    section?.dispose();
    document.body.innerHTML = '';
    makeRequest.mockReset();
    opened.length = shown.length = saved.length = 0;
  });

  it("shows the notebook's parameters as typed inputs with their defaults", async () => {
    await open();
    expect(byTestId(section.node, 'submarine-jobs-path').textContent).toBe('train.ipynb');
    expect(byTestId(section.node, 'submarine-job-param-alpha').value).toBe('0.5');
    expect(byTestId(section.node, 'submarine-job-param-layers').value).toBe('[64,32]');
    const fast = byTestId(section.node, 'submarine-job-param-fast');
    expect([fast.type, fast.checked]).toEqual(['checkbox', false]);
    const alpha = byTestId(section.node, 'submarine-job-param-alpha');
    expect(section.node.querySelector(`label[for="${alpha.id}"]`)?.textContent).toBe('alpha float');
    expect(section.node.textContent).toContain('learning rate');
    expect(byTestId(section.node, 'submarine-job-team').value).toBe('data-science');
    expect(
      Array.from(byTestId(section.node, 'submarine-job-environment').options).map(o => o.value)
    ).toEqual(['', 'base']);
  });

  it('keeps what was typed when another notebook is shown and this one comes back', async () => {
    await open();
    const epochs = byTestId(section.node, 'submarine-job-param-epochs');
    epochs.value = '9';
    epochs.dispatchEvent(new Event('input'));
    const fast = byTestId(section.node, 'submarine-job-param-fast');
    fast.checked = true;
    fast.dispatchEvent(new Event('change'));
    await section.setNotebook('other.ipynb');
    await flush();
    await section.setNotebook('train.ipynb');
    await flush();
    expect(byTestId(section.node, 'submarine-job-param-epochs').value).toBe('9');
    expect(byTestId(section.node, 'submarine-job-param-fast').checked).toBe(true);
    expect(byTestId(section.node, 'submarine-job-param-alpha').value).toBe('0.5');
  });

  it('runs now with the changed values, by path, after saving the notebook', async () => {
    const { calls, state } = await open();
    byTestId(section.node, 'submarine-job-param-epochs').value = '9';
    byTestId(section.node, 'submarine-job-environment').value = 'base';
    const run = await section.runNow();
    expect(run?.id).toBe(40);
    expect(saved).toEqual(['train.ipynb']);
    const post = calls.find(c => c.method === 'POST' && c.path === 'notebook-jobs')!;
    expect(post.body).toEqual({
      notebook: 'train.ipynb',
      parameters: { epochs: 9 },
      team: 'data-science',
      environment: { profile: 'base' }
    });
    await flush();
    expect(byTestId(section.node, 'submarine-job-submitted').textContent).toContain(
      'Submitted run #40'
    );
    // the run is listed; its links open the executed notebook and the run page
    expect(byTestId(section.node, 'submarine-job-status-40').dataset.status).toBe('pending');
    expect(byTestId(section.node, 'submarine-job-open-40')).toBeNull(); // not yet ended
    state.jobs[0].status = 'succeeded';
    await (section as any)._tick();
    byTestId(section.node, 'submarine-job-open-40').click();
    byTestId(section.node, 'submarine-job-show-40').click();
    await flush();
    expect(opened).toEqual(['teams/data-science/jobs/train/40.ipynb']);
    expect(shown).toEqual([40]);
  });

  it("sends the notebook's folder with it when asked", async () => {
    const { calls } = await open('proj/train.ipynb');
    const box = byTestId(section.node, 'submarine-job-with-files');
    expect([box.type, box.checked]).toEqual(['checkbox', false]);
    box.checked = true;
    await section.runNow();
    const archive = calls.find(c => c.path.includes('code-archive'))!;
    expect(archive.path).toBe('http://localhost:8888/submarine/code-archive?path=proj');
    const post = calls.find(c => c.method === 'POST' && c.path === 'notebook-jobs')!;
    expect(post.body).toMatchObject({ notebook: 'proj/train.ipynb', files: 'f'.repeat(32) });
  });

  it('refuses a bad value next to its field and sends nothing', async () => {
    const { calls } = await open();
    byTestId(section.node, 'submarine-job-param-epochs').value = 'ten';
    expect(await section.runNow()).toBeNull();
    const error = byTestId(section.node, 'submarine-job-field-error-param-epochs');
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe('epochs must be a whole number (int), not "ten".');
    expect(byTestId(section.node, 'submarine-job-param-epochs').getAttribute('aria-invalid')).toBe(
      'true'
    );
    expect(calls.some(c => c.method === 'POST')).toBe(false);
  });

  it("shows the service's refusal by field and as a message", async () => {
    const { state } = await open();
    state.reject = {
      status: 400,
      message:
        "Bad notebook parameters: 'dataset' must be a str (text), not 1. The notebook's parameters: dataset (str)."
    };
    byTestId(section.node, 'submarine-job-param-dataset').value = 'wine';
    expect(await section.runNow()).toBeNull();
    expect(byTestId(section.node, 'submarine-job-field-error-param-dataset').textContent).toBe(
      "'dataset' must be a str (text), not 1."
    );
    expect(byTestId(section.node, 'submarine-jobs-error').textContent).toContain(
      'Bad notebook parameters'
    );
  });

  it('creates, lists, pauses and deletes a schedule of this notebook only', async () => {
    const { calls } = await open();
    const cron = byTestId(section.node, 'submarine-job-cron');
    cron.value = '0 6 * * 1-5';
    cron.dispatchEvent(new Event('input'));
    expect(byTestId(section.node, 'submarine-job-cron-preview').textContent).toBe(
      'At 06:00 Monday to Friday'
    );
    byTestId(section.node, 'submarine-job-timezone').value = 'Europe/Paris';
    byTestId(section.node, 'submarine-job-param-alpha').value = '0.1';
    const s = await section.schedule();
    expect(s?.id).toBe(1);
    const post = calls.find(c => c.method === 'POST' && c.path === 'notebook-schedules')!;
    expect(post.body).toEqual({
      cron: '0 6 * * 1-5',
      timezone: 'Europe/Paris',
      job: { notebook: 'train.ipynb', parameters: { alpha: 0.1 }, team: 'data-science' }
    });
    await flush();
    expect(section.schedules.map(x => x.id)).toEqual([1]); // not other.ipynb's
    byTestId(section.node, 'submarine-job-schedule-pause-1').click();
    await flush();
    expect(calls.some(c => c.method === 'PATCH' && c.body.paused === true)).toBe(true);
    expect(byTestId(section.node, 'submarine-job-schedule-state-1').textContent).toBe('paused');
    expect(byTestId(section.node, 'submarine-job-schedule-pause-1').textContent).toBe('Resume');
    byTestId(section.node, 'submarine-job-schedule-delete-1').click();
    await flush();
    expect(calls.some(c => c.method === 'DELETE' && c.path === 'notebook-schedules/1')).toBe(true);
    expect(byTestId(section.node, 'submarine-job-no-schedules')).not.toBeNull();
  });

  it("lists a shared notebook's schedules from its owner's space", async () => {
    const path = 'shared/users/bob/train.ipynb';
    const schedule = (id: number, notebook: string) => ({
      id,
      name: 'train',
      team: 'data-science',
      owner: 'bob',
      notebook,
      cron: '0 6 * * *',
      timezone: 'UTC',
      paused: false,
      next_run_at: null,
      job: {}
    });
    const { calls } = await open(path, [
      schedule(5, 'user:bob/train.ipynb'),
      schedule(6, 'user:alice/shared/users/bob/train.ipynb'),
      schedule(7, 'user:alice/train.ipynb')
    ]);
    expect(section.schedules.map(x => x.id)).toEqual([5]);
    // the notebook is named by its path: the service finds its space by the same rule
    expect(calls.map(c => c.path)).toContain(
      `notebook-jobs/parameters?notebook=${encodeURIComponent(path)}`
    );
  });

  it('needs a cron expression to schedule', async () => {
    const { calls } = await open();
    expect(await section.schedule()).toBeNull();
    expect(byTestId(section.node, 'submarine-jobs-error').textContent).toContain('cron expression');
    expect(calls.some(c => c.method === 'POST')).toBe(false);
  });

  it('runs a grid as one fan-out and shows its summary', async () => {
    const { calls } = await open();
    const alpha = byTestId(section.node, 'submarine-job-grid-alpha');
    alpha.value = '0.1, 0.9';
    alpha.dispatchEvent(new Event('input'));
    byTestId(section.node, 'submarine-job-grid-dataset').value = 'iris,wine';
    byTestId(section.node, 'submarine-job-grid-dataset').dispatchEvent(new Event('input'));
    expect(byTestId(section.node, 'submarine-job-grid-count').textContent).toBe('4 runs');
    byTestId(section.node, 'submarine-job-param-alpha').value = '0.3'; // the grid's value wins
    byTestId(section.node, 'submarine-job-param-epochs').value = '2';
    const run = await section.runGrid();
    expect(run?.id).toBe(40);
    const post = calls.find(c => c.method === 'POST' && c.path === 'notebook-jobs')!;
    expect(post.body.grid).toEqual({ alpha: [0.1, 0.9], dataset: ['iris', 'wine'] });
    expect(post.body.parameters).toEqual({ epochs: 2 });
    await flush();
    expect(byTestId(section.node, 'submarine-job-grid-children').textContent).toBe(
      '1 run: 1 pending'
    );
    // each child with its parameters
    const child = byTestId(section.node, 'submarine-job-grid-child-41');
    expect(Array.from(child.querySelectorAll('td')).map(td => td.textContent)).toEqual([
      '#41',
      'alpha=0.1, dataset=iris',
      'pending',
      'acc=0.5'
    ]);
  });

  it('refuses a bad grid value and sends nothing', async () => {
    const { calls } = await open();
    byTestId(section.node, 'submarine-job-grid-epochs').value = '1, x';
    expect(await section.runGrid()).toBeNull();
    expect(byTestId(section.node, 'submarine-job-field-error-grid-epochs').textContent).toBe(
      'epochs must be a whole number (int), not "x".'
    );
    expect(calls.some(c => c.method === 'POST')).toBe(false);
  });

  it('follows notebooks only, and shows an actionable error for an unsaved one', async () => {
    await open();
    section.follow('data.csv');
    expect(section.path).toBe('train.ipynb');
    makeRequest.mockImplementation(async (url: string) =>
      url.includes('parameters')
        ? reply(404, {
            status: 404,
            message: 'No version of new.ipynb. Save the notebook in a Submarine Hub session.'
          })
        : reply(200, url.includes('/me') ? { name: 'alice', teams: [] } : { items: [] })
    );
    await section.setNotebook('new.ipynb');
    await flush();
    expect(byTestId(section.node, 'submarine-jobs-params-error').textContent).toContain(
      'Save the notebook'
    );
    expect(byTestId(section.node, 'submarine-job-run')).toBeNull();
  });
});

describe('job runs in the run explorer', () => {
  const job = (id: number, extra: Record<string, unknown> = {}) =>
    ({
      id,
      name: `job-${id}`,
      team: 't',
      owner: 'alice',
      status: 'succeeded',
      created_at: '2026-12-01T00:00:00Z',
      parameters: {},
      ...extra
    }) as any;

  it("filters a fan-out's children, a single run, or all of them", () => {
    expect(exploreFilter(job(7, { children: { total: 3, by_status: {} } }))).toBe(
      'attributes.parent_id = 7'
    );
    expect(exploreFilter(job(8))).toBe('attributes.run_id = 8');
    expect(exploreAllFilter([job(7), job(8)])).toBe("attributes.run_id IN ('7', '8')");
  });

  it('offers Explore per run and for the list when the explorer is there', () => {
    const list = document.createElement('ul');
    const asked: string[] = [];
    const actions = { open: () => undefined, summary: () => undefined, showRun: () => undefined };
    renderJobRuns(list, [job(7, { children: { total: 2, by_status: {} } }), job(8)], {
      ...actions,
      explore: f => asked.push(f)
    });
    (list.querySelector('[data-testid="submarine-job-explore-7"]') as HTMLElement).click();
    (list.querySelector('[data-testid="submarine-job-explore-all"]') as HTMLElement).click();
    expect(asked).toEqual(['attributes.parent_id = 7', "attributes.run_id IN ('7', '8')"]);
    const bare = document.createElement('ul');
    renderJobRuns(bare, [job(8)], actions);
    expect(bare.querySelector('[data-testid^="submarine-job-explore"]')).toBeNull();
  });
});
