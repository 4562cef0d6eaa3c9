/**
 * A form's labelled rows, each with a place for its error under it (tied to its
 * control by `aria-describedby`): the submit form's and the Jobs tab's.
 */
import { el } from './util';

/** The rows of one form, keyed by the name its errors are shown by. */
export class FieldRows {
  /** `uid` makes the controls' ids unique in the page (one per form). */
  constructor(
    readonly uid: string,
    private readonly _options: FieldRows.IOptions = {}
  ) {}

  /** Forget every row (the form is drawn again). */
  reset(): void {
    this._fields.clear();
  }

  /** Forget the rows whose key starts with `prefix` (a part of the form drawn again). */
  forget(prefix: string): void {
    for (const key of Array.from(this._fields.keys())) {
      if (key.startsWith(prefix)) {
        this._fields.delete(key);
      }
    }
  }

  /**
   * A labelled row of `control` with a place for its error (and an optional hint);
   * editing the control hides its error.
   */
  row(
    label: string | HTMLElement,
    control: HTMLElement,
    key: string,
    hint?: string,
    title?: string
  ): HTMLElement {
    const id = `${this.uid}-${key}`;
    control.id = id;
    if (title) {
      control.title = title;
    }
    const row = el('div', 'jp-SubmarineSubmit-row');
    const l = el('label', 'jp-SubmarineSubmit-label');
    l.htmlFor = id;
    if (typeof label === 'string') {
      l.textContent = label;
    } else {
      l.appendChild(label);
    }
    row.appendChild(l);
    row.appendChild(control);
    const described: string[] = [];
    if (hint) {
      const h = el('div', 'jp-SubmarineSubmit-hint', hint);
      h.id = `${id}-hint`;
      described.push(h.id);
      row.appendChild(h);
    }
    const testId = `${this._options.errorTestId ?? 'submarine-field-error-'}${key}`;
    const error = el('div', 'jp-SubmarineSubmit-fieldError', '', testId);
    error.id = `${id}-error`;
    error.hidden = true;
    described.push(error.id);
    row.appendChild(error);
    control.setAttribute('aria-describedby', described.join(' '));
    // a changed input is no longer wrong as far as we know
    const clearError = () => {
      hide(control, error);
      this._options.onEdit?.();
    };
    control.addEventListener('input', clearError);
    control.addEventListener('change', clearError);
    this._fields.set(key, { control, error });
    return row;
  }

  /** Hide every row's error. */
  clearErrors(): void {
    for (const { control, error } of this._fields.values()) {
      hide(control, error);
    }
  }

  /**
   * Show each error under the row `keyOf(name)` (the name itself unless told) and
   * focus the first such row; errors of no row are left to the caller.
   */
  showErrors(errors: Record<string, string>, keyOf: (name: string) => string = name => name): void {
    let first: HTMLElement | null = null;
    for (const [name, message] of Object.entries(errors)) {
      const field = this._fields.get(keyOf(name));
      if (!field) {
        continue;
      }
      field.error.textContent = message;
      field.error.hidden = false;
      field.control.setAttribute('aria-invalid', 'true');
      first = first ?? field.control;
    }
    first?.focus();
  }

  private _fields = new Map<string, { control: HTMLElement; error: HTMLElement }>();
}

export namespace FieldRows {
  export interface IOptions {
    /** The `data-testid` of a row's error, before its key (`submarine-field-error-`). */
    errorTestId?: string;
    /** Called when a control is edited (after its error is hidden). */
    onEdit?: () => void;
  }
}

function hide(control: HTMLElement, error: HTMLElement): void {
  error.hidden = true;
  error.textContent = '';
  control.removeAttribute('aria-invalid');
}
