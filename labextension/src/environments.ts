/**
 * The Environments tab: the environment profiles you can use (global ones and
 * your teams'), and "Use for a run", which opens the submit form with it.
 */
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import type { IEnvironment, SubmarineAPI } from './api';
import { button, clear, el, errorBox } from './util';

/** `2 CPU · 4G · 1 GPU` from a profile's resources. */
export function resourcesText(resources: Record<string, unknown> | undefined): string {
  const r = resources ?? {};
  const bits: string[] = [];
  if (r.cpu !== undefined && r.cpu !== null) {
    bits.push(`${r.cpu} CPU`);
  }
  if (r.memory !== undefined && r.memory !== null) {
    bits.push(String(r.memory));
  }
  if (typeof r.gpus === 'number' && r.gpus > 0) {
    bits.push(`${r.gpus} GPU${r.gpus > 1 ? 's' : ''}`);
  }
  return bits.join(' · ');
}

/**
 * Fill a `<select>` with the profiles a run of `team` may use: "Default" (none), the
 * global ones and the team's; the chosen one stays chosen if it still fits.
 */
export function fillProfileOptions(
  select: HTMLSelectElement,
  environments: IEnvironment[],
  team: string
): void {
  const previous = select.value;
  clear(select);
  const none = el('option', '', 'Default');
  none.value = '';
  select.appendChild(none);
  for (const env of environments) {
    if (env.team && env.team !== team) {
      continue;
    }
    const ref = profileRef(env);
    const option = el('option', '', env.team ? ref : `${ref} (global)`);
    option.value = ref;
    select.appendChild(option);
  }
  if (Array.from(select.options).some(o => o.value === previous)) {
    select.value = previous;
  }
}

/** The ref a run names a profile by: `team/name`, or `name` for a global one. */
export function profileRef(env: IEnvironment): string {
  return env.team ? env.ref || `${env.team}/${env.name}` : env.name;
}

export class EnvironmentsSection extends Widget {
  constructor(options: EnvironmentsSection.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-SubmarineEnvironments');
    this.node.appendChild(
      el(
        'p',
        'jp-SubmarineEnvironments-intro',
        'What a session or a run runs in: packages, an image on Kubernetes, default resources. Create and change them with the submarine env command.'
      )
    );
    this._list = el('ul', 'jp-SubmarineEnvironments-list', undefined, 'submarine-environments');
    this._list.setAttribute('aria-label', 'Environment profiles');
    this.node.appendChild(this._list);
  }

  get items(): IEnvironment[] {
    return this._items;
  }

  async refresh(): Promise<void> {
    const call = ++this._calls;
    clear(this._list);
    this._list.appendChild(el('li', 'jp-SubmarinePanel-loading', 'Loading…'));
    try {
      const items = await this._options.api.listEnvironments();
      if (call !== this._calls) {
        return;
      }
      this._items = items;
    } catch (err) {
      if (call === this._calls) {
        clear(this._list);
        this._list.appendChild(errorBox(err));
      }
      return;
    }
    this._render();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  private _render(): void {
    clear(this._list);
    if (this._items.length === 0) {
      this._list.appendChild(
        el(
          'li',
          'jp-SubmarinePanel-empty',
          'No environment profile yet. Create one in a terminal: submarine env create NAME --team TEAM --package PACKAGE',
          'submarine-no-environments'
        )
      );
      return;
    }
    for (const env of this._items) {
      const ref = profileRef(env);
      const li = el(
        'li',
        'jp-SubmarineEnvironments-item',
        undefined,
        `submarine-environment-${ref}`
      );
      const head = el('div', 'jp-SubmarineRuns-line');
      head.appendChild(el('span', 'jp-SubmarineEnvironments-name', ref));
      head.appendChild(
        el('span', 'jp-SubmarinePanel-badge jp-mod-quiet', env.team ? env.team : 'global')
      );
      if (env.build?.state) {
        const state = el(
          'span',
          `jp-SubmarineStatus jp-SubmarineStatus-build-${env.build.state}`,
          env.build.state
        );
        state.title = env.build.error
          ? `Build failed: ${env.build.error}`
          : `Build: ${env.build.state}`;
        head.appendChild(state);
      }
      li.appendChild(head);
      if (env.description) {
        li.appendChild(el('div', 'jp-SubmarineEnvironments-description', env.description));
      }
      const facts: string[] = [];
      const res = resourcesText(env.resources);
      if (res) {
        facts.push(res);
      }
      if (env.image) {
        facts.push(`image ${env.image}`);
      }
      if (env.conda) {
        facts.push('conda');
      }
      if (facts.length) {
        li.appendChild(el('div', 'jp-SubmarineRuns-meta', facts.join(' · ')));
      }
      if (env.packages?.length) {
        const shown = env.packages.slice(0, 6).join(', ');
        const more = env.packages.length > 6 ? ` and ${env.packages.length - 6} more` : '';
        const pkgs = el('div', 'jp-SubmarineEnvironments-packages', `${shown}${more}`);
        pkgs.title = env.packages.join('\n');
        li.appendChild(pkgs);
      }
      const use = button('Use for a run', () => this._options.useForRun(env), {
        testid: `submarine-use-environment-${ref}`,
        title: `Open the submit form with ${ref}`
      });
      li.appendChild(use);
      this._list.appendChild(li);
    }
  }

  private _options: EnvironmentsSection.IOptions;
  private _list: HTMLElement;
  private _items: IEnvironment[] = [];
  private _calls = 0;
}

export namespace EnvironmentsSection {
  export interface IOptions {
    api: SubmarineAPI;
    /** Open the submit form with this profile chosen. */
    useForRun: (env: IEnvironment) => void;
  }
}
