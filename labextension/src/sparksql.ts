/**
 * What a run page adds for Spark and SQL runs: a Spark run's live UI link (through the
 * hub, team-checked) and its executor count; a SQL run's row count and first rows (its
 * `result.json` artifact).
 */
import { PageConfig } from '@jupyterlab/coreutils';

import { IExperiment, SubmarineAPI, requestAPI } from './api';
import { clear, el } from './util';

export type ISparkApplication = {
  running: boolean;
  executors: number;
  cores?: number;
  app_id?: string | null;
  ui?: string | null;
};

export type ISqlResult = {
  rows: number;
  columns: string[];
  preview: Array<Record<string, unknown>>;
};

/** The hub's URL of a path of the platform's API (the Spark UI is the service's page). */
export function serviceUrl(path: string): string {
  const hubPrefix = PageConfig.getOption('hubPrefix') || '/hub/';
  const root = hubPrefix.replace(/hub\/?$/, '');
  return `${root}services/submarine/api/v1/${path.replace(/^\/+/, '')}`;
}

/** Fill `node` with the run's Spark or SQL facts (empty for other runs). */
export async function renderSparkSql(
  api: SubmarineAPI,
  run: IExperiment,
  node: HTMLElement
): Promise<void> {
  if (run.kind === 'spark' || (run.kind === 'sql' && isSparkSql(run))) {
    let app: ISparkApplication;
    try {
      app = await requestAPI<ISparkApplication>(
        `experiments/${run.id}/spark`,
        { method: 'GET' },
        api.settings
      );
    } catch {
      return; // not started yet, or a backend that cannot tell
    }
    clear(node);
    node.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Spark'));
    const facts = app.running
      ? `${app.executors} executor(s), ${app.cores ?? 0} core(s) — ${app.app_id ?? ''}`
      : 'The application has ended; its event log is in the artifacts (spark-events/).';
    node.appendChild(el('p', 'jp-SubmarineRun-spark', facts, 'submarine-spark-executors'));
    if (app.running && app.ui) {
      const a = el('a', 'jp-SubmarineRun-sparkUI', 'Open the Spark UI', 'submarine-spark-ui');
      a.href = serviceUrl(app.ui);
      a.target = '_blank';
      a.rel = 'noopener';
      node.appendChild(a);
    }
  }
  if (run.kind === 'sql' && run.status === 'succeeded') {
    let result: ISqlResult;
    try {
      result = await requestAPI<ISqlResult>(
        `experiments/${run.id}/artifacts?path=result.json`,
        { method: 'GET' },
        api.settings
      );
    } catch {
      return;
    }
    clear(node);
    node.appendChild(el('h3', 'jp-SubmarinePanel-label', `Result: ${result.rows} rows`));
    node.appendChild(previewTable(result));
  }
}

function isSparkSql(run: IExperiment): boolean {
  const task = (run.spec as { task?: { sql?: { engine?: string } } } | undefined)?.task;
  return task?.sql?.engine === 'spark';
}

/** The first rows of a SQL result as a table. */
export function previewTable(result: ISqlResult): HTMLTableElement {
  const table = el('table', 'jp-SubmarineRun-preview', undefined, 'submarine-sql-preview');
  const head = el('tr', '');
  for (const c of result.columns) {
    head.appendChild(el('th', '', c));
  }
  table.appendChild(el('thead', '')).appendChild(head);
  const body = el('tbody', '');
  for (const row of result.preview) {
    const tr = el('tr', '');
    for (const c of result.columns) {
      tr.appendChild(el('td', '', String(row[c] ?? '')));
    }
    body.appendChild(tr);
  }
  table.appendChild(body);
  return table;
}
