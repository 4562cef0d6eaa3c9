/**
 * The status-bar item that says which team and environment this session runs
 * for (the hub's spawn form chose them); a click opens the Submarine panel.
 */
import { Widget } from '@lumino/widgets';

import type { ISessionInfo } from './api';

/** `data-science · pandas-lab`, or `data-science` with the hub's environment. */
export function sessionLabel(info: ISessionInfo): string | null {
  if (!info.team) {
    return null;
  }
  const env = info.environment ? info.environment.split('/').pop() : null;
  return env ? `${info.team} · ${env}` : info.team;
}

export class SessionStatus extends Widget {
  constructor(info: ISessionInfo, onClick: () => void) {
    super();
    this.addClass('jp-SubmarineStatus');
    this.node.dataset.testid = 'submarine-status';
    this.node.textContent = `Submarine: ${sessionLabel(info) ?? 'no team'}`;
    this.node.title =
      info.team === null
        ? 'This session runs for no team.'
        : `This session runs for team ${info.team}` +
          (info.environment ? ` in environment ${info.environment}` : ' in the hub’s environment') +
          '. Runs and jobs you start here default to them. Click to open the Submarine panel.';
    this.node.addEventListener('click', onClick);
  }
}
