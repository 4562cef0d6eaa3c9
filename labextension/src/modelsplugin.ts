/**
 * The Models and Datasets tabs in the panel, their commands, and "Register as
 * model…" in the file browser's context menu and on a run's page.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { type ICommandPalette, Notification } from '@jupyterlab/apputils';

import type { IExperiment, IModelVersion, SubmarineAPI } from './api';
import type { Config } from './config';
import { DatasetsSection, inputName } from './datasets';
import type { ExperimentsSection } from './experiments';
import { ModelsSection } from './models';
import type { SubmarinePanel } from './panel';
import type { RegisterSource } from './register';
import { showRegisterDialog } from './registerdialog';
import { button } from './util';

export namespace ModelCommandIDs {
  export const showModels = 'submarine:show-models';
  export const registerModel = 'submarine:register-model';
  export const showDatasets = 'submarine:show-datasets';
}

export interface IModelsPluginOptions {
  app: JupyterFrontEnd;
  api: SubmarineAPI;
  config: Config;
  panel: SubmarinePanel;
  experiments: ExperimentsSection;
  showSection: (id: string) => void;
  confirm: (title: string, body: string, accept: string) => Promise<boolean>;
  /** The file the file browser's context menu was opened on. */
  selectedPath: () => string | null;
  palette: ICommandPalette | null;
}

export function addModelsAndDatasets(options: IModelsPluginOptions): {
  models: ModelsSection;
  datasets: DatasetsSection;
  runActions: (run: IExperiment) => HTMLElement[];
} {
  const { app, api, panel, experiments, showSection } = options;

  const registered = (version: IModelVersion) => {
    const [team, ...rest] = version.model.split('/');
    const name = rest.join('/');
    showSection('models');
    void models.showModel(team, name);
    Notification.emit(`Registered ${version.model} version ${version.version}.`, 'success', {
      autoClose: 5000
    });
  };
  const register = async (source: RegisterSource) => {
    const version = await showRegisterDialog(api, source);
    if (version) {
      registered(version);
    }
  };

  const models = new ModelsSection({
    api,
    config: options.config,
    actions: {
      register: () => void register({ kind: 'file', path: '' }),
      openRun: id => {
        showSection('experiments');
        void experiments.showRun(id);
      },
      confirm: options.confirm,
      traffic: (team, name) =>
        void app.commands.execute('submarine:endpoint-traffic', { team, name })
    }
  });
  panel.addSection({
    id: 'models',
    label: 'Models',
    widget: models,
    rank: 40,
    refresh: () => models.refresh()
  });

  const datasets = new DatasetsSection({
    api,
    useForRun: ds => {
      showSection('experiments');
      void api.me().then(me =>
        experiments.showSubmit({
          inputs: [{ name: inputName(ds.name), dataset: ds.ref }],
          team: me.teams.some(t => t.name === ds.team) ? ds.team : undefined
        })
      );
    }
  });
  panel.addSection({
    id: 'datasets',
    label: 'Datasets',
    widget: datasets,
    rank: 50,
    refresh: () => datasets.refresh()
  });

  const { commands } = app;
  commands.addCommand(ModelCommandIDs.showModels, {
    label: 'Show Models',
    caption: "Your teams' registered models and serving endpoints",
    execute: () => {
      showSection('models');
      models.showList();
    }
  });
  commands.addCommand(ModelCommandIDs.registerModel, {
    label: args => (args.fromBrowser ? 'Register as model…' : 'Register Model…'),
    caption: 'Register a file of your session as a new model version (args: path)',
    execute: args => {
      const path =
        (args.path as string | undefined) ??
        (args.fromBrowser ? options.selectedPath() : null) ??
        '';
      return register({ kind: 'file', path });
    }
  });
  commands.addCommand(ModelCommandIDs.showDatasets, {
    label: 'Show Datasets',
    caption: "Your teams' datasets (and shared ones); use one for a run",
    execute: () => showSection('datasets')
  });
  if (options.palette) {
    for (const command of Object.values(ModelCommandIDs)) {
      options.palette.addItem({ command, category: 'Submarine' });
    }
  }
  app.contextMenu.addItem({
    command: ModelCommandIDs.registerModel,
    args: { fromBrowser: true },
    selector: '.jp-DirListing-item[data-isdir="false"]',
    rank: 62
  });

  const runActions = (run: IExperiment): HTMLElement[] =>
    run.status === 'succeeded'
      ? [
          button('Register as model…', () => void register({ kind: 'run', run }), {
            testid: 'submarine-run-register-model',
            title: "Register this run's output files as a new model version"
          })
        ]
      : [];

  return { models, datasets, runActions };
}
