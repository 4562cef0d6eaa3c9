/**
 * Serving from the Models tab: deploy a model version to an endpoint (a new one,
 * or a rolling update of an existing one), and one endpoint's page — status,
 * URL, routes, statistics, log — with a test request box.
 */
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import type { IEndpoint, SubmarineAPI } from './api';
import type { Config } from './config';
import { statusBadge } from './experiments';
import { LogBuffer } from './logs';
import { Poller, ago, button, clear, el, errorBox, errorText, keepFocus } from './util';

/** An endpoint name (a DNS label) suggested by a model name: `Iris_v2` → `iris-v2`. */
export function endpointName(model: string): string {
  const slug = model
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug || 'model';
}

/** Endpoint statuses that change by themselves (the page keeps asking). */
export function isSettling(ep: IEndpoint): boolean {
  if (ep.status === 'starting' || ep.status === 'updating') {
    return true;
  }
  const serving = ep.serving?.generation;
  return ep.status === 'ready' && serving !== undefined && serving !== ep.generation;
}

/** `100% iris v1 (production)` for each route. */
export function routesText(ep: IEndpoint): string {
  return ep.routes
    .map(r => {
      const alias = r.ref && r.ref !== String(r.version) ? ` (${r.ref})` : '';
      return `${Math.round(r.weight)}% ${r.model} v${r.version}${alias}`;
    })
    .join(', ');
}

/**
 * Serve `version` of `team/model` at endpoint `name`: a rolling update when the
 * team has that endpoint running, a new endpoint otherwise.
 */
export async function deploy(
  api: SubmarineAPI,
  team: string,
  model: string,
  version: number,
  name: string
): Promise<{ endpoint: IEndpoint; created: boolean }> {
  const running = await api.listEndpoints(team);
  if (running.some(e => e.name === name)) {
    return { endpoint: await api.updateEndpoint(team, name, { model, version }), created: false };
  }
  return {
    endpoint: await api.createEndpoint({ name, team, model, version }),
    created: true
  };
}

/** What the test request box starts with. */
export const DEFAULT_REQUEST = '{\n  "inputs": [[5.1, 3.5, 1.4, 0.2]]\n}';

/**
 * One endpoint: status (followed while it starts or rolls), URL, routes,
 * statistics, its log, Stop, and a test request.
 */
export class EndpointDetail extends Widget {
  constructor(
    private readonly api: SubmarineAPI,
    config: Config,
    private readonly actions: {
      back: () => void;
      confirm: (title: string, body: string, accept: string) => Promise<boolean>;
      /** Open the endpoint's traffic charts (requests, latency, errors over time). */
      traffic?: (team: string, name: string) => void;
    }
  ) {
    super();
    this.addClass('jp-SubmarineEndpoint');
    this._poller = new Poller(
      () => this._tick(),
      () => this.isVisible,
      config.intervalMs
    );
    config.onChange(() => (this._poller.interval = config.intervalMs));
  }

  /** The endpoint shown (null before the first fetch). */
  get endpoint(): IEndpoint | null {
    return this._endpoint;
  }

  /** Show endpoint `team/name` (from scratch). */
  async load(team: string, name: string): Promise<void> {
    this._ref = { team, name };
    this._endpoint = null;
    this._log = new LogBuffer(50_000);
    this._build();
    this._poller.start();
    await this._poller.refresh();
  }

  async refresh(): Promise<void> {
    await this._poller.refresh();
  }

  /** Send the test request box's body; resolves when the reply is shown. */
  async sendRequest(): Promise<void> {
    const ref = this._ref;
    if (!ref) {
      return;
    }
    clear(this._reply);
    let body: unknown;
    try {
      body = JSON.parse(this._body.value);
    } catch (err) {
      this._body.setAttribute('aria-invalid', 'true');
      this._reply.appendChild(
        errorBox(
          `The request is not JSON (${(err as Error).message}). Write e.g. {"inputs": [[1, 2]]}.`,
          'submarine-predict-error'
        )
      );
      return;
    }
    this._body.removeAttribute('aria-invalid');
    this._send.disabled = true;
    const started = performance.now();
    try {
      const reply = await this.api.predict(ref.team, ref.name, body);
      const ms = Math.round(performance.now() - started);
      this._reply.appendChild(el('div', 'jp-SubmarineRuns-meta', `Answered in ${ms} ms`));
      this._reply.appendChild(
        el(
          'pre',
          'jp-SubmarineEndpoint-reply',
          JSON.stringify(reply, null, 2),
          'submarine-predict-reply'
        )
      );
    } catch (err) {
      this._reply.appendChild(errorBox(err, 'submarine-predict-error'));
    } finally {
      this._send.disabled = false;
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._ref) {
      this._poller.start();
    }
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._poller.stop();
  }

  dispose(): void {
    this._poller.stop();
    super.dispose();
  }

