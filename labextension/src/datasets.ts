/**
 * The Datasets tab: the datasets of your teams (and shared ones) with their
 * URI, format, size, schema and tags; their lineage on demand (runs that read
 * them, model versions from those runs, endpoints serving those); and "Use for
 * a run", which opens the submit form with the dataset as an input.
 */
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import type { IDataset, ILineage, SubmarineAPI } from './api';
import { ago, button, clear, el, errorBox, keepFocus, size } from './util';

/** An input name for a dataset (a run sees it as $SUBMARINE_INPUT_<NAME>). */
export function inputName(dataset: string): string {
  const name = dataset.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (!name) {
    return 'data';
  }
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** `train.csv → run #3 → iris v1 → endpoint data-science/iris`, one line per kind. */
export function lineageLines(graph: ILineage): { kind: string; label: string; items: string[] }[] {
  const label = (n: ILineage['nodes'][number]): string => {
    const key = n.id.slice(n.id.indexOf(':') + 1);
    if (n.kind === 'run') {
      return `#${key} ${n.name ?? ''}${n.status ? ` (${n.status})` : ''}`.trim();
    }
    if (n.kind === 'model_version') {
      return `${n.model} v${n.version}`;
    }
    if (n.kind === 'endpoint') {
      return `${key}${n.status ? ` (${n.status})` : ''}`;
    }
    return key;
  };
  const kinds: [string, string][] = [
    ['dataset', 'Datasets'],
    ['run', 'Runs that read it'],
    ['model_version', 'Model versions from those runs'],
    ['endpoint', 'Endpoints serving them']
  ];
  return kinds
    .map(([kind, title]) => ({
      kind,
      label: title,
      items: graph.nodes.filter(n => n.kind === kind).map(label)
    }))
    .filter(line => line.items.length > 0);
}

export class DatasetsSection extends Widget {
  constructor(options: DatasetsSection.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-SubmarineDatasets');
    this.node.appendChild(
      el(
        'p',
        'jp-SubmarineEnvironments-intro',
        "Your teams' datasets and the ones shared with every team. Add one with: submarine dataset add NAME URI --team TEAM"
      )
    );
    this._error = el('div', '');
    this.node.appendChild(this._error);
    this._list = el('ul', 'jp-SubmarineEnvironments-list', undefined, 'submarine-datasets');
    this._list.setAttribute('aria-label', 'Datasets');
    this.node.appendChild(this._list);
  }

  get items(): IDataset[] {
    return this._items;
  }

  async refresh(): Promise<void> {
    const call = ++this._calls;
    if (this._items.length === 0) {
      clear(this._list);
      this._list.appendChild(el('li', 'jp-SubmarinePanel-loading', 'Loading…'));
    }
    try {
      const items = await this._options.api.listDatasets();
      if (call !== this._calls) {
        return;
      }
      this._items = items;
      clear(this._error);
    } catch (err) {
      if (call === this._calls) {
        clear(this._list);
        clear(this._error);
        this._error.appendChild(errorBox(err));
      }
      return;
    }
    keepFocus(this.node, () => this._render());
  }

  /** Show (or hide) a dataset's lineage. */
  async toggleLineage(ds: IDataset): Promise<void> {
    if (this._open.has(ds.ref)) {
      this._open.delete(ds.ref);
      this._render();
      return;
    }
    this._open.set(ds.ref, null);
    this._render();
    let result: ILineage | Error;
    try {
      result = await this._options.api.lineage({ dataset: ds.ref });
    } catch (err) {
      result = err as Error;
    }
    if (this._open.has(ds.ref)) {
      this._open.set(ds.ref, result);
      keepFocus(this.node, () => this._render());
    }
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
          'No dataset yet. Register one in a terminal: submarine dataset add NAME URI --team TEAM',
          'submarine-no-datasets'
        )
      );
      return;
    }
    for (const ds of this._items) {
      this._list.appendChild(this._item(ds));
    }
  }

  private _item(ds: IDataset): HTMLElement {
    const li = el('li', 'jp-SubmarineEnvironments-item', undefined, `submarine-dataset-${ds.ref}`);
    const head = el('div', 'jp-SubmarineRuns-line');
    head.appendChild(el('span', 'jp-SubmarineEnvironments-name', ds.name));
    head.appendChild(el('span', 'jp-SubmarinePanel-badge jp-mod-quiet', ds.team));
    if (ds.shared) {
      const shared = el('span', 'jp-SubmarinePanel-badge', 'shared');
      shared.title = 'Every team may read it and use it as an input';
      head.appendChild(shared);
    }
    li.appendChild(head);
    if (ds.description) {
      li.appendChild(el('div', 'jp-SubmarineEnvironments-description', ds.description));
    }
    const uri = el('code', 'jp-SubmarineDatasets-uri', ds.uri, `submarine-dataset-uri-${ds.ref}`);
    uri.title = 'Where the data is; a run gets it as $SUBMARINE_INPUT_<NAME>';
    li.appendChild(uri);
    const facts = [
      ds.format,
      typeof ds.size === 'number' ? size(ds.size) : '',
      ds.owner,
      ago(ds.updated_at ?? ds.created_at)
    ];
    li.appendChild(el('div', 'jp-SubmarineRuns-meta', facts.filter(Boolean).join(' · ')));
    if (ds.tags?.length) {
      li.appendChild(el('div', 'jp-SubmarineRuns-meta', `tags: ${ds.tags.join(', ')}`));
    }
    if (ds.schema && Object.keys(ds.schema).length) {
      const schema = el(
        'div',
        'jp-SubmarineRuns-meta',
        'schema: ' +
          Object.entries(ds.schema)
            .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(', ')
      );
      li.appendChild(schema);
    }

    const actions = el('div', 'jp-SubmarinePanel-toolbar');
    actions.appendChild(
      button('Use for a run', () => this._options.useForRun(ds), {
        accent: true,
        testid: `submarine-use-dataset-${ds.ref}`,
        title: `Open the submit form with ${ds.ref} as an input`
      })
    );
    const open = this._open.has(ds.ref);
    const lineage = button(open ? 'Hide lineage' : 'Lineage', () => void this.toggleLineage(ds), {
      testid: `submarine-dataset-lineage-${ds.ref}`,
      title: 'Runs that read it, model versions from those runs, endpoints serving them'
    });
    lineage.setAttribute('aria-expanded', String(open));
    actions.appendChild(lineage);
    li.appendChild(actions);

    if (open) {
      li.appendChild(this._lineage(ds));
    }
    return li;
  }

  private _lineage(ds: IDataset): HTMLElement {
    const box = el('div', 'jp-SubmarineDatasets-lineage', undefined, `submarine-lineage-${ds.ref}`);
    const graph = this._open.get(ds.ref);
    if (!graph) {
      box.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…'));
      return box;
    }
    if (graph instanceof Error) {
      box.appendChild(errorBox(graph));
      return box;
    }
    const lines = lineageLines(graph).filter(l => l.kind !== 'dataset');
    if (lines.length === 0) {
      box.appendChild(el('p', 'jp-SubmarinePanel-empty', 'No run has read it yet.'));
      return box;
    }
    const dl = el('dl', 'jp-SubmarineRun-facts');
    for (const line of lines) {
      dl.appendChild(el('dt', '', line.label));
      dl.appendChild(el('dd', '', line.items.join(', ')));
    }
    box.appendChild(dl);
    return box;
  }

  private _options: DatasetsSection.IOptions;
  private _error: HTMLElement;
  private _list: HTMLElement;
  private _items: IDataset[] = [];
  private _open = new Map<string, ILineage | Error | null>();
  private _calls = 0;
}

export namespace DatasetsSection {
  export interface IOptions {
    api: SubmarineAPI;
    /** Open the submit form with this dataset as an input. */
    useForRun: (dataset: IDataset) => void;
  }
}
