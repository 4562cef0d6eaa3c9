jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);
jest.mock('@jupyterlab/rendermime', () => ({
  MimeModel: class {
    constructor(readonly options: unknown) {}
  }
}));

import {
  fieldName,
  historySpec,
  importancesSpec,
  paramNames,
  studyKey,
  studyParallelSpec,
  type IStudy,
  type IStudyTrial
} from '../studies';

const trial = (
  number: number,
  value: number | null,
  state: IStudyTrial['state'],
  params: Record<string, unknown>
): IStudyTrial => ({ number, value, state, params, reason: '', run_id: 100 + number });

const trials: IStudyTrial[] = [
  trial(0, 0.8, 'complete', { lr: 0.1, kind: 'a' }),
  trial(1, 0.7, 'pruned', { lr: 0.01, kind: 'b' }),
  trial(2, 0.9, 'complete', { lr: 0.05, kind: 'a', depth: 3 }),
  trial(3, null, 'running', { lr: 0.2, kind: 'b' }),
  trial(4, 0.85, 'complete', { lr: 0.3, kind: 'b' })
];

type Values = { data: { values: Record<string, unknown>[] } };

describe('study charts', () => {
  it('lists the params of all trials in first-seen order', () => {
    expect(paramNames(trials)).toEqual(['lr', 'kind', 'depth']);
  });

  it('makes field names without dots or brackets', () => {
    expect(fieldName('model.lr[0]')).toBe('p:model_lr_0_');
  });

  it('plots finished trials and a best-so-far line that pruned trials do not move', () => {
    const spec = historySpec(trials, 'accuracy', 'maximize') as unknown as Values;
    const rows = spec.data.values;
    expect(rows.map(r => r.trial)).toEqual([0, 1, 2, 4]);
    expect(rows.map(r => r.best)).toEqual([0.8, 0.8, 0.9, 0.9]);
    expect(rows[1].state).toBe('pruned');
  });

  it('keeps the lowest value as the best when minimizing', () => {
    const spec = historySpec(trials, 'loss', 'minimize') as unknown as Values;
    expect(spec.data.values.map(r => r.best)).toEqual([0.8, 0.8, 0.8, 0.8]);
  });

  it('draws parallel coordinates through each param and the objective', () => {
    const spec = studyParallelSpec(trials, 'accuracy') as unknown as Values & {
      layer: { encoding: { x: { sort: string[] } } }[];
    };
    expect(spec.layer[0].encoding.x.sort).toEqual(['p:lr', 'p:kind', 'p:depth', 'objective']);
    const rows = spec.data.values;
    // 4 finished trials: lr, kind and the objective each; depth only in trial 2
    expect(rows).toHaveLength(4 * 3 + 1);
    const kinds = rows.filter(r => r.key === 'p:kind');
    expect(kinds.every(r => r.categorical)).toBe(true);
    expect(kinds.find(r => r.trial === 0)?.value).toBe(0);
    expect(kinds.find(r => r.trial === 4)?.value).toBe(1);
    expect(rows.filter(r => r.key === 'objective').map(r => r.value)).toEqual([
      0.8, 0.7, 0.9, 0.85
    ]);
  });

  it('sorts importances from the most important and drops non-numbers', () => {
    const spec = importancesSpec({ lr: 0.2, depth: 0.7, kind: Number.NaN }) as unknown as Values;
    expect(spec.data.values).toEqual([
      { param: 'depth', importance: 0.7 },
      { param: 'lr', importance: 0.2 }
    ]);
  });
});

describe('a study page refreshing itself', () => {
  const study = (items: IStudyTrial[], status = 'running'): IStudy =>
    ({ id: 1, name: 's', status, reason: '', items }) as unknown as IStudy;

  it('sees no change in a study whose trials did not move', () => {
    expect(studyKey(study(trials))).toBe(studyKey(study([...trials])));
  });

  it('sees a new trial, a trial that ended and the study ending', () => {
    const before = studyKey(study(trials));
    expect(studyKey(study([...trials, trial(5, null, 'running', { lr: 0.4 })]))).not.toBe(before);
    const ended = trials.map(t => (t.number === 3 ? { ...t, state: 'pruned' as const } : t));
    expect(studyKey(study(ended))).not.toBe(before);
    expect(studyKey(study(trials, 'finished'))).not.toBe(before);
  });
});
