/**
 * A run's log as the panel follows it: the lab asks for the bytes from
 * `offset` on (`GET experiments/{id}/logs?offset=N`) every few seconds and
 * appends them here. The offset counts bytes, not characters, and a chunk may
 * end inside a UTF-8 character: a streaming decoder keeps the partial bytes
 * for the next chunk. Only the last `maxChars` characters are kept.
 */
export class LogBuffer {
  constructor(maxChars = 200_000) {
    this.maxChars = maxChars;
  }

  readonly maxChars: number;

  /** Bytes received so far: the `offset` of the next request. */
  get offset(): number {
    return this._offset;
  }

  /** The text kept (the log's tail when it was cut). */
  get text(): string {
    return this._text;
  }

  /** Whether the start of the log was dropped to keep within `maxChars`. */
  get truncated(): boolean {
    return this._truncated;
  }

  /**
   * Add a chunk; returns the text it added (decoded so far).
   */
  append(chunk: Uint8Array): string {
    if (chunk.length === 0) {
      return '';
    }
    this._offset += chunk.length;
    const added = this._decoder.decode(chunk, { stream: true });
    this._text += added;
    if (this._text.length > this.maxChars) {
      let cut = this._text.length - this.maxChars;
      // start at a line's beginning when there is one near
      const newline = this._text.indexOf('\n', cut);
      if (newline >= 0 && newline - cut < 1000) {
        cut = newline + 1;
      }
      this._text = this._text.slice(cut);
      this._truncated = true;
    }
    return added;
  }

  /** Start again (another log of the run). */
  reset(): void {
    this._offset = 0;
    this._text = '';
    this._truncated = false;
    this._decoder = new TextDecoder('utf-8');
  }

  private _offset = 0;
  private _text = '';
  private _truncated = false;
  private _decoder = new TextDecoder('utf-8');
}
