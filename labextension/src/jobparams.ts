/**
 * What the Jobs tab does with a notebook's parameters, apart from the DOM:
 * the text an input starts with, checking what was typed against the
 * parameter's type (as the service will), grids of values, the service's 400
 * message mapped back to the fields, and a readable cron expression.
 */
import type { INotebookParameter } from './api';

/** At most this many runs per fan-out (the service's limit). */
export const MAX_FANOUT = 100;

const WORDS: Record<string, string> = {
  int: 'a whole number (int)',
  float: 'a number (float)',
  bool: 'true or false (bool)',
  str: 'text (str)',
  list: 'a JSON list, like [1, 2]',
  dict: 'a JSON object, like {"a": 1}'
};

/** What a parameter's value must be, in words. */
export function typeWords(type: string): string {
  return WORDS[type] ?? 'any value (JSON or text)';
}

/** The text an input starts with: the default as a value ('' when it is not a literal). */
export function initialText(p: INotebookParameter): string {
  const d = p.default;
  if (d === null || d === undefined) {
    return '';
  }
  if (typeof d === 'string') {
    return d;
  }
  return typeof d === 'number' || typeof d === 'boolean' ? String(d) : JSON.stringify(d);
}

/** A checked value, or why not. */
export type Checked = { ok: true; value: unknown } | { ok: false; error: string };

const INT = /^[-+]?\d+$/;
const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const TRUE = ['true', 'yes', 'on', '1'];
const FALSE = ['false', 'no', 'off', '0'];

/**
 * `raw` (what was typed, or a checkbox's state) as `p`'s type.
 */
export function checkValue(p: INotebookParameter, raw: string | boolean): Checked {
  const bad = (): Checked => ({
    ok: false,
    error: `${p.name} must be ${typeWords(p.type)}, not ${JSON.stringify(raw)}.`
  });
  if (typeof raw === 'boolean') {
    return p.type === 'bool' || p.type === 'any' ? { ok: true, value: raw } : bad();
  }
  const text = raw.trim();
  if ((p.nullable || p.type === 'any') && (text === 'None' || text === 'null')) {
    return { ok: true, value: null };
  }
  switch (p.type) {
    case 'int':
      return INT.test(text) ? { ok: true, value: parseInt(text, 10) } : bad();
    case 'float':
      return FLOAT.test(text) && Number.isFinite(Number(text))
        ? { ok: true, value: Number(text) }
        : bad();
    case 'bool': {
      const t = text.toLowerCase();
      return TRUE.includes(t)
        ? { ok: true, value: true }
        : FALSE.includes(t)
          ? { ok: true, value: false }
          : bad();
    }
    case 'str':
      return { ok: true, value: raw };
    case 'list':
    case 'dict': {
      const parsed = parseJSON(text);
      const isList = Array.isArray(parsed);
      const isDict = parsed !== null && typeof parsed === 'object' && !isList;
      return (p.type === 'list' ? isList : isDict) ? { ok: true, value: parsed } : bad();
    }
    default: {
      const parsed = parseJSON(text);
      return { ok: true, value: parsed === undefined ? raw : parsed };
    }
  }
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface ICollected {
  /** Values to send: those that differ from the notebook's defaults. */
  values: Record<string, unknown>;
  /** Problems, by parameter name. */
  errors: Record<string, string>;
}

/**
 * Check every input; an empty input (but a checkbox) keeps the notebook's default,
 * and a value equal to the default is not sent.
 */
export function collectValues(
  params: INotebookParameter[],
  raw: Record<string, string | boolean>
): ICollected {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const p of params) {
    const input = raw[p.name];
    if (input === undefined || (typeof input === 'string' && input.trim() === '')) {
      continue;
    }
    const checked = checkValue(p, input);
    if (!checked.ok) {
      errors[p.name] = checked.error;
    } else if (JSON.stringify(checked.value) !== JSON.stringify(p.default)) {
      values[p.name] = checked.value;
    }
  }
  return { values, errors };
}

/**
 * A grid input: values separated by commas, or a JSON list (for values that hold
 * commas, such as lists). Each value is checked as the parameter's type.
 */
export function parseGridValues(
  p: INotebookParameter,
  text: string
): { ok: true; values: unknown[] } | { ok: false; error: string } {
  const trimmed = text.trim();
  let parts: (string | boolean)[];
  if (trimmed.startsWith('[') && p.type !== 'list') {
    const parsed = parseJSON(trimmed);
    if (!Array.isArray(parsed)) {
      return { ok: false, error: `${p.name}: write values separated by commas, or a JSON list.` };
    }
    parts = parsed.map(v =>
      typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v)
    );
  } else if (p.type === 'list') {
    const parsed = parseJSON(trimmed);
    if (!Array.isArray(parsed) || !parsed.every(Array.isArray)) {
      return { ok: false, error: `${p.name}: write a JSON list of lists, like [[1, 2], [3]].` };
    }
    return { ok: true, values: parsed };
  } else {
    parts = trimmed.split(',').map(s => s.trim());
  }
  if (parts.length === 0 || parts.some(s => s === '')) {
    return {
      ok: false,
      error: `${p.name}: an empty value in the list; separate values by commas.`
    };
  }
  const values: unknown[] = [];
  for (const part of parts) {
    const checked = checkValue(p, part);
    if (!checked.ok) {
      return { ok: false, error: checked.error };
    }
    values.push(checked.value);
  }
  return { ok: true, values };
}

