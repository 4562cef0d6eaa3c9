import { DEFAULT_SIZE, formatNumber, niceTicks, renderChart, scalePoints } from '../chart';

const SIZE = {
  width: 200,
  height: 100,
  padding: { left: 20, right: 0, top: 0, bottom: 20 }
};

describe('niceTicks', () => {
  it('gives round values covering the range', () => {
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 100, 4)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(3, 97, 4)).toEqual([20, 40, 60, 80]);
    expect(niceTicks(0.91, 0.97, 3)).toEqual([0.92, 0.94, 0.96]);
  });

  it('copes with a point and with non-numbers', () => {
    expect(niceTicks(5, 5)).toEqual([5]);
    expect(niceTicks(NaN, 1)).toEqual([]);
  });
});

describe('scalePoints', () => {
  it('maps steps to x and values to y (y grows downwards)', () => {
    const s = scalePoints(
      [
        { step: 0, value: 0 },
        { step: 10, value: 1 },
        { step: 5, value: 0.5 }
      ],
      SIZE
    );
    expect(s.points.map(p => [p.x, p.y])).toEqual([
      [20, 80],
      [110, 40],
      [200, 0]
    ]);
    expect(s.path).toBe('M20,80 L110,40 L200,0');
    expect(s.x).toEqual({ min: 0, max: 10 });
    expect(s.y).toEqual({ min: 0, max: 1 });
    expect(s.xTicks.map(t => t.label)).toEqual(['0', '2', '4', '6', '8', '10']);
    expect(s.yTicks[0]).toEqual({ at: 80, label: '0' });
  });

  it('draws one point, or a flat line, in the middle', () => {
    const one = scalePoints([{ step: 3, value: 0.97 }], SIZE);
    expect(one.points).toHaveLength(1);
    expect(one.points[0].x).toBe(110);
    expect(one.points[0].y).toBe(40);
    expect(one.x).toEqual({ min: 2, max: 4 });
    expect(one.xTicks).toEqual([{ at: 110, label: '3' }]);
    const flat = scalePoints(
      [
        { step: 0, value: 0 },
        { step: 1, value: 0 }
      ],
      SIZE
    );
    expect(flat.y).toEqual({ min: -1, max: 1 });
    expect(flat.points.map(p => p.y)).toEqual([40, 40]);
  });

  it('orders points without a step, and leaves out non-finite values', () => {
    const s = scalePoints(
      [
        { step: null, value: 1 },
        { step: null, value: NaN },
        { step: null, value: 3 }
      ],
      SIZE
    );
    expect(s.points.map(p => [p.step, p.value])).toEqual([
      [0, 1],
      [2, 3]
    ]);
  });

  it('keeps only whole-number ticks for whole-number steps', () => {
    const s = scalePoints(
      [
        { step: 0, value: 1 },
        { step: 2, value: 2 }
      ],
      SIZE
    );
    expect(s.xTicks.map(t => t.label)).toEqual(['0', '1', '2']);
  });

  it('is empty without points', () => {
    const s = scalePoints([], DEFAULT_SIZE);
    expect(s.points).toEqual([]);
    expect(s.path).toBe('');
  });
});

describe('formatNumber', () => {
  it('is short', () => {
    expect(formatNumber(0.973684)).toBe('0.974');
    expect(formatNumber(12345)).toBe('12.3k');
    expect(formatNumber(2500000)).toBe('2.5M');
    expect(formatNumber(0.00012)).toBe('1.2e-4');
    expect(formatNumber(0)).toBe('0');
  });
});

describe('renderChart', () => {
  it('draws an svg with a line, dots and a title', () => {
    const svg = renderChart('loss', [
      { step: 0, value: 1 },
      { step: 1, value: 0.5 }
    ]);
    expect(svg.tagName).toBe('svg');
    expect(svg.getAttribute('role')).toBe('img');
    expect(svg.querySelector('title')?.textContent).toBe('loss: 2 points, last 0.5 at step 1');
    expect(svg.querySelector('path.jp-SubmarineChart-line')).not.toBeNull();
    expect(svg.querySelectorAll('circle')).toHaveLength(2);
  });

  it('draws a single point as a dot', () => {
    const svg = renderChart('accuracy', [{ step: 0, value: 0.97 }]);
    expect(svg.querySelector('path')).toBeNull();
    expect(svg.querySelectorAll('circle')).toHaveLength(1);
  });
});
