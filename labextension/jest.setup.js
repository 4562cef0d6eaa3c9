// jsdom has no DragEvent, which @lumino/dragdrop (pulled in by
// @lumino/widgets) subclasses when it is loaded.
if (typeof globalThis.DragEvent === 'undefined') {
  globalThis.DragEvent = class DragEvent extends MouseEvent {
    constructor(type, init = {}) {
      super(type, init);
      this.dataTransfer = init.dataTransfer || null;
    }
  };
}

// jsdom (as jest 29 ships it) has no TextDecoder/TextEncoder: take Node's.
if (typeof globalThis.TextDecoder === 'undefined') {
  const { TextDecoder, TextEncoder } = require('util');
  globalThis.TextDecoder = TextDecoder;
  globalThis.TextEncoder = TextEncoder;
}
