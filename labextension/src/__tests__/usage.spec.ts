/**
 * The Usage tab: each team's quota meters, free GPUs, month and budget with its
 * warning, from the real SubmarineAPI on a fake fetch.
 */
jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);

import { makeRequest } from './fakejupyter';

import { Widget } from '@lumino/widgets';

import { SubmarineAPI, type ITeamUsage } from '../api';
import { UsageSection, budgetText } from '../usage';

const API = 'http://localhost:8888/submarine/api/v1/';

const TEAM: ITeamUsage = {
  team: 'ml',
  quota: { max_sessions: 4, max_gpus_total: 2, max_memory_total: 8e9 },
  usage: { sessions: 1, cpu: 2, memory: 2e9, gpus: 1, running_experiments: 0 },
  month: {
    seconds: 3600,
    cpu_hours: 2,
    memory_gb_hours: 1,
    gpu_hours: 0.5,
    session_hours: 1,
    cost: 4.25,
    currency: 'USD'
  },
  budget: {
    team: 'ml',
    name: '',
    amount: 5,
    unit: 'money',
    currency: 'USD',
    period: 'month',
    starts_at: '2026-12-01T00:00:00+00:00',
    ends_at: '2027-01-01T00:00:00+00:00',
    warn_at: 0.8,
    policy: 'queue',
    spent: 4.25,
    fraction: 0.85,
    state: 'warning',
    message: "Team 'ml' has used 4.25 USD of its monthly budget of 5.00 USD (85%)."
  },
  free_gpus: 1,
  disk: { history: 2.5e9, models: 0, homes: 1.2e9 }
};

function serve(items: ITeamUsage[], status = 200): void {
  makeRequest.mockReset();
  makeRequest.mockImplementation(async (url: string) => {
    const known = url === `${API}usage/teams`;
    const code = known ? status : 404;
    const body = code === 200 ? { items } : { message: known ? 'down' : 'no route' };
    return {
      ok: code < 300,
      status: code,
      statusText: '',
      text: async () => JSON.stringify(body)
    } as unknown as Response;
  });
}

describe('UsageSection', () => {
  it('shows each team with its quota, free GPUs, month and budget warning', async () => {
    serve([TEAM, { ...TEAM, team: 'cv', budget: null, free_gpus: null }]);
    const section = new UsageSection({ api: new SubmarineAPI() });
    Widget.attach(section, document.body);
    await section.refresh();
    const ml = section.node.querySelector('[data-testid="submarine-usage-ml"]')!;
    expect(ml.textContent).toContain('1 of 4');
    expect(ml.querySelector('meter')!.max).toBe(4);
    expect(ml.textContent).toContain('2G of 8G');
    expect(ml.querySelector('[data-testid="submarine-usage-free-gpus-ml"]')!.textContent).toBe(
      'Free GPUs: 1'
    );
    expect(ml.textContent).toContain('4.25 USD');
    expect(ml.textContent).toContain('Disk: history 2.5G · models 0G · homes 1.2G');
    const budget = ml.querySelector('[data-testid="submarine-budget-ml"]')!;
    expect(budget.className).toContain('jp-mod-warning');
    expect(budget.textContent).toContain('4.25 of 5.00 USD (85%) · month · policy queue');
    const note = budget.querySelector('[data-testid="submarine-budget-message-ml"]')!;
    expect(note.getAttribute('role')).toBe('status');
    expect(note.textContent).toContain('monthly budget of 5.00 USD');
    const cv = section.node.querySelector('[data-testid="submarine-budget-cv"]')!;
    expect(cv.textContent).toBe('No budget');
    expect(section.node.textContent).toContain('Free GPUs: no GPU limit');
    Widget.detach(section);
  });

  it('shows the error when the service refuses', async () => {
    serve([], 503);
    const section = new UsageSection({ api: new SubmarineAPI() });
    expect(await section.refresh()).toEqual([]);
    expect(section.node.textContent).toContain('down');
  });

  it('writes a spent budget in resource-hours with its unit', () => {
    const spent = { ...TEAM.budget!, unit: 'gpu_hours', currency: null, fraction: 1.2, spent: 6 };
    expect(budgetText(spent)).toBe('6.00 of 5.00 gpu-hours (120%) · month · policy queue');
  });
});