/** The number of runs a grid makes. */
export function gridSize(grid: Record<string, unknown[]>): number {
  const lists = Object.values(grid);
  return lists.length ? lists.reduce((n, l) => n * l.length, 1) : 0;
}

/**
 * The problems the service named in a 400 ("Bad notebook parameters: 'alpha' must
 * be a float (a number), not 'fast'; unknown parameter 'lr'. ..."), by parameter.
 */
export function fieldErrorsFromMessage(message: string, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const start = message.indexOf('Bad notebook parameters:');
  if (start < 0) {
    return out;
  }
  let body = message.slice(start + 'Bad notebook parameters:'.length);
  const end = body.search(/\. (The notebook|The notebook has no)/);
  if (end >= 0) {
    body = body.slice(0, end);
  }
  for (const raw of body.split(';')) {
    const part = raw.trim().replace(/^set \d+:\s*/, '');
    const m =
      /^'([A-Za-z_][A-Za-z0-9_]*)' must be/.exec(part) ?? /unknown parameter '([^']+)'/.exec(part);
    if (m && names.includes(m[1]) && !out[m[1]]) {
      out[m[1]] = `${part.charAt(0).toUpperCase()}${part.slice(1)}${part.endsWith('.') ? '' : '.'}`;
    }
  }
  return out;
}

/** `a=1, b="x"`: parameters in short. */
export function parametersText(values: Record<string, unknown> | null | undefined): string {
  return Object.entries(values ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

// --- cron --------------------------------------------------------------------------

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December'
];

function isNum(f: string): boolean {
  return /^\d+$/.test(f);
}

function every(f: string): number | null {
  const m = /^\*\/(\d+)$/.exec(f);
  return m ? Number(m[1]) : null;
}

function dayName(f: string): string | null {
  const n = Number(f);
  return isNum(f) && n >= 0 && n <= 7 ? DAYS[n % 7] : null;
}

function daysText(dow: string): string | null {
  const range = /^(\d)-(\d)$/.exec(dow);
  if (range && dayName(range[1]) && dayName(range[2])) {
    return `${dayName(range[1])} to ${dayName(range[2])}`;
  }
  const names = dow.split(',').map(dayName);
  return names.every(Boolean) ? `on ${names.join(', ')}` : null;
}

function pad(n: string): string {
  return n.padStart(2, '0');
}

/**
 * A cron expression (5 fields, or 6 with seconds first) in words, for the common
 * shapes; null when it is not one of them (the service still checks it).
 */
export function describeCron(cron: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return null;
  }
  const [sec, min, hour, dom, mon, dow] = fields.length === 6 ? fields : ['0', ...fields];
  let when: string;
  const stepSec = every(sec);
  if (fields.length === 6 && (stepSec || sec === '*') && min === '*' && hour === '*') {
    when = stepSec && stepSec > 1 ? `Every ${stepSec} seconds` : 'Every second';
  } else if (!isNum(sec)) {
    return null;
  } else if (min === '*' && hour === '*') {
    when = 'Every minute';
  } else if (every(min) && hour === '*') {
    when = `Every ${every(min)} minutes`;
  } else if (isNum(min) && hour === '*') {
    when = `Every hour at minute ${Number(min)}`;
  } else if (isNum(min) && every(hour)) {
    when = `Every ${every(hour)} hours at minute ${Number(min)}`;
  } else if (isNum(min) && /^\d+(,\d+)*$/.test(hour)) {
    const times = hour.split(',').map(h => `${pad(h)}:${pad(min)}`);
    when = `At ${times.join(' and ')}`;
  } else {
    return null;
  }
  const parts = [when];
  if (dom === '*' && dow === '*') {
    if (mon === '*' && /^At /.test(when)) {
      parts.push('every day');
    }
  } else if (dom !== '*' && dow === '*') {
    if (!/^\d+(,\d+)*$/.test(dom)) {
      return null;
    }
    parts.push(`on day ${dom.split(',').join(', ')} of the month`);
  } else if (dom === '*') {
    const days = daysText(dow);
    if (!days) {
      return null;
    }
    parts.push(days);
  } else {
    return null;
  }
  if (mon !== '*') {
    const months = mon.split(',').map(m => MONTHS[Number(m) - 1]);
    if (!months.every(Boolean)) {
      return null;
    }
    parts.push(`in ${months.join(', ')}`);
  }
  return parts.join(' ');
}

/** The IANA time zones the browser knows (for the time zone input's suggestions). */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : [];
  } catch {
    return [];
  }
}

/** The browser's own time zone, or UTC. */
export function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}
