/**
 * The "Register as model…" dialog: the register form in a JupyterLab dialog
 * that stays open, with the reason shown, while the service refuses.
 */
import { Dialog } from '@jupyterlab/apputils';

import type { IModelVersion, SubmarineAPI } from './api';
import { RegisterModelForm, type RegisterSource } from './register';

/** Its Register button registers first, and closes the dialog only when that worked. */
class RegisterDialog extends Dialog<void> {
  constructor(
    private readonly form: RegisterModelForm,
    private readonly done: (version: IModelVersion) => void
  ) {
    super({
      title: 'Register as model',
      body: form,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Register' })],
      defaultButton: 1
    });
    this.addClass('jp-SubmarineRegisterDialog');
  }

  resolve(index?: number): void {
    if (index === 0 || this._busy) {
      if (index === 0) {
        super.resolve(0);
      }
      return;
    }
    this._busy = true;
    void this.form
      .submit()
      .then(version => {
        if (version) {
          this.done(version);
          super.resolve(1);
        }
      })
      .finally(() => {
        this._busy = false;
      });
  }

  private _busy = false;
}

/**
 * Ask where to register `source`, register it; resolves with the new version,
 * or null when cancelled.
 */
export async function showRegisterDialog(
  api: SubmarineAPI,
  source: RegisterSource
): Promise<IModelVersion | null> {
  const form = new RegisterModelForm({ api, source });
  let registered: IModelVersion | null = null;
  const dialog = new RegisterDialog(form, version => (registered = version));
  const opened = form.open().then(() => form.focusFirst());
  await Promise.all([dialog.launch(), opened]);
  return registered;
}