  private _build(): void {
    clear(this.node);
    const nav = el('div', 'jp-SubmarinePanel-toolbar');
    nav.appendChild(
      button('← Models', () => this.actions.back(), {
        testid: 'submarine-endpoint-back',
        title: 'Back to the models and endpoints'
      })
    );
    this.node.appendChild(nav);
    this._head = el('div', 'jp-SubmarineRun-head');
    this._head.appendChild(el('p', 'jp-SubmarinePanel-loading', 'Loading…'));
    this._facts = el('dl', 'jp-SubmarineRun-facts', undefined, 'submarine-endpoint-facts');
    this._message = el('div', 'jp-SubmarineRun-message');
    this._message.setAttribute('aria-live', 'polite');

    const test = el('div', 'jp-SubmarineEndpoint-test');
    test.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Test request'));
    this._body = el(
      'textarea',
      'jp-SubmarinePanel-input jp-SubmarineEndpoint-body',
      undefined,
      'submarine-predict-body'
    );
    this._body.rows = 4;
    this._body.value = DEFAULT_REQUEST;
    this._body.setAttribute('aria-label', 'JSON body of the test request');
    this._body.spellcheck = false;
    this._body.addEventListener('keydown', (e: KeyboardEvent) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void this.sendRequest();
      }
    });
    test.appendChild(this._body);
    const row = el('div', 'jp-SubmarinePanel-toolbar');
    this._send = button('Send', () => void this.sendRequest(), {
      accent: true,
      testid: 'submarine-predict-send',
      title: "POST the body to the endpoint's predict URL (Ctrl+Enter)"
    });
    row.appendChild(this._send);
    test.appendChild(row);
    this._reply = el('div', 'jp-SubmarineEndpoint-replyBox');
    this._reply.setAttribute('aria-live', 'polite');
    test.appendChild(this._reply);

    const logHead = el('div', 'jp-SubmarineRun-logHead');
    logHead.appendChild(el('h3', 'jp-SubmarinePanel-label', 'Log'));
    this._logPre = el('pre', 'jp-SubmarineRun-log', '', 'submarine-endpoint-log');
    this._logPre.tabIndex = 0;
    this._logPre.setAttribute('aria-label', 'Endpoint log');

    for (const node of [this._head, this._message, this._facts, test, logHead, this._logPre]) {
      this.node.appendChild(node);
    }
  }

  private async _tick(): Promise<void> {
    const ref = this._ref;
    if (!ref) {
      return;
    }
    let ep: IEndpoint;
    try {
      ep = await this.api.getEndpoint(ref.team, ref.name);
    } catch (err) {
      if (ref === this._ref) {
        clear(this._head);
        this._head.appendChild(errorBox(err));
      }
      return;
    }
    if (ref !== this._ref) {
      return;
    }
    this._endpoint = ep;
    keepFocus(this.node, () => this._render(ep));
    await this._readLog(ep);
  }

  private _render(ep: IEndpoint): void {
    clear(this._head);
    this._head.appendChild(el('h3', 'jp-SubmarineRun-title', ep.ref, 'submarine-endpoint-title'));
    this._head.appendChild(statusBadge(ep.status, 'submarine-endpoint-status'));
    if (ep.reason && ep.reason !== ep.status) {
      this._head.appendChild(
        el('p', 'jp-SubmarineRun-reason', ep.reason, 'submarine-endpoint-reason')
      );
    }
    const traffic = this.actions.traffic;
    if (traffic) {
      this._head.appendChild(
        button('Traffic', () => traffic(ep.team, ep.name), {
          testid: 'submarine-endpoint-traffic',
          title: 'Requests per second, latency and errors over time'
        })
      );
    }
    if (ep.status !== 'stopped') {
      const stop = button('Stop', () => void this._stop(ep), {
        testid: 'submarine-endpoint-stop',
        title: 'Stop serving (the record and its log stay)',
        className: 'jp-mod-warn'
      });
      this._head.appendChild(stop);
    }

    clear(this._facts);
    const fact = (label: string, value: string | HTMLElement | undefined) => {
      if (value === undefined || value === '') {
        return;
      }
      this._facts.appendChild(el('dt', '', label));
      const dd = el('dd', '');
      if (typeof value === 'string') {
        dd.textContent = value;
      } else {
        dd.appendChild(value);
      }
      this._facts.appendChild(dd);
    };
    const url = el('code', 'jp-SubmarineEndpoint-url', ep.predict_url, 'submarine-endpoint-url');
    url.title = 'POST {"inputs": ...} here with a hub token of a member of the team';
    fact('Predict URL', url);
    fact('Serves', routesText(ep));
    fact('Generation', String(ep.generation));
    const total = ep.stats?.total;
    if (total && typeof total.requests === 'number') {
      fact('Requests', `${total.requests} (${total.errors ?? 0} errors)`);
    }
    fact('Owner', ep.owner);
    fact('Updated', ago(ep.updated_at ?? ep.created_at));
  }

  private async _readLog(ep: IEndpoint): Promise<void> {
    const ref = this._ref;
    try {
      for (let i = 0; i < 5; i++) {
        const chunk = await this.api.endpointLog(ep.team, ep.name, this._log.offset);
        if (ref !== this._ref || chunk.length === 0) {
          return;
        }
        const added = this._log.append(chunk);
        if (this._log.truncated) {
          this._logPre.textContent = this._log.text;
        } else {
          this._logPre.appendChild(document.createTextNode(added));
        }
        this._logPre.scrollTop = this._logPre.scrollHeight;
      }
    } catch (err) {
      if ((err as { status?: number }).status !== 404) {
        this._logPre.textContent = errorText(err);
      }
    }
  }

  private async _stop(ep: IEndpoint): Promise<void> {
    const ok = await this.actions.confirm(
      'Stop this endpoint?',
      `${ep.ref} stops answering predictions; its record and log are kept, and deploying a version to it starts it again.`,
      'Stop'
    );
    if (!ok) {
      return;
    }
    clear(this._message);
    try {
      await this.api.stopEndpoint(ep.team, ep.name);
    } catch (err) {
      this._message.appendChild(errorBox(err));
    }
    await this._poller.refresh();
  }

  private _ref: { team: string; name: string } | null = null;
  private _endpoint: IEndpoint | null = null;
  private _log = new LogBuffer(50_000);
  private _poller: Poller;
  private _head = el('div', '');
  private _facts = el('dl', '');
  private _message = el('div', '');
  private _body = el('textarea', '');
  private _send = el('button', '');
  private _reply = el('div', '');
  private _logPre = el('pre', '');
}
