import { Config, DEFAULT_CONFIG, readConfig } from '../config';
import { Poller, ago, duration, keepFocus, size } from '../util';

describe('Poller', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ticks every interval while active, never two at once', async () => {
    let active = true;
    let release: () => void = () => undefined;
    const tick = jest.fn(() => new Promise<void>(resolve => (release = resolve)));
    const poller = new Poller(tick, () => active, 2000);
    poller.start();
    expect(tick).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(2000);
    expect(tick).toHaveBeenCalledTimes(1);
    // still busy: a refresh joins the running tick
    const joined = poller.refresh();
    expect(tick).toHaveBeenCalledTimes(1);
    release();
    await joined;
    await jest.advanceTimersByTimeAsync(2000);
    expect(tick).toHaveBeenCalledTimes(2);
    release();
    active = false;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(tick).toHaveBeenCalledTimes(2);
    active = true;
    await jest.advanceTimersByTimeAsync(2000);
    expect(tick).toHaveBeenCalledTimes(3);
    release();
    poller.stop();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(tick).toHaveBeenCalledTimes(3);
    expect(poller.running).toBe(false);
  });

  it('survives a failing tick and follows a changed interval', async () => {
    const tick = jest.fn(async () => {
      throw new Error('boom');
    });
    const poller = new Poller(tick, () => true, 1000);
    poller.start();
    await jest.advanceTimersByTimeAsync(1000);
    poller.interval = 5000;
    await jest.advanceTimersByTimeAsync(1000); // the wait already scheduled
    expect(tick).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(4000);
    expect(tick).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1000);
    expect(tick).toHaveBeenCalledTimes(3);
    poller.stop();
  });
});

describe('settings', () => {
  it('bounds what the registry gives', () => {
    expect(readConfig({})).toEqual(DEFAULT_CONFIG);
    expect(readConfig({ refreshInterval: 0, pageSize: 9999, notifyOnFinish: false })).toEqual({
      ...DEFAULT_CONFIG,
      refreshInterval: 0.5,
      pageSize: 500,
      notifyOnFinish: false
    });
    expect(readConfig({ refreshInterval: 'soon' }).refreshInterval).toBe(2);
  });

  it('tells listeners about changes', () => {
    const config = new Config();
    const seen: number[] = [];
    config.onChange(v => seen.push(v.refreshInterval));
    config.update({ refreshInterval: 5 });
    expect(seen).toEqual([5]);
    expect(config.intervalMs).toBe(5000);
  });
});

describe('wording', () => {
  it('says how long ago, how long, how big', () => {
    const now = Date.parse('2024-01-01T12:00:00Z');
    expect(ago('2024-01-01T11:59:30Z', now)).toBe('30 s ago');
    expect(ago('2024-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(ago('2024-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(ago('2023-12-29T12:00:00Z', now)).toBe('3 d ago');
    expect(ago(null, now)).toBe('');
    expect(duration(4.4)).toBe('4 s');
    expect(duration(65)).toBe('1 min 5 s');
    expect(duration(7260)).toBe('2 h 1 min');
    expect(duration(null)).toBe('');
    expect(size(999)).toBe('999 B');
    expect(size(1234)).toBe('1.23 kB');
    expect(size(5_600_000)).toBe('5.6 MB');
  });
});

describe('keepFocus', () => {
  it('gives the focus back to the rebuilt element', () => {
    const root = document.createElement('div');
    document.body.appendChild(root);
    root.innerHTML = '<button data-testid="kill">Kill</button>';
    (root.firstChild as HTMLElement).focus();
    keepFocus(root, () => {
      root.innerHTML = '<button data-testid="kill">Kill</button>';
    });
    expect(document.activeElement).toBe(root.firstChild);
    root.remove();
  });
});
