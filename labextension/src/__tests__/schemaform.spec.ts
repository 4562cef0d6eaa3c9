import {
  codeLayout,
  fieldsFromSchema,
  folderOf,
  parseKeyValues,
  parseValues,
  runName,
  splitArgs
} from '../schemaform';

// What `GET templates` answers for the built-in sklearn-classifier.
const SKLEARN = {
  type: 'object',
  properties: {
    dataset: {
      type: 'string',
      default: 'iris',
      enum: ['iris', 'wine', 'breast_cancer', 'digits'],
      description: 'A data set bundled with scikit-learn.'
    },
    model: {
      type: 'string',
      default: 'random_forest',
      enum: ['random_forest', 'logistic_regression', 'gradient_boosting']
    },
    n_estimators: { type: 'integer', default: 100, minimum: 1, maximum: 2000 },
    c: { type: 'number', default: 1.0, minimum: 0.0001, maximum: 10000 },
    seed: { type: 'integer', default: 0, minimum: 0 }
  },
  required: []
};

const ECHO = {
  type: 'object',
  properties: {
    times: { type: 'integer', minimum: 1, maximum: 3 },
    greeting: { type: 'string', enum: ['hi', 'hello'], default: 'hi' },
    loud: { type: 'boolean', default: false },
    note: { type: 'string' }
  },
  required: ['times']
};

describe('fieldsFromSchema', () => {
  it('makes one field per property, in order, with kinds, defaults and bounds', () => {
    const fields = fieldsFromSchema(SKLEARN);
    expect(fields.map(f => [f.name, f.kind, f.initial])).toEqual([
      ['dataset', 'choice', 'iris'],
      ['model', 'choice', 'random_forest'],
      ['n_estimators', 'integer', '100'],
      ['c', 'number', '1'],
      ['seed', 'integer', '0']
    ]);
    const n = fields[2];
    expect(n.label).toBe('n estimators');
    expect(n.minimum).toBe(1);
    expect(n.maximum).toBe(2000);
    expect(n.required).toBe(false);
    expect(fields[0].choices).toEqual(['iris', 'wine', 'breast_cancer', 'digits']);
    expect(fields[0].description).toBe('A data set bundled with scikit-learn.');
  });

  it('marks required fields and fields without a default', () => {
    const fields = fieldsFromSchema(ECHO);
    const times = fields.find(f => f.name === 'times')!;
    expect(times.required).toBe(true);
    expect(times.hasDefault).toBe(false);
    expect(times.initial).toBe('');
    expect(fields.find(f => f.name === 'loud')!.kind).toBe('boolean');
    expect(fields.find(f => f.name === 'note')!.kind).toBe('string');
  });

  it('copes with no schema, no properties and odd types', () => {
    expect(fieldsFromSchema(undefined)).toEqual([]);
    expect(fieldsFromSchema({ type: 'object' })).toEqual([]);
    const [f] = fieldsFromSchema({ properties: { x: { type: ['integer', 'null'] } } });
    expect(f.kind).toBe('integer');
    const [g] = fieldsFromSchema({ properties: { y: { type: 'array' } } });
    expect(g.kind).toBe('string');
  });
});

describe('parseValues', () => {
  const fields = fieldsFromSchema(SKLEARN);

  it('converts what was typed to the schema types', () => {
    const out = parseValues(fields, {
      dataset: 'wine',
      model: 'logistic_regression',
      n_estimators: '25',
      c: '0.5',
      seed: '7'
    });
    expect(out.errors).toEqual({});
    expect(out.values).toEqual({
      dataset: 'wine',
      model: 'logistic_regression',
      n_estimators: 25,
      c: 0.5,
      seed: 7
    });
  });

  it('leaves out empty optional inputs, so the defaults apply', () => {
    const out = parseValues(fields, { dataset: 'iris', n_estimators: '  ' });
    expect(out.errors).toEqual({});
    expect(out.values).toEqual({ dataset: 'iris' });
  });

  it('names each problem in words a person can act on', () => {
    const out = parseValues(fields, {
      dataset: 'mnist',
      n_estimators: '2.5',
      c: 'lots',
      seed: '-1'
    });
    expect(out.errors).toEqual({
      dataset: 'dataset must be one of iris, wine, breast_cancer, digits.',
      n_estimators: 'n estimators must be a whole number.',
      c: 'c must be a number.',
      seed: 'seed must be at least 0.'
    });
    expect(parseValues(fields, { n_estimators: '5000' }).errors.n_estimators).toBe(
      'n estimators must be at most 2000.'
    );
    expect(parseValues(fields, { c: '1e-5' }).errors.c).toBe('c must be at least 0.0001.');
    expect(parseValues(fields, { c: '1e-3' }).values.c).toBe(0.001);
  });

  it('requires required fields that have no default', () => {
    const echo = fieldsFromSchema(ECHO);
    expect(parseValues(echo, {}).errors).toEqual({ times: 'times is required.' });
    const ok = parseValues(echo, { times: '2', greeting: 'hello', loud: true, note: 'x' });
    expect(ok.values).toEqual({ times: 2, greeting: 'hello', loud: true, note: 'x' });
    expect(parseValues(echo, { times: '2', loud: 'false' }).values.loud).toBe(false);
  });
});

describe('notebook parameters, arguments, names and folders', () => {
  it('reads key=value lines, JSON values as such', () => {
    const out = parseKeyValues('alpha = 0.5\nname=iris\n\n# a comment\nflags=[1, 2]\nquoted="7"');
    expect(out.errors).toEqual({});
    expect(out.values).toEqual({ alpha: 0.5, name: 'iris', flags: [1, 2], quoted: '7' });
    const bad = parseKeyValues('ok=1\n2x=3\njust text');
    expect(Object.values(bad.errors)).toEqual([
      'Line 2: write name=value, with a Python name (letters, digits, _).',
      'Line 3: write name=value, with a Python name (letters, digits, _).'
    ]);
  });

  it('splits arguments on spaces, keeping quoted ones together', () => {
    expect(splitArgs('--epochs 3  --name "my run" \'a b\' ""')).toEqual([
      '--epochs',
      '3',
      '--name',
      'my run',
      'a b',
      ''
    ]);
    expect(splitArgs('   ')).toEqual([]);
  });

  it('makes run names the API accepts', () => {
    expect(runName('project/train model.py')).toBe('train-model');
    expect(runName('analysis.ipynb')).toBe('analysis');
    expect(runName('sklearn-classifier')).toBe('sklearn-classifier');
    expect(runName('__init__.py')).toBe('init__');
    expect(runName('???')).toBe('run');
  });

  it('finds the file inside its code folder', () => {
    expect(codeLayout('project/src/train.py', 'project')).toEqual({
      folder: 'project',
      entry: 'src/train.py'
    });
    expect(codeLayout('/train.py', '')).toEqual({ folder: '', entry: 'train.py' });
    expect(codeLayout('other/train.py', 'project')).toEqual({
      error: 'other/train.py is not inside the code folder project/.'
    });
    expect(codeLayout('', 'x')).toEqual({ error: 'Choose the file to run.' });
    expect(folderOf('a/b/c.py')).toBe('a/b');
    expect(folderOf('c.py')).toBe('');
  });
});
