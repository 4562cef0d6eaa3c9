import { Widget } from '@lumino/widgets';

import type { IMe } from '../api';
import {
  SubmarinePanel,
  errorText,
  renderError,
  renderLoading,
  renderMe
} from '../panel';

const byTestId = (node: HTMLElement, id: string): HTMLElement | null =>
  node.querySelector(`[data-testid="${id}"]`);

const ALICE: IMe = {
  name: 'alice',
  admin: true,
  teams: [
    { name: 'data-science', description: 'Models and notebooks' },
    { name: 'platform' }
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

  it('says so when the user is in no team', () => {
    const node = document.createElement('div');
    renderMe(node, { name: 'carol', admin: false, teams: [] });
    expect(byTestId(node, 'submarine-teams')!.children).toHaveLength(0);
    expect(node.textContent).toContain('You are not in any team yet.');
  });

  it('escapes names instead of injecting HTML', () => {
    const node = document.createElement('div');
    renderMe(node, { name: '<b>x</b>', admin: false, teams: [{ name: '<i>t</i>' }] });
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
    expect(box?.textContent).toBe('Could not reach the Submarine service: Failed to fetch');
    expect(byTestId(node, 'submarine-user')).toBeNull();
  });

  it('shows the server message and status of an error reply', () => {
    const err = Object.assign(new Error('platform service is down'), { status: 502 });
    expect(errorText(err)).toBe(
      'The Submarine service answered with an error (HTTP 502): platform service is down'
    );
  });

  it('copes with non-Error values', () => {
    expect(errorText('boom')).toBe('Could not reach the Submarine service: boom');
    expect(errorText(undefined)).toBe('Could not reach the Submarine service: unknown error');
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
      'Could not reach the Submarine service: connection refused'
    );
    expect((byTestId(panel.node, 'submarine-refresh') as HTMLButtonElement).disabled).toBe(
      false
    );
    panel.dispose();
  });

  it('drops the reply of an older call', async () => {
    let resolveFirst: (me: IMe) => void = () => undefined;
    const fetchMe = jest
      .fn<Promise<IMe>, []>()
      .mockImplementationOnce(() => new Promise<IMe>(resolve => (resolveFirst = resolve)))
      .mockImplementationOnce(async () => ({ name: 'new', admin: false, teams: [] }));
    const panel = new SubmarinePanel({ fetchMe });
    const first = panel.refresh();
    await panel.refresh();
    resolveFirst({ name: 'old', admin: false, teams: [] });
    await first;
    expect(byTestId(panel.node, 'submarine-user')?.textContent).toBe('new');
    panel.dispose();
  });
});
