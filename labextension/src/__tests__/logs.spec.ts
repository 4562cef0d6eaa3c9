import { LogBuffer } from '../logs';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('LogBuffer', () => {
  it('accumulates chunks and counts the offset in bytes', () => {
    const log = new LogBuffer();
    expect(log.offset).toBe(0);
    expect(log.append(bytes('training on iris\n'))).toBe('training on iris\n');
    expect(log.offset).toBe(17);
    log.append(bytes('accuracy 0.97\n'));
    expect(log.offset).toBe(31);
    expect(log.text).toBe('training on iris\naccuracy 0.97\n');
    expect(log.append(new Uint8Array(0))).toBe('');
    expect(log.offset).toBe(31);
  });

  it('counts bytes, not characters, for non-ASCII text', () => {
    const log = new LogBuffer();
    log.append(bytes('über 5 €\n'));
    expect(log.text).toBe('über 5 €\n');
    expect(log.offset).toBe(bytes('über 5 €\n').length); // 12, not 9
  });

  it('keeps a character split between two chunks whole', () => {
    const log = new LogBuffer();
    const all = bytes('a€b');
    expect(all.length).toBe(5);
    expect(log.append(all.slice(0, 2))).toBe('a'); // half of the euro sign
    expect(log.offset).toBe(2);
    expect(log.append(all.slice(2))).toBe('€b');
    expect(log.text).toBe('a€b');
    expect(log.offset).toBe(5);
  });

  it('keeps only the tail, from a line start, when the log grows too big', () => {
    const log = new LogBuffer(20);
    log.append(bytes('line one\nline two\nline three\n'));
    expect(log.truncated).toBe(true);
    expect(log.text).toBe('line three\n');
    expect(log.offset).toBe(29);
  });

  it('starts over on reset', () => {
    const log = new LogBuffer(5);
    log.append(bytes('0123456789'));
    log.reset();
    expect([log.offset, log.text, log.truncated]).toEqual([0, '', false]);
  });
});
