jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);
jest.mock('@jupyterlab/rendermime', () => ({
  MimeModel: class {
    constructor(readonly options: unknown) {}
  }
}));

import { Widget } from '@lumino/widgets';

import { SubmarineAPI } from '../api';
import { EndpointTrafficView, errorsSpec, latencySpec, rateSpec, trafficSummary } from '../traffic';
import { makeRequest } from './fakejupyter';

const reply = (body: unknown, status = 200) => ({
  ok: status < 400,
  status,
  statusText: '',
  text: async () => JSON.stringify(body)
});

const point = (t: number, requests: number, errors = 0) => ({
  t,
  requests,
  errors,
  rate: requests / 10,
  mean_ms: requests ? 4 : null,
  p50_ms: requests ? 3 : null,
  p90_ms: requests ? 5 : null,
  p99_ms: requests ? 7.5 + t / 1e9 : null
});

const data = {
  endpoint: 't/ep',
  status: 'ready',
  step_s: 10,
  window_s: 30,
  points: [point(1_800_000_000, 4, 1), point(1_800_000_010, 0), point(1_800_000_020, 6)]
};

describe('traffic charts', () => {
  it('draws the request rate per step over time', () => {
    const spec = rateSpec(data.points) as any;
    expect(spec.data.values.map((v: any) => v.rate)).toEqual([0.4, 0, 0.6]);
    expect(spec.data.values[0].time).toBe(new Date(1_800_000_000_000).toISOString());
    expect(spec.encoding.x.type).toBe('temporal');
    expect(spec.mark.tooltip).toBe(true);
  });

  it('draws p50, p90 and p99 only for steps that had requests', () => {
    const spec = latencySpec(data.points) as any;
    const values = spec.data.values as { percentile: string; ms: number }[];
    expect(values).toHaveLength(6);
    expect(values.map(v => v.percentile)).toEqual(['p50', 'p90', 'p99', 'p50', 'p90', 'p99']);
    expect(spec.encoding.color.field).toBe('percentile');
  });

  it('draws errors as bars', () => {
    const spec = errorsSpec(data.points) as any;
    expect(spec.mark.type).toBe('bar');
    expect(spec.data.values.map((v: any) => v.errors)).toEqual([1, 0, 0]);
  });

  it('sums the window in one line', () => {
    expect(trafficSummary(data, 'last 5 minutes')).toBe(
      '10 requests (1 error) in the last 5 minutes, worst p99 9.3 ms'
    );
    expect(trafficSummary({ ...data, points: [point(0, 1)] }, 'last hour')).toBe(
      '1 request (0 errors) in the last hour, worst p99 7.5 ms'
    );
  });
});

describe('EndpointTrafficView', () => {
  beforeEach(() => makeRequest.mockReset());

  const rendermime = () => {
    const rendered: unknown[] = [];
    return {
      rendered,
      registry: {
        createRenderer: () => ({
          node: document.createElement('div'),
          renderModel: async (m: { options: { data: Record<string, unknown> } }) => {
            rendered.push(Object.values(m.options.data)[0]);
          }
        })
      }
    };
  };

  it('asks for the window chosen and draws three charts', async () => {
    makeRequest.mockResolvedValue(reply(data));
    const r = rendermime();
    const view = new EndpointTrafficView(new SubmarineAPI(), r.registry as any, 't', 'ep');
    Widget.attach(view, document.body);
    view.windowIndex = 2;
    await view.refresh();
    const url = decodeURIComponent(makeRequest.mock.calls[0][0]);
    expect(url).toContain('endpoints/t/ep/metrics?window=3600&step=30');
    expect(r.rendered.map((s: any) => s.title)).toEqual([
      'Requests per second',
      'Latency (ms)',
      'Errors'
    ]);
    expect(view.node.querySelector('[data-testid="traffic-summary"]')?.textContent).toContain(
      '10 requests (1 error) in the last hour'
    );
    view.dispose();
  });

  it("shows the service's message when there are no points, and errors", async () => {
    const r = rendermime();
    const view = new EndpointTrafficView(new SubmarineAPI(), r.registry as any, 't', 'ep');
    Widget.attach(view, document.body);
    makeRequest.mockResolvedValueOnce(
      reply({ ...data, points: [], message: 't/ep is stopped: no traffic to show.' })
    );
    await view.refresh();
    const summary = view.node.querySelector('[data-testid="traffic-summary"]');
    expect(summary?.textContent).toBe('t/ep is stopped: no traffic to show.');
    expect(r.rendered).toHaveLength(0);
    makeRequest.mockResolvedValueOnce(reply({ status: 404, message: 'No endpoint t/ep.' }, 404));
    await view.refresh();
    expect(view.node.querySelector('[data-testid="traffic-error"]')?.textContent).toContain(
      'No endpoint t/ep.'
    );
    view.dispose();
  });
});
