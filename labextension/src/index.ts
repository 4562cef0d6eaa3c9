import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, ICommandPalette, Notification, showDialog } from '@jupyterlab/apputils';
import type { IDocumentWidget } from '@jupyterlab/docregistry';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Token } from '@lumino/coreutils';
import type { Widget } from '@lumino/widgets';

import { type IExperiment, SubmarineAPI, sessionDefaults } from './api';
import { Config } from './config';
import { EnvironmentsSection, profileRef } from './environments';
import { ExperimentsSection, RunWatcher } from './experiments';
import { HistorySection } from './history';
import { explorerPlugin } from './explorerplugin';
import { JobsSection, isNotebook } from './jobs';
import { submarineIcon } from './icons';
import { addModelsAndDatasets } from './modelsplugin';
import { type ISection, SubmarinePanel } from './panel';
import { SessionStatus } from './statusitem';
import { UsageSection } from './usage';
import { kindOfPath } from './submit';
import { button } from './util';

export { SubmarineAPI } from './api';
export type { ISection } from './panel';

const PLUGIN_ID = 'submarine-hub:plugin';

/**
 * Command ids of the extension.
 */
export namespace CommandIDs {
  export const openPanel = 'submarine:open-panel';
  export const showExperiments = 'submarine:show-experiments';
  export const submitExperiment = 'submarine:submit-experiment';
  export const showHistory = 'submarine:show-history';
  export const showEnvironments = 'submarine:show-environments';
  export const refresh = 'submarine:refresh';
  export const runAsJob = 'submarine:run-as-job';
}

/**
 * The Submarine sidebar, for other plugins: add a tab (models, datasets, ...),
 * or show one. Submarine's own tabs: `experiments`, `history`, `environments`.
 */
export interface ISubmarine {
  readonly api: SubmarineAPI;
  readonly panel: SubmarinePanel;
  /** Add a tab to the panel (see `ISection`). */
  addSection(section: ISection): void;
  /** Open the panel on a tab. */
  showSection(id: string): void;
  /** Watch a run: a notification comes when it ends. */
  watchRun(run: IExperiment): void;
  /** Open the panel on a run's page (Experiments tab). */
  showRun(id: number): void;
}

export const ISubmarine = new Token<ISubmarine>(
  'submarine-hub:ISubmarine',
  'The Submarine sidebar panel: add tabs to it, open it on a tab.'
);

/** The path of a document widget (without a drive prefix), or null. */
function documentPath(app: JupyterFrontEnd, widget: Widget | null): string | null {
  const context = (widget as Partial<IDocumentWidget> | null)?.context;
  if (!context || typeof context.path !== 'string') {
    return null;
  }
  return app.serviceManager.contents.localPath(context.path);
}

/**
 * Submarine Hub: one left-sidebar panel with who you are and a tab per part of
 * the platform: Experiments, notebook History, Environments.
 */
