import { PageConfig } from '@jupyterlab/coreutils';
import { Widget } from '@lumino/widgets';

import type { IMe } from '../api';
import { SubmarinePanel, errorText, renderError, renderLoading, renderMe } from '../panel';

const byTestId = (node: HTMLElement, id: string): HTMLElement | null =>
  node.querySelector(`[data-testid="${id}"]`);

const ALICE: IMe = {
  name: 'alice',
  kind: 'user',
  admin: true,
  teams: [
    { name: 'data-science', description: 'Models and notebooks' },
    { name: 'platform', description: '' }
  ],
  scopes: ['read:me'],
  server_time: '2024-01-01T00:00:00Z'
};

describe('renderMe', () => {
  it('renders the user, the admin badge and one item per team', () => {
    const node = document.createElement('div');
    renderMe(node, ALICE);

    expect(byTestId(node, 'submarine-user')?.textContent).toBe('alice');
    expect(byTestId(node, 'submarine-admin')?.textContent).toBe('admin');

    const items = Array.from(
      byTestId(node, 'submarine-teams')!.querySelectorAll('li.jp-SubmarinePanel-team')
    ) as HTMLElement[];
    expect(items.map(li => li.textContent)).toEqual(['data-science', 'platform']);
    expect(items[0].title).toBe('Models and notebooks');
    expect(items[1].hasAttribute('title')).toBe(false);
    expect(node.textContent).not.toContain('You are not in any team yet.');
  });

  it('shows no admin badge for a regular user', () => {
    const node = document.createElement('div');
    renderMe(node, { ...ALICE, name: 'bob', admin: false });
    expect(byTestId(node, 'submarine-user')?.textContent).toBe('bob');
    expect(byTestId(node, 'submarine-admin')).toBeNull();
  });

  it("links each team's room in a hub session, saying code there runs as the team", () => {
    const node = document.createElement('div');
    renderMe(node, ALICE);
    expect(byTestId(node, 'submarine-rooms')).toBeNull(); // no hub: no rooms
    PageConfig.setOption('hubPrefix', '/hub/');
    try {
      renderMe(node, ALICE);
    } finally {
      PageConfig.setOption('hubPrefix', '');
    }
    const link = byTestId(node, 'submarine-room-data-science') as HTMLAnchorElement;
    expect(link.getAttribute('href')).toBe('/services/submarine/rooms/data-science');
    expect(link.target).toBe('_blank');
    expect(link.title).toContain('runs as the team');
  });

  it('says so when the user is in no team', () => {
    const node = document.createElement('div');
    renderMe(node, { name: 'carol', kind: 'user', admin: false, teams: [], scopes: [] });
    expect(byTestId(node, 'submarine-teams')!.children).toHaveLength(0);
    expect(node.textContent).toContain('You are not in any team yet.');
  });

  it('escapes names instead of injecting HTML', () => {
    const node = document.createElement('div');
    renderMe(node, {
      name: '<b>x</b>',
      admin: false,
      teams: [{ name: '<i>t</i>', description: '' }],
      kind: 'user',
      scopes: []
    });
    expect(node.querySelector('b')).toBeNull();
    expect(node.querySelector('i')).toBeNull();
    expect(byTestId(node, 'submarine-user')?.textContent).toBe('<b>x</b>');
  });

  it('replaces earlier content', () => {
    const node = document.createElement('div');
    renderLoading(node);
    expect(node.textContent).toBe('Loading…');
    renderMe(node, ALICE);
    expect(node.textContent).not.toContain('Loading');
  });
});

describe('renderError', () => {
  it('renders a person-readable message for an unreachable service', () => {
    const node = document.createElement('div');
    renderError(node, new TypeError('Failed to fetch'));
    const box = byTestId(node, 'submarine-error');
    expect(box?.textContent).toBe(
      'Could not reach the Submarine service: Failed to fetch. Check your connection and try again.'
    );
    expect(box?.getAttribute('role')).toBe('alert');
    expect(byTestId(node, 'submarine-user')).toBeNull();
  });

  it('shows the server message and status of a server failure', () => {
    const err = Object.assign(new Error('platform service is down'), { status: 502 });
    expect(errorText(err)).toBe(
      'The Submarine service answered with an error (HTTP 502): platform service is down. ' +
        'Try again in a moment; if it persists, tell your hub admin.'
    );
  });

  it("shows a refusal's message as it is: it says what to do", () => {
    const err = Object.assign(new Error("You are not a member of team 'ml-platform'."), {
      status: 403
    });
    expect(errorText(err)).toBe("You are not a member of team 'ml-platform'.");
    const expired = Object.assign(new Error('Unauthorized'), { status: 401 });
    expect(errorText(expired)).toBe(
      'Your login has expired (Unauthorized). Reload the page to log in again.'
    );
  });

  it("shows the panel's own refusals as they are, never as a network error", () => {
    expect(errorText('"Prod!" is no alias: use 1-64 lowercase letters.')).toBe(
      '"Prod!" is no alias: use 1-64 lowercase letters.'
    );
  });

  it('copes with non-Error values', () => {
    expect(errorText(undefined)).toBe(
      'Could not reach the Submarine service: unknown error. Check your connection and try again.'
    );
  });
});

