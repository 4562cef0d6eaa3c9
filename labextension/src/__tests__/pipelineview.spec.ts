jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);
jest.mock('@jupyterlab/rendermime', () => ({ MimeModel: class {} }));

import { dagSpec, layoutDag } from '../pipelineview';

const steps = [
  { name: 'prepare', depends_on: [], status: 'succeeded' as const, run_id: 1 },
  { name: 'train-a', depends_on: ['prepare'], status: 'failed' as const, run_id: 2 },
  { name: 'train-b', depends_on: ['prepare'], status: 'succeeded' as const, run_id: 3 },
  {
    name: 'evaluate',
    depends_on: ['train-a', 'train-b'],
    status: 'upstream_failed' as const,
    run_id: null
  }
];

describe('layoutDag', () => {
  it('puts each step one column after its deepest upstream step', () => {
    const nodes = layoutDag(steps);
    expect(nodes.map(n => [n.name, n.depth, n.row])).toEqual([
      ['prepare', 0, 0],
      ['train-a', 1, 0],
      ['train-b', 1, 1],
      ['evaluate', 2, 0]
    ]);
  });

  it('does not loop on a cycle', () => {
    const nodes = layoutDag([
      { name: 'a', depends_on: ['b'] },
      { name: 'b', depends_on: ['a'] }
    ]);
    expect(nodes).toHaveLength(2);
  });
});

describe('dagSpec', () => {
  it('draws an edge per dependency and a node per step coloured by its state', () => {
    const spec = dagSpec({ id: 7, name: 'p', status: 'failed', steps }) as any;
    expect(spec.layer[0].data.values).toHaveLength(4);
    expect(spec.layer[1].data.values.map((n: any) => n.status)).toEqual([
      'succeeded',
      'failed',
      'succeeded',
      'upstream_failed'
    ]);
    expect(spec.layer[1].encoding.color.scale.domain).toContain('upstream_failed');
    expect(spec.title).toBe('p #7: failed');
  });
});
