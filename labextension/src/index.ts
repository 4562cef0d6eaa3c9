import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { getMe } from './api';
import { submarineIcon } from './icons';
import { SubmarinePanel } from './panel';

/**
 * Command ids of the extension.
 */
namespace CommandIDs {
  export const openPanel = 'submarine:open-panel';
}

/**
 * Submarine Hub: a left-sidebar panel with the current user and their teams.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'submarine-hub:plugin',
  description: 'Submarine Hub side panel: who you are and your teams.',
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null) => {
    const settings = app.serviceManager.serverSettings;
    const panel = new SubmarinePanel({ fetchMe: () => getMe(settings) });
    panel.id = 'submarine-hub-panel';
    panel.title.icon = submarineIcon;
    panel.title.caption = 'Submarine';
    app.shell.add(panel, 'left', { rank: 600 });

    app.commands.addCommand(CommandIDs.openPanel, {
      label: 'Open Submarine Panel',
      caption: 'Show your Submarine user and teams',
      icon: submarineIcon,
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    if (palette) {
      palette.addItem({ command: CommandIDs.openPanel, category: 'Submarine' });
    }
  }
};

export default plugin;