describe('SubmarinePanel', () => {
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it('has a header and a refresh button', () => {
    const panel = new SubmarinePanel({ fetchMe: async () => ALICE });
    expect(panel.node.querySelector('h2')?.textContent).toBe('Submarine');
    expect(byTestId(panel.node, 'submarine-refresh')?.textContent).toBe('Refresh');
    panel.dispose();
  });

  it('loads the first time it is shown, and again on Refresh', async () => {
    const fetchMe = jest.fn(async () => ALICE);
    const panel = new SubmarinePanel({ fetchMe });
    panel.hide();
    Widget.attach(panel, document.body);
    expect(fetchMe).not.toHaveBeenCalled();

    panel.show();
    expect(fetchMe).toHaveBeenCalledTimes(1);
    expect(panel.contentNode.textContent).toBe('Loading…');
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(byTestId(panel.node, 'submarine-user')?.textContent).toBe('alice');

    // Showing it again does not refetch.
    panel.hide();
    panel.show();
    expect(fetchMe).toHaveBeenCalledTimes(1);

    byTestId(panel.node, 'submarine-refresh')!.click();
    expect(fetchMe).toHaveBeenCalledTimes(2);
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(byTestId(panel.node, 'submarine-teams')!.children).toHaveLength(2);
    panel.dispose();
  });

  it('renders an error when the fetch fails', async () => {
    const panel = new SubmarinePanel({
      fetchMe: () => Promise.reject(new Error('connection refused'))
    });
    await panel.refresh();
    expect(byTestId(panel.node, 'submarine-error')?.textContent).toBe(
      'Could not reach the Submarine service: connection refused. Check your connection and try again.'
    );
    expect((byTestId(panel.node, 'submarine-refresh') as HTMLButtonElement).disabled).toBe(false);
    panel.dispose();
  });

  it('shows one tab per section, by rank, and switches with clicks and arrow keys', () => {
    const panel = new SubmarinePanel({ fetchMe: async () => ALICE });
    Widget.attach(panel, document.body);
    const refreshed = jest.fn();
    const a = new Widget();
    const b = new Widget();
    const c = new Widget();
    panel.addSection({ id: 'history', label: 'History', widget: b, rank: 20, refresh: refreshed });
    panel.addSection({ id: 'experiments', label: 'Experiments', widget: a, rank: 10 });
    panel.addSection({ id: 'models', label: 'Models', widget: c, rank: 40 });
    const tabs = () =>
      Array.from(panel.node.querySelectorAll('[role="tab"]')).map(t => [
        t.textContent,
        t.getAttribute('aria-selected')
      ]);
    // the first added stays shown; tabs are in rank order
    expect(tabs()).toEqual([
      ['Experiments', 'false'],
      ['History', 'true'],
      ['Models', 'false']
    ]);
    expect(b.isHidden).toBe(false);
    expect(a.isHidden).toBe(true);
    byTestId(panel.node, 'submarine-tab-experiments')!.click();
    expect(panel.current).toBe('experiments');
    expect(a.isHidden).toBe(false);
    expect(b.isHidden).toBe(true);

    const bar = byTestId(panel.node, 'submarine-tabs')!;
    bar.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    expect(panel.current).toBe('history');
    expect(document.activeElement?.id).toBe('submarine-tab-history');
    bar.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
    expect(panel.current).toBe('models');
    bar.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    expect(panel.current).toBe('experiments');
    bar.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
    expect(panel.current).toBe('models');
    expect(a.node.getAttribute('role')).toBe('tabpanel');
    expect(() =>
      panel.addSection({ id: 'models', label: 'Again', widget: new Widget() })
    ).toThrow();

    panel.activateSection('history');
    void panel.refresh();
    expect(refreshed).toHaveBeenCalledTimes(1);
    panel.dispose();
  });

  it('drops the reply of an older call', async () => {
    let resolveFirst: (me: IMe) => void = () => undefined;
    const fetchMe = jest
      .fn<Promise<IMe>, []>()
      .mockImplementationOnce(() => new Promise<IMe>(resolve => (resolveFirst = resolve)))
      .mockImplementationOnce(async () => ({
        name: 'new',
        kind: 'user',
        admin: false,
        teams: [],
        scopes: []
      }));
    const panel = new SubmarinePanel({ fetchMe });
    const first = panel.refresh();
    await panel.refresh();
    resolveFirst({ name: 'old', kind: 'user', admin: false, teams: [], scopes: [] });
    await first;
    expect(byTestId(panel.node, 'submarine-user')?.textContent).toBe('new');
    panel.dispose();
  });
});
