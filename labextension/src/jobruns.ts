/**
 * The Jobs tab's list of a notebook's job runs, newest first: each with its
 * status, parameters (or a fan-out's children), and links to its executed
 * notebook, its summary and its run page.
 */
import { type INotebookJob, isFinal } from './api';
import { formatNumber } from './chart';
import { statusBadge } from './experiments';
import { parametersText } from './jobparams';
import { ago, button, clear, duration, el } from './util';

/** A fan-out's children, counted: `6 runs: 5 succeeded, 1 running`. */
export function childrenText(job: INotebookJob): string {
  const c = job.children;
  if (!c) {
    return '';
  }
  const counts: Record<string, number> = {};
  let total = 0;
  if (Array.isArray(c)) {
    for (const child of c) {
      counts[child.status] = (counts[child.status] ?? 0) + 1;
    }
    total = c.length;
  } else {
    Object.assign(counts, c.by_status);
    total = c.total;
  }
  const bits = Object.entries(counts).map(([s, n]) => `${n} ${s}`);
  return `${total} run${total === 1 ? '' : 's'}` + (bits.length ? `: ${bits.join(', ')}` : '');
}

/** What a run's links do. */
export interface IRunActions {
  /** Open a file of the session (the executed notebook). */
  open: (path: string) => void;
  /** Show a fan-out's summary in the grid part. */
  summary: (id: number) => void;
  /** Show a run's page in the Experiments tab. */
  showRun: (id: number) => void;
  /** Open the run explorer on runs chosen by a filter (MLflow's syntax). */
  explore?: (filter: string) => void;
}

/** The explorer's filter for a job: a fan-out's children, or the run itself. */
export function exploreFilter(job: INotebookJob): string {
  return job.children ? `attributes.parent_id = ${job.id}` : `attributes.run_id = ${job.id}`;
}

/** The explorer's filter for all of a notebook's job runs (fan-outs by their parents). */
export function exploreAllFilter(jobs: INotebookJob[]): string {
  return `attributes.run_id IN (${jobs.map(j => `'${j.id}'`).join(', ')})`;
}

/** Draw `jobs` into the list `runs` (what was there goes). */
export function renderJobRuns(runs: HTMLElement, jobs: INotebookJob[], actions: IRunActions): void {
  clear(runs);
  if (!jobs.length) {
    runs.appendChild(
      el(
        'li',
        'jp-SubmarinePanel-empty',
        'No job runs yet: Run now starts one.',
        'submarine-job-no-runs'
      )
    );
    return;
  }
  const explore = actions.explore;
  if (explore) {
    const head = el('li', 'jp-SubmarineJobs-actions');
    head.appendChild(
      button('Explore these runs', () => explore(exploreAllFilter(jobs)), {
        testid: 'submarine-job-explore-all',
        className: 'jp-SubmarineJobs-link',
        title: 'Open them in the run explorer: compare, sort, chart'
      })
    );
    runs.appendChild(head);
  }
  for (const job of jobs) {
    runs.appendChild(runItem(job, actions));
  }
}

function runItem(job: INotebookJob, actions: IRunActions): HTMLElement {
  const item = el('li', 'jp-SubmarineJobs-run', undefined, `submarine-job-run-${job.id}`);
  item.dataset.runId = String(job.id);
  const line = el('div', 'jp-SubmarineRuns-line');
  line.appendChild(statusBadge(job.status, `submarine-job-status-${job.id}`));
  line.appendChild(el('span', 'jp-SubmarineRuns-name', `#${job.id} ${job.name}`));
  item.appendChild(line);
  const isFanout = !!job.children;
  const what = isFanout ? childrenText(job) : parametersText(job.parameters);
  if (what) {
    item.appendChild(el('div', 'jp-SubmarineRuns-meta', what, `submarine-job-params-${job.id}`));
  }
  const bits = [job.team, job.owner, ago(job.created_at), duration(job.duration)];
  for (const [k, v] of Object.entries(job.metrics ?? {}).slice(0, 2)) {
    bits.push(`${k} ${formatNumber(v)}`);
  }
  item.appendChild(el('div', 'jp-SubmarineRuns-meta', bits.filter(Boolean).join(' · ')));
  if (job.status === 'failed' && job.reason) {
    item.appendChild(el('div', 'jp-SubmarineJobs-reason', job.reason));
  }
  const links = el('div', 'jp-SubmarineJobs-actions');
  const lab = job.output?.lab_path;
  if (lab && isFinal(job.status)) {
    links.appendChild(
      button('Open executed notebook', () => actions.open(lab), {
        testid: `submarine-job-open-${job.id}`,
        className: 'jp-SubmarineJobs-link',
        title: `Open ${lab}`
      })
    );
  }
  if (isFanout) {
    links.appendChild(
      button('Summary', () => actions.summary(job.id), {
        testid: `submarine-job-summary-${job.id}`,
        className: 'jp-SubmarineJobs-link',
        title: "The children's parameters, status and metrics"
      })
    );
  }
  const explore = actions.explore;
  if (explore) {
    links.appendChild(
      button('Explore', () => explore(exploreFilter(job)), {
        testid: `submarine-job-explore-${job.id}`,
        className: 'jp-SubmarineJobs-link',
        title: isFanout
          ? 'Its runs in the run explorer: sort, compare, parallel coordinates'
          : 'This run in the run explorer: metrics charts, artifacts'
      })
    );
  }
  links.appendChild(
    button('Show run', () => actions.showRun(job.id), {
      testid: `submarine-job-show-${job.id}`,
      className: 'jp-SubmarineJobs-link',
      title: 'Its page in the Experiments tab: status, logs, metrics'
    })
  );
  item.appendChild(links);
  return item;
}
