/**
 * Turning the platform's notebook diff (nbdime's, `GET files/diff`) into what
 * the history view draws: one entry per cell — unchanged, added, removed or
 * modified — with a line diff of a modified cell's source. Pure: no DOM.
 */

/** A notebook cell as nbformat's JSON has it (source: text or lines). */
export interface ICellJSON {
  cell_type?: string;
  source?: string | string[];
  [key: string]: unknown;
}

export interface INotebookJSON {
  cells?: ICellJSON[];
  [key: string]: unknown;
}

/** One line of a line diff. */
export interface ILine {
  op: ' ' | '+' | '-';
  text: string;
}

export type CellChangeKind = 'unchanged' | 'added' | 'removed' | 'modified';

export interface ICellChange {
  kind: CellChangeKind;
  /** The cell in the older version (absent for an added cell). */
  a?: ICellJSON;
  /** The cell in the newer version (absent for a removed cell). */
  b?: ICellJSON;
  /** Keys of a modified cell that changed (`source`, `outputs`, `metadata`...). */
  changed: string[];
}

interface IDiffEntry {
  op: string;
  key: string | number;
  diff?: IDiffEntry[];
  valuelist?: unknown[];
  length?: number;
}

/** A cell's source as one string. */
export function sourceOf(cell: ICellJSON | undefined): string {
  const src = cell?.source;
  if (Array.isArray(src)) {
    return src.join('');
  }
  return typeof src === 'string' ? src : '';
}

/**
 * The line diff of two texts (longest common subsequence). Texts too big to
 * compare line by line come out as all removed, then all added.
 */
export function lineDiff(a: string, b: string, maxCells = 4_000_000): ILine[] {
  const x = a === '' ? [] : a.replace(/\n$/, '').split('\n');
  const y = b === '' ? [] : b.replace(/\n$/, '').split('\n');
  const n = x.length;
  const m = y.length;
  if (n * m > maxCells) {
    return [
      ...x.map(text => ({ op: '-' as const, text })),
      ...y.map(text => ({ op: '+' as const, text }))
    ];
  }
  // lcs[i][j]: length of the LCS of x[i:] and y[j:]
  const lcs: Uint32Array[] = [];
  for (let i = 0; i <= n; i++) {
    lcs.push(new Uint32Array(m + 1));
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: ILine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: ' ', text: x[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ op: '-', text: x[i++] });
    } else {
      out.push({ op: '+', text: y[j++] });
    }
  }
  while (i < n) {
    out.push({ op: '-', text: x[i++] });
  }
  while (j < m) {
    out.push({ op: '+', text: y[j++] });
  }
  return out;
}

/**
 * The cells of version `a` and `b` lined up with nbdime's diff of `a` to `b`.
 *
 * nbdime's `cells` entry lists, by index in `a`: `addrange` (cells inserted
 * before that index), `removerange` and `patch` (a modified cell). The cells of
 * `b` are `a`'s after these operations, in order.
 */
export function cellChanges(a: INotebookJSON, b: INotebookJSON, diff: unknown): ICellChange[] {
  const aCells = Array.isArray(a?.cells) ? a.cells : [];
  const bCells = Array.isArray(b?.cells) ? b.cells : [];
  const entries = Array.isArray(diff) ? (diff as IDiffEntry[]) : [];
  const cellsEntry = entries.find(e => e && e.key === 'cells' && Array.isArray(e.diff));
  const ops = (cellsEntry?.diff ?? []).filter(op => typeof op.key === 'number');
  // at one index: insertions come first
  const rank = (op: IDiffEntry) => (op.op === 'addrange' ? 0 : 1);
  ops.sort((p, q) => (p.key as number) - (q.key as number) || rank(p) - rank(q));

  const out: ICellChange[] = [];
  let i = 0; // index in a
  let j = 0; // index in b
  const keep = (upTo: number) => {
    while (i < upTo && i < aCells.length) {
      out.push({ kind: 'unchanged', a: aCells[i], b: bCells[j], changed: [] });
      i++;
      j++;
    }
  };
  for (const op of ops) {
    const key = op.key as number;
    keep(key);
    if (op.op === 'addrange') {
      const count = Array.isArray(op.valuelist) ? op.valuelist.length : 0;
      for (let k = 0; k < count; k++) {
        const cell = bCells[j] ?? (op.valuelist![k] as ICellJSON);
        out.push({ kind: 'added', b: cell, changed: [] });
        j++;
      }
    } else if (op.op === 'removerange') {
      const count = op.length ?? 1;
      for (let k = 0; k < count && i < aCells.length; k++) {
        out.push({ kind: 'removed', a: aCells[i], changed: [] });
        i++;
      }
    } else if (op.op === 'patch' || op.op === 'replace') {
      if (i < aCells.length) {
        const changed =
          op.op === 'patch' && Array.isArray(op.diff)
            ? Array.from(new Set(op.diff.map(d => String(d.key))))
            : ['source'];
        out.push({ kind: 'modified', a: aCells[i], b: bCells[j], changed });
        i++;
        j++;
      }
    }
  }
  keep(aCells.length);
  return out;
}

/**
 * Keys of the notebook (not its cells) that changed: e.g. `metadata`.
 */
export function notebookKeysChanged(diff: unknown): string[] {
  const entries = Array.isArray(diff) ? (diff as IDiffEntry[]) : [];
  return entries.filter(e => e && e.key !== 'cells').map(e => String(e.key));
}

/** One line of a unified text diff, classed by its first character. */
export function unifiedLines(text: string): { kind: string; text: string }[] {
  if (!text) {
    return [];
  }
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map(line => {
      let kind = 'context';
      if (line.startsWith('+++') || line.startsWith('---')) {
        kind = 'file';
      } else if (line.startsWith('@@')) {
        kind = 'hunk';
      } else if (line.startsWith('+')) {
        kind = 'added';
      } else if (line.startsWith('-')) {
        kind = 'removed';
      }
      return { kind, text: line };
    });
}
