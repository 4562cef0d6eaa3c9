/**
 * Form fields generated from a template's `parameters_schema` (a JSON Schema
 * of an object whose properties are strings, integers, numbers or booleans),
 * and the checks of what a person typed in them. Pure: no DOM.
 */
import type { IObjectSchema, IPropertySchema } from './api';

export type FieldKind = 'string' | 'integer' | 'number' | 'boolean' | 'choice';

/** One input of a generated form. */
export interface IField {
  name: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  description: string;
  /** The default, as the input shows it ('' when there is none). */
  initial: string;
  /** Whether the schema gives a default (an empty input then means the default). */
  hasDefault: boolean;
  /** `choice` fields: the allowed values, in order. */
  choices: unknown[];
  minimum?: number;
  maximum?: number;
}

function baseType(prop: IPropertySchema): string {
  const t = Array.isArray(prop.type) ? prop.type.find(x => x !== 'null') : prop.type;
  return typeof t === 'string' ? t : 'string';
}

/** A label from a parameter name: `n_estimators` -> `n estimators`. */
export function labelOf(name: string, prop: IPropertySchema = {}): string {
  if (prop.title) {
    return prop.title;
  }
  return name.replace(/[_-]+/g, ' ').trim() || name;
}

/** The text an input shows for a value. */
export function display(value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}

/**
 * The fields of a form for `schema`, in the order of its properties.
 */
export function fieldsFromSchema(schema: IObjectSchema | undefined | null): IField[] {
  if (!schema || typeof schema !== 'object' || !schema.properties) {
    return [];
  }
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(schema.properties).map(([name, raw]) => {
    const prop: IPropertySchema = raw && typeof raw === 'object' ? raw : {};
    const type = baseType(prop);
    const choices = Array.isArray(prop.enum) ? prop.enum : [];
    let kind: FieldKind;
    if (choices.length > 0) {
      kind = 'choice';
    } else if (type === 'integer' || type === 'number' || type === 'boolean') {
      kind = type;
    } else {
      kind = 'string';
    }
    const hasDefault = prop.default !== undefined;
    return {
      name,
      label: labelOf(name, prop),
      kind,
      required: required.has(name),
      description: typeof prop.description === 'string' ? prop.description : '',
      initial: hasDefault ? display(prop.default) : kind === 'choice' ? display(choices[0]) : '',
      hasDefault,
      choices,
      minimum: typeof prop.minimum === 'number' ? prop.minimum : undefined,
      maximum: typeof prop.maximum === 'number' ? prop.maximum : undefined
    };
  });
}

/** The value of one input as typed (text), or a checkbox (boolean). */
export type RawValue = string | boolean;

export interface IParsed {
  /** Parameters to send: left-out optional inputs are absent (the default applies). */
  values: Record<string, unknown>;
  /** Problems, by field name, in words a person can act on. */
  errors: Record<string, string>;
}

/**
 * Check and convert what was typed into the fields.
 */
export function parseValues(fields: IField[], raw: Record<string, RawValue>): IParsed {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const input = raw[field.name];
    if (field.kind === 'boolean') {
      if (typeof input === 'boolean') {
        values[field.name] = input;
      } else if (input === 'true' || input === 'false') {
        values[field.name] = input === 'true';
      } else if (field.required && !field.hasDefault) {
        errors[field.name] = `${field.label} is required.`;
      }
      continue;
    }
    const text =
      typeof input === 'string' ? input.trim() : input === undefined ? '' : String(input);
    if (text === '') {
      if (field.required && !field.hasDefault) {
        errors[field.name] = `${field.label} is required.`;
      }
      continue;
    }
    if (field.kind === 'choice') {
      const match = field.choices.find(c => display(c) === text);
      if (match === undefined) {
        errors[field.name] =
          `${field.label} must be one of ${field.choices.map(display).join(', ')}.`;
      } else {
        values[field.name] = match;
      }
      continue;
    }
    if (field.kind === 'integer' || field.kind === 'number') {
      const n = Number(text);
      if (!Number.isFinite(n) || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
        errors[field.name] =
          `${field.label} must be a ${field.kind === 'integer' ? 'whole number' : 'number'}.`;
        continue;
      }
      if (field.kind === 'integer' && !Number.isInteger(n)) {
        errors[field.name] = `${field.label} must be a whole number.`;
        continue;
      }
      if (field.minimum !== undefined && n < field.minimum) {
        errors[field.name] = `${field.label} must be at least ${field.minimum}.`;
        continue;
      }
      if (field.maximum !== undefined && n > field.maximum) {
        errors[field.name] = `${field.label} must be at most ${field.maximum}.`;
        continue;
      }
      values[field.name] = n;
      continue;
    }
    values[field.name] = text;
  }
  return { values, errors };
}

/**
 * `key=value` lines (notebook parameters): values that read as JSON (numbers,
 * booleans, quoted strings, lists) are taken as such, anything else as text.
 */
export function parseKeyValues(text: string): IParsed {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  text.split('\n').forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) {
      return;
    }
    const eq = trimmed.indexOf('=');
    const key = eq > 0 ? trimmed.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      errors[`line ${i + 1}`] =
        `Line ${i + 1}: write name=value, with a Python name (letters, digits, _).`;
      return;
    }
    const rawValue = trimmed.slice(eq + 1).trim();
    try {
      values[key] = JSON.parse(rawValue);
    } catch {
      values[key] = rawValue;
    }
  });
  return { values, errors };
}

/**
 * Split a command line into arguments: whitespace separates, single or
 * double quotes group (no other shell syntax).
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | null = null;
  let started = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) {
        quote = null;
      } else {
        current += ch;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) {
        out.push(current);
        current = '';
        started = false;
      }
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) {
    out.push(current);
  }
  return out;
}

/** A run name the API accepts, made from a file or template name. */
export function runName(source: string): string {
  const base = source.split('/').pop() ?? source;
  const stem = base.replace(/\.(ipynb|py)$/i, '');
  const cleaned = stem.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return cleaned.slice(0, 100) || 'run';
}

/**
 * The code folder of a script or notebook run and the file's path inside it.
 *
 * @param file - the file's path in the file browser
 * @param folder - the folder to upload ('' is the home folder)
 */
export function codeLayout(
  file: string,
  folder: string
): { folder: string; entry: string } | { error: string } {
  const f = file.replace(/^\/+|\/+$/g, '');
  const d = folder.replace(/^\/+|\/+$/g, '');
  if (!f) {
    return { error: 'Choose the file to run.' };
  }
  if (d && !f.startsWith(`${d}/`)) {
    return { error: `${f} is not inside the code folder ${d}/.` };
  }
  return { folder: d, entry: d ? f.slice(d.length + 1) : f };
}

/** The folder of a file path ('' for a file in the home folder). */
export function folderOf(file: string): string {
  const f = file.replace(/^\/+|\/+$/g, '');
  const i = f.lastIndexOf('/');
  return i < 0 ? '' : f.slice(0, i);
}
