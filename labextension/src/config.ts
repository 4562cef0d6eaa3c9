/**
 * The extension's settings (schema/plugin.json), as the views read them.
 */
export interface ISubmarineConfig {
  /** Seconds between two refreshes of a shown list, run or log. */
  refreshInterval: number;
  /** Show a notification when a run you watch ends. */
  notifyOnFinish: boolean;
  /** Runs fetched per page of the experiment list. */
  pageSize: number;
  /** Characters of a run's log kept in the panel (its tail). */
  logMaxChars: number;
}

export const DEFAULT_CONFIG: ISubmarineConfig = {
  refreshInterval: 2,
  notifyOnFinish: true,
  pageSize: 50,
  logMaxChars: 200_000
};

function num(v: unknown, fallback: number, min: number, max: number): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) {
    return fallback;
  }
  return Math.min(max, Math.max(min, n));
}

/**
 * Settings from the registry (any shape), checked and bounded.
 */
export function readConfig(raw: Record<string, unknown> | null | undefined): ISubmarineConfig {
  const r = raw ?? {};
  return {
    refreshInterval: num(r.refreshInterval, DEFAULT_CONFIG.refreshInterval, 0.5, 600),
    notifyOnFinish:
      typeof r.notifyOnFinish === 'boolean' ? r.notifyOnFinish : DEFAULT_CONFIG.notifyOnFinish,
    pageSize: Math.round(num(r.pageSize, DEFAULT_CONFIG.pageSize, 1, 500)),
    logMaxChars: Math.round(num(r.logMaxChars, DEFAULT_CONFIG.logMaxChars, 1000, 10_000_000))
  };
}

/**
 * The settings the views share: one object, changed in place when the
 * registry changes, so every poll reads the current interval.
 */
export class Config {
  constructor(initial: Partial<ISubmarineConfig> = {}) {
    this.value = { ...DEFAULT_CONFIG, ...initial };
  }

  value: ISubmarineConfig;

  /** Milliseconds between refreshes. */
  get intervalMs(): number {
    return this.value.refreshInterval * 1000;
  }

  update(raw: Record<string, unknown> | null | undefined): void {
    this.value = readConfig(raw);
    for (const listener of this._listeners) {
      listener(this.value);
    }
  }

  onChange(listener: (value: ISubmarineConfig) => void): void {
    this._listeners.push(listener);
  }

  private _listeners: ((value: ISubmarineConfig) => void)[] = [];
}
