import { cellChanges, lineDiff, notebookKeysChanged, sourceOf, unifiedLines } from '../diff';
import { renderNotebookDiff, restoreRoute, summaryText } from '../history';

const cell = (id: string, source: string | string[], cell_type = 'code') => ({
  id,
  cell_type,
  source,
  metadata: {},
  outputs: []
});

const A = {
  cells: [
    cell('m1', '# Title', 'markdown'),
    cell('c1', ['x = 1\n', 'y = 2']),
    cell('c2', 'print(x)'),
    cell('c3', 'old = True')
  ]
};
const B = {
  cells: [
    cell('m1', '# Title', 'markdown'),
    cell('c1', 'x = 1\ny = 3'),
    cell('n1', 'z = x + y'),
    cell('c2', 'print(x)')
  ]
};
// What nbdime (GET files/diff) answers for A -> B.
const NBDIME = [
  {
    op: 'patch',
    key: 'cells',
    diff: [
      {
        op: 'patch',
        key: 1,
        diff: [
          {
            op: 'patch',
            key: 'source',
            diff: [
              {
                op: 'patch',
                key: 1,
                diff: [
                  { op: 'addrange', key: 4, valuelist: '3' },
                  { op: 'removerange', key: 4, length: 1 }
                ]
              }
            ]
          }
        ]
      },
      { op: 'addrange', key: 2, valuelist: [cell('n1', 'z = x + y')] },
      { op: 'removerange', key: 3, length: 1 }
    ]
  }
];

describe('lineDiff', () => {
  it('marks kept, removed and added lines', () => {
    expect(lineDiff('a\nb\nc', 'a\nB\nc\nd')).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'B' },
      { op: ' ', text: 'c' },
      { op: '+', text: 'd' }
    ]);
    expect(lineDiff('', 'x')).toEqual([{ op: '+', text: 'x' }]);
    expect(lineDiff('x\n', '')).toEqual([{ op: '-', text: 'x' }]);
  });

  it('gives up line matching on huge texts', () => {
    expect(lineDiff('a\nb', 'b\nc', 1)).toEqual([
      { op: '-', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'b' },
      { op: '+', text: 'c' }
    ]);
  });
});

describe('cellChanges', () => {
  it("lines up both versions' cells with nbdime's diff", () => {
    const changes = cellChanges(A, B, NBDIME);
    expect(changes.map(c => [c.kind, c.a?.id ?? null, c.b?.id ?? null])).toEqual([
      ['unchanged', 'm1', 'm1'],
      ['modified', 'c1', 'c1'],
      ['added', null, 'n1'],
      ['unchanged', 'c2', 'c2'],
      ['removed', 'c3', null]
    ]);
    expect(changes[1].changed).toEqual(['source']);
    expect(sourceOf(changes[1].a)).toBe('x = 1\ny = 2');
  });

  it('puts insertions before a removal at the same index', () => {
    const changes = cellChanges(
      { cells: [cell('a', 'a'), cell('b', 'b')] },
      { cells: [cell('a', 'a'), cell('n', 'n')] },
      [
        {
          op: 'patch',
          key: 'cells',
          diff: [
            { op: 'removerange', key: 1, length: 1 },
            { op: 'addrange', key: 1, valuelist: [cell('n', 'n')] }
          ]
        }
      ]
    );
    expect(changes.map(c => c.kind)).toEqual(['unchanged', 'added', 'removed']);
  });

  it('is all unchanged with an empty diff, and notes other keys', () => {
    expect(cellChanges(A, A, []).every(c => c.kind === 'unchanged')).toBe(true);
    expect(notebookKeysChanged([{ op: 'patch', key: 'metadata', diff: [] }])).toEqual(['metadata']);
  });
});

describe('rendering a diff', () => {
  it('draws changed cells with their lines and folds unchanged ones', () => {
    const node = renderNotebookDiff(cellChanges(A, B, NBDIME));
    const cards = Array.from(node.querySelectorAll('.jp-SubmarineDiff-cell'));
    expect(cards.map(c => c.getAttribute('data-kind'))).toEqual(['modified', 'added', 'removed']);
    expect(cards[0].querySelector('.jp-SubmarineDiff-cellHead')?.textContent).toBe(
      'Cell 2 · code · modified'
    );
    const lines = Array.from(cards[0].querySelectorAll('.jp-SubmarineDiff-line')).map(
      l => l.textContent
    );
    expect(lines).toEqual(['  x = 1\n', '- y = 2\n', '+ y = 3\n']);
    expect(cards[2].querySelector('.jp-SubmarineDiff-cellHead')?.textContent).toBe(
      'Old cell 4 · code · removed'
    );
    const folded = Array.from(node.querySelectorAll('details summary')).map(s => s.textContent);
    expect(folded).toEqual(['1 unchanged cell', '1 unchanged cell']);
  });

  it('words the summary', () => {
    expect(summaryText({ added: 1, removed: 1, modified: 1, unchanged: 2 }, 'cells')).toBe(
      '1 added, 1 removed, 1 modified, 2 unchanged cells'
    );
    expect(summaryText({}, 'lines')).toBe('No difference');
  });

  it('classes unified diff lines', () => {
    expect(unifiedLines('--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z\n').map(l => l.kind)).toEqual([
      'file',
      'file',
      'hunk',
      'removed',
      'added',
      'context'
    ]);
  });
});

describe('restoreRoute', () => {
  it('restores session files through the session, team and shared files through the platform', () => {
    expect(restoreRoute('analysis.ipynb')).toBe('session');
    expect(restoreRoute('/project/analysis.ipynb')).toBe('session');
    expect(restoreRoute('teams/data-science/report.ipynb')).toBe('platform');
    expect(restoreRoute('teams/data-science')).toBe('session');
    expect(restoreRoute('shared/users/bob/report.ipynb')).toBe('platform');
    expect(restoreRoute('shared/teams/vision/eval.ipynb')).toBe('platform');
  });
});