const plugin: JupyterFrontEndPlugin<ISubmarine> = {
  id: PLUGIN_ID,
  description: 'Submarine Hub side panel: experiments, notebook history and environments.',
  autoStart: true,
  provides: ISubmarine,
  optional: [
    ICommandPalette,
    ISettingRegistry,
    IFileBrowserFactory,
    ILabShell,
    ILayoutRestorer,
    IStatusBar
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    browserFactory: IFileBrowserFactory | null,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    statusBar: IStatusBar | null
  ): ISubmarine => {
    const api = new SubmarineAPI(app.serviceManager.serverSettings);
    const config = new Config();
    const panel = new SubmarinePanel({ fetchMe: () => api.me(true) });
    panel.id = 'submarine-hub-panel';
    panel.title.icon = submarineIcon;
    panel.title.caption = 'Submarine';

    const showSection = (id: string) => {
      app.shell.activateById(panel.id);
      panel.activateSection(id);
    };

    const watcher = new RunWatcher(api, config, run => {
      if (!config.value.notifyOnFinish) {
        return;
      }
      const ended = run.status === 'succeeded' ? 'succeeded' : run.status;
      const text = `Run #${run.id} ${run.name} ${ended}` + (run.reason ? `: ${run.reason}` : '.');
      const type =
        run.status === 'succeeded' ? 'success' : run.status === 'failed' ? 'error' : 'warning';
      Notification.emit(text, type, {
        autoClose: run.status === 'succeeded' ? 10_000 : false,
        actions: [
          {
            label: 'Show run',
            caption: `Open run ${run.id} in the Submarine panel`,
            callback: () => {
              showSection('experiments');
              void experiments.showRun(run.id);
            }
          }
        ]
      });
    });

    const confirm = async (title: string, body: string, accept: string) => {
      const result = await showDialog({
        title,
        body,
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: accept })]
      });
      return result.button.accept;
    };
    // the watcher above shows a run on this tab (it calls back only after this line)
    const experiments = new ExperimentsSection({
      api,
      config,
      watcher,
      confirm,
      runActions: run => [
        ...models.runActions(run),
        // the run explorer's views of this run (explorerplugin.ts)
        button(
          'Artifacts',
          () => void app.commands.execute('submarine:run-artifacts', { id: run.id }),
          {
            testid: 'submarine-run-artifacts',
            title: "Browse the run's artifacts with previews"
          }
        ),
        button(
          'Explore runs',
          () =>
            void app.commands.execute('submarine:open-run-explorer', {
              filter: run.parent_id
                ? `attributes.parent_id = ${run.parent_id}`
                : `attributes.run_id = ${run.id}`
            }),
          {
            testid: 'submarine-run-explore',
            title: 'Open the runs table on this run (or its sweep)'
          }
        )
      ]
    });
    panel.addSection({
      id: 'experiments',
      label: 'Experiments',
      widget: experiments,
      rank: 10,
      refresh: () => experiments.refresh()
    });

    const openDocuments = (path: string): IDocumentWidget[] => {
      const found: IDocumentWidget[] = [];
      for (const w of app.shell.widgets('main')) {
        if (documentPath(app, w) === path) {
          found.push(w as unknown as IDocumentWidget);
        }
      }
      return found;
    };
    const reloadOpen = async (path: string) => {
      await Promise.all(openDocuments(path).map(w => w.context.revert()));
    };
    const history = new HistorySection({
      api,
      currentPath: () => documentPath(app, app.shell.currentWidget),
      restoreInSession: async (path, version) => {
        await app.serviceManager.contents.restoreCheckpoint(path, String(version));
        await reloadOpen(path);
      },
      reloadOpen,
      confirm
    });
    panel.addSection({
      id: 'history',
      label: 'History',
      widget: history,
      rank: 20,
      refresh: () => history.refresh()
    });

    const environments = new EnvironmentsSection({
      api,
      useForRun: env => {
        panel.activateSection('experiments');
        void experiments.showSubmit({ environment: profileRef(env), team: env.team ?? undefined });
      }
    });
    panel.addSection({
      id: 'environments',
      label: 'Environments',
      widget: environments,
      rank: 30,
      refresh: () => environments.refresh()
    });
    const usage = new UsageSection({ api });
    panel.addSection({
      id: 'usage',
      label: 'Usage',
      widget: usage,
      rank: 35,
      refresh: async () => {
        await usage.refresh();
      }
    });
    // a team's budget past its warning threshold (or spent): say so once at start
    void usage.refresh().then(items => {
      for (const t of items) {
        if (t.budget && t.budget.state !== 'ok' && t.budget.message) {
          const notify = t.budget.state === 'spent' ? Notification.error : Notification.warning;
          notify(t.budget.message, { autoClose: false });
        }
      }
    });
    const showRun = (id: number) => {
      showSection('experiments');
      void experiments.showRun(id);
    };
    const jobs = new JobsSection({
      api,
      config,
      currentPath: () => documentPath(app, app.shell.currentWidget),
      saveIfDirty: async path => {
        await Promise.all(
          openDocuments(path)
            .filter(w => w.context.model.dirty)
            .map(w => w.context.save())
        );
      },
      openFile: path => app.commands.execute('docmanager:open', { path }),
      showRun,
      explore: filter => void app.commands.execute('submarine:open-run-explorer', { filter }),
      watchRun: run => watcher.watch(run),
      confirm
    });
    panel.addSection({
      id: 'jobs',
      label: 'Jobs',
      widget: jobs,
      rank: 25,
      refresh: () => jobs.refresh()
    });
    // Models and Datasets tabs, "Register as model…" (see modelsplugin.ts)
    const models = addModelsAndDatasets({
      app,
      api,
      config,
      panel,
      experiments,
      showSection,
      confirm,
      selectedPath: () => selectedPath(),
      palette
    });
    panel.activateSection('experiments');
    app.shell.add(panel, 'left', { rank: 600 });
    if (restorer) {
      restorer.add(panel, 'submarine-hub-panel');
    }

    // the history follows the document in the main area, its saves and its renames
    const followed = new WeakSet<object>();
    const follow = () => {
      const widget = app.shell.currentWidget;
      const path = documentPath(app, widget);
      if (!path) {
        return;
      }
      if (history.isVisible) {
        history.follow(path);
      }
      if (jobs.isVisible) {
        jobs.follow(path);
      }
      const context = (widget as unknown as IDocumentWidget).context;
      if (!followed.has(context)) {
        followed.add(context);
        context.saveState.connect((_: unknown, state: string) => {
          if (
            state === 'completed' &&
            history.isVisible &&
            history.path === documentPath(app, widget)
          ) {
            void history.refresh();
          }
        });
        // a rename (or Save As) moves the document: its history follows it
        context.pathChanged.connect(() => {
          if (app.shell.currentWidget === widget) {
            follow();
          }
        });
      }
    };
    labShell?.currentChanged.connect(follow);

    // which file the file browser's context menu was opened on
    const selectedPath = (): string | null => {
      const browser = browserFactory?.tracker.currentWidget;
      const item = browser?.selectedItems().next();
      return item && !item.done && item.value.type !== 'directory' ? item.value.path : null;
    };

    const { commands } = app;
    commands.addCommand(CommandIDs.openPanel, {
      label: 'Open Submarine Panel',
      caption: 'Show the Submarine panel: experiments, notebook history, environments',
      icon: submarineIcon,
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    commands.addCommand(CommandIDs.showExperiments, {
      label: 'Show Experiments',
      caption: "Your teams' experiment runs, live",
      execute: () => {
        showSection('experiments');
        experiments.showList();
      }
    });
    commands.addCommand(CommandIDs.submitExperiment, {
      label: args => (args.fromBrowser ? 'Submit as Experiment…' : 'Submit Experiment…'),
      caption: 'Run a template, a script or a notebook as an experiment',
      icon: args => (args.fromBrowser ? undefined : submarineIcon),
      execute: args => {
        const path =
          (args.path as string | undefined) ?? (args.fromBrowser ? selectedPath() : null);
        showSection('experiments');
        return experiments.showSubmit({
          path: path ?? undefined,
          kind: path ? (kindOfPath(path) ?? undefined) : undefined,
          template: args.template as string | undefined,
          environment: args.environment as string | undefined
        });
      }
    });
    commands.addCommand(CommandIDs.showHistory, {
      label: args => (args.fromBrowser ? 'Show History' : 'Show Notebook History'),
      caption: 'The versions of a notebook or file: diff two, restore one',
      execute: async args => {
        const path =
          (args.path as string | undefined) ??
          (args.fromBrowser ? selectedPath() : documentPath(app, app.shell.currentWidget));
        showSection('history');
        if (path) {
          await history.setFile(path, true);
        }
      }
    });
    commands.addCommand(CommandIDs.showEnvironments, {
      label: 'Show Environments',
      caption: 'The environment profiles you can use',
      execute: () => showSection('environments')
    });
    commands.addCommand(CommandIDs.runAsJob, {
      label: 'Run as Job…',
      caption: 'Run a notebook as a job: now, on a schedule or over a grid of parameters',
      icon: args => (args.fromBrowser ? undefined : submarineIcon),
      execute: async args => {
        const path =
          (args.path as string | undefined) ??
          (args.fromBrowser ? selectedPath() : documentPath(app, app.shell.currentWidget));
        showSection('jobs');
        if (isNotebook(path)) {
          await jobs.setNotebook(path);
        }
      }
    });
    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Submarine Panel',
      execute: () => panel.refresh()
    });
    if (palette) {
      for (const command of [
        CommandIDs.openPanel,
        CommandIDs.showExperiments,
        CommandIDs.submitExperiment,
        CommandIDs.showHistory,
        CommandIDs.showEnvironments,
        CommandIDs.runAsJob,
        CommandIDs.refresh
      ]) {
        palette.addItem({ command, category: 'Submarine' });
      }
    }
    app.contextMenu.addItem({
      command: CommandIDs.showHistory,
      args: { fromBrowser: true },
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 60
    });
    for (const type of ['notebook', 'python']) {
      app.contextMenu.addItem({
        command: CommandIDs.submitExperiment,
        args: { fromBrowser: true },
        selector: `.jp-DirListing-item[data-file-type="${type}"]`,
        rank: 61
      });
    }

    app.contextMenu.addItem({
      command: CommandIDs.runAsJob,
      args: { fromBrowser: true },
      selector: '.jp-DirListing-item[data-file-type="notebook"]',
      rank: 62
    });

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => config.update(settings.composite as Record<string, unknown>);
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.warn('Submarine: could not load the settings; using the defaults.', reason);
        });
    }

    // which team and environment this session runs for
    if (statusBar) {
      void sessionDefaults(api).then(info => {
        if (info.team === null) {
          return;
        }
        statusBar.registerStatusItem('submarine-hub:session', {
          item: new SessionStatus(info, () => app.shell.activateById(panel.id)),
          align: 'left',
          rank: 50
        });
      });
    }

    return {
      api,
      panel,
      addSection: section => panel.addSection(section),
      showSection,
      watchRun: run => watcher.watch(run),
      showRun
    };
  }
};

export default [plugin, explorerPlugin];
