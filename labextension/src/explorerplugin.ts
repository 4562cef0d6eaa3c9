/**
 * The run explorer's plugin: commands that open the runs table, a comparison
 * and a run's artifacts in JupyterLab's main area.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IFrame, MainAreaWidget, showErrorMessage } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Widget } from '@lumino/widgets';

import { SubmarineAPI, requestAPI } from './api';
import { ArtifactsView, CompareView, RunsTable } from './explorer';
import { submarineIcon } from './icons';
import { PipelineView } from './pipelineview';
import { showRegisterDialog } from './registerdialog';
import { StudiesList, StudyView, type IStudyActions } from './studies';
import { EndpointTrafficView } from './traffic';

export namespace ExplorerCommandIDs {
  export const open = 'submarine:open-run-explorer';
  export const compare = 'submarine:compare-runs';
  export const artifacts = 'submarine:run-artifacts';
  export const pipeline = 'submarine:show-pipeline';
  export const tensorboard = 'submarine:open-tensorboard';
  export const studies = 'submarine:open-studies';
  export const study = 'submarine:open-study';
  export const traffic = 'submarine:endpoint-traffic';
}

function show<T extends Widget>(
  app: JupyterFrontEnd,
  content: T,
  id: string,
  label: string
): MainAreaWidget<T> {
  const widget = new MainAreaWidget({ content });
  widget.id = id;
  widget.title.label = label;
  widget.title.icon = submarineIcon;
  widget.title.closable = true;
  app.shell.add(widget, 'main');
  app.shell.activateById(widget.id);
  return widget;
}

export const explorerPlugin: JupyterFrontEndPlugin<void> = {
  id: 'submarine-hub:run-explorer',
  description: 'The run explorer: search, compare and browse runs in the main area.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    palette: ICommandPalette | null
  ): void => {
    const api = new SubmarineAPI(app.serviceManager.serverSettings);
    let table: MainAreaWidget<RunsTable> | null = null;
    let opened = 0;
    const actions = {
      compare: (ids: number[]) => void app.commands.execute(ExplorerCommandIDs.compare, { ids }),
      artifacts: (run: { id: number }) =>
        void app.commands.execute(ExplorerCommandIDs.artifacts, { id: run.id }),
      pipeline: (id: number) => void app.commands.execute(ExplorerCommandIDs.pipeline, { id }),
      tensorboard: (ids: number[]) =>
        void app.commands.execute(ExplorerCommandIDs.tensorboard, { ids })
    };
    app.commands.addCommand(ExplorerCommandIDs.open, {
      label: 'Submarine: Explore runs',
      caption: 'Search, sort and compare runs (MLflow filter syntax)',
      execute: async args => {
        if (!table || table.isDisposed) {
          table = show(app, new RunsTable(api, actions), 'submarine-run-explorer', 'Runs');
        } else {
          app.shell.activateById(table.id);
        }
        if (typeof args.filter === 'string') {
          table.content.filter = args.filter;
        }
        if (Array.isArray(args.order_by)) {
          table.content.orderBy = args.order_by as string[];
        }
        await table.content.search();
      }
    });
    app.commands.addCommand(ExplorerCommandIDs.compare, {
      label: 'Submarine: Compare runs',
      execute: async args => {
        const ids = ((args.ids as number[] | undefined) ?? []).map(Number).filter(Boolean);
        if (!ids.length) {
          return;
        }
        const view = new CompareView(api, rendermime, ids);
        show(app, view, `submarine-compare-${++opened}`, `Compare ${ids.length} runs`);
        await view.load();
      }
    });
    app.commands.addCommand(ExplorerCommandIDs.artifacts, {
      label: 'Submarine: Run artifacts',
      execute: async args => {
        const id = Number(args.id);
        if (!id) {
          return;
        }
        const view = new ArtifactsView(api, rendermime, id);
        show(app, view, `submarine-artifacts-${id}-${++opened}`, `Run #${id} artifacts`);
        await view.load();
      }
    });
    app.commands.addCommand(ExplorerCommandIDs.pipeline, {
      label: 'Submarine: Show pipeline',
      execute: async args => {
        const id = Number(args.id);
        if (!id) {
          return;
        }
        const view = new PipelineView(api, rendermime, id);
        show(app, view, `submarine-pipeline-${id}-${++opened}`, `Pipeline #${id}`);
        await view.load();
      }
    });
    app.commands.addCommand(ExplorerCommandIDs.tensorboard, {
      label: 'Submarine: Open TensorBoard',
      execute: async args => {
        const ids = ((args.ids as number[] | undefined) ?? []).map(Number).filter(Boolean);
        if (!ids.length) {
          return;
        }
        let board: { key: string; url: string };
        try {
          board = await requestAPI(
            'tensorboards',
            {
              method: 'POST',
              body: JSON.stringify({ runs: ids }),
              headers: { 'Content-Type': 'application/json' }
            },
            api.settings
          );
        } catch (err) {
          await showErrorMessage('TensorBoard', (err as Error).message);
          return;
        }
        // TensorBoard's page runs scripts and fetches its data from the hub's origin
        const frame = new IFrame({
          sandbox: ['allow-scripts', 'allow-same-origin', 'allow-popups']
        });
        frame.url = board.url;
        frame.addClass('jp-SubmarineTensorBoard');
        frame.node.setAttribute('data-testid', 'tensorboard-frame');
        show(
          app,
          frame,
          `submarine-tensorboard-${board.key}-${++opened}`,
          `TensorBoard ${ids.map(i => `#${i}`).join(' ')}`
        );
      }
    });
    // tuning studies (studies.ts): the list, and a study's page
    const studyActions: IStudyActions = {
      open: id => void app.commands.execute(ExplorerCommandIDs.study, { id }),
      run: id =>
        void app.commands.execute(ExplorerCommandIDs.open, { filter: `attributes.run_id = ${id}` }),
      register: async runId =>
        showRegisterDialog(api, { kind: 'run', run: await api.getExperiment(runId) })
    };
    let studies: MainAreaWidget<StudiesList> | null = null;
    app.commands.addCommand(ExplorerCommandIDs.studies, {
      label: 'Submarine: Tuning studies',
      caption: "The team's hyper-parameter tuning studies",
      execute: async () => {
        if (!studies || studies.isDisposed) {
          studies = show(app, new StudiesList(api, studyActions), 'submarine-studies', 'Studies');
        } else {
          app.shell.activateById(studies.id);
        }
        await studies.content.load();
      }
    });
    app.commands.addCommand(ExplorerCommandIDs.study, {
      label: 'Submarine: Open study',
      execute: async args => {
        const id = Number(args.id);
        if (!id) {
          return;
        }
        const view = new StudyView(api, rendermime, id, studyActions);
        show(app, view, `submarine-study-${id}-${++opened}`, `Study #${id}`);
        await view.load();
      }
    });
    // an endpoint's requests, latency and errors over time (from its page in the panel)
    app.commands.addCommand(ExplorerCommandIDs.traffic, {
      label: 'Submarine: Endpoint traffic',
      caption: "An endpoint's requests per second, latency and errors over time",
      execute: async args => {
        const team = String(args.team ?? '');
        const name = String(args.name ?? '');
        if (!team || !name) {
          return;
        }
        const id = `submarine-traffic-${team}-${name}`;
        const open = Array.from(app.shell.widgets('main')).find(w => w.id === id);
        if (open) {
          app.shell.activateById(id);
          await (open as MainAreaWidget<EndpointTrafficView>).content.refresh();
          return;
        }
        const view = new EndpointTrafficView(api, rendermime, team, name);
        show(app, view, id, `${team}/${name} traffic`);
        await view.load();
      }
    });
    palette?.addItem({ command: ExplorerCommandIDs.open, category: 'Submarine' });
    palette?.addItem({ command: ExplorerCommandIDs.studies, category: 'Submarine' });
  }
};
