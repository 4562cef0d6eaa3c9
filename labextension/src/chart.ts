/**
 * A small SVG line chart of a metric's history: the scaling is pure (and
 * tested); the drawing uses JupyterLab's CSS variables, so it follows the theme.
 */
import type { IMetricPoint } from './api';

export interface IChartSize {
  width: number;
  height: number;
  /** Room for the axis labels: left, right, top, bottom. */
  padding: { left: number; right: number; top: number; bottom: number };
}

export const DEFAULT_SIZE: IChartSize = {
  width: 260,
  height: 140,
  padding: { left: 44, right: 10, top: 10, bottom: 22 }
};

export interface IScaled {
  /** Drawn points, in SVG coordinates. */
  points: { x: number; y: number; step: number; value: number }[];
  /** The `d` of the line's path ('' with no point). */
  path: string;
  /** Ranges shown (after padding a flat range). */
  x: { min: number; max: number };
  y: { min: number; max: number };
  xTicks: { at: number; label: string }[];
  yTicks: { at: number; label: string }[];
}

/**
 * About `count` round tick values covering [min, max].
 */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    return [];
  }
  if (min === max) {
    return [min];
  }
  const span = max - min;
  const raw = span / Math.max(1, count);
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const residual = raw / magnitude;
  // d3's rule: the round step nearest (geometrically) to the raw one
  const step =
    (residual >= Math.sqrt(50)
      ? 10
      : residual >= Math.sqrt(10)
        ? 5
        : residual >= Math.sqrt(2)
          ? 2
          : 1) * magnitude;
  const first = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

/** A short label for a number: 3 significant digits, k/M for big ones. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) {
    return String(v);
  }
  const a = Math.abs(v);
  if (a >= 1e6) {
    return `${Number((v / 1e6).toPrecision(3))}M`;
  }
  if (a >= 1e4) {
    return `${Number((v / 1e3).toPrecision(3))}k`;
  }
  if (a !== 0 && a < 1e-3) {
    return v.toExponential(1);
  }
  return String(Number(v.toPrecision(3)));
}

/**
 * Scale a metric's points into the chart's box. Points without a step are
 * placed by their order; non-finite values are left out. A single point or a
 * flat line gets a range around its value, so it is drawn mid-height.
 */
export function scalePoints(input: IMetricPoint[], size: IChartSize = DEFAULT_SIZE): IScaled {
  const data = input
    .map((p, i) => ({ step: typeof p.step === 'number' ? p.step : i, value: p.value }))
    .filter(p => Number.isFinite(p.value) && Number.isFinite(p.step))
    .sort((a, b) => a.step - b.step);
  const { width, height, padding } = size;
  const left = padding.left;
  const right = width - padding.right;
  const top = padding.top;
  const bottom = height - padding.bottom;
  if (data.length === 0) {
    return {
      points: [],
      path: '',
      x: { min: 0, max: 1 },
      y: { min: 0, max: 1 },
      xTicks: [],
      yTicks: []
    };
  }
  let xMin = data[0].step;
  let xMax = data[data.length - 1].step;
  let yMin = Math.min(...data.map(p => p.value));
  let yMax = Math.max(...data.map(p => p.value));
  if (xMin === xMax) {
    xMin -= 1;
    xMax += 1;
  }
  if (yMin === yMax) {
    const pad = Math.abs(yMin) > 0 ? Math.abs(yMin) * 0.1 : 1;
    yMin -= pad;
    yMax += pad;
  }
  const sx = (v: number) => left + ((v - xMin) / (xMax - xMin)) * (right - left);
  const sy = (v: number) => bottom - ((v - yMin) / (yMax - yMin)) * (bottom - top);
  const round = (v: number) => Math.round(v * 100) / 100;
  const points = data.map(p => ({ x: round(sx(p.step)), y: round(sy(p.value)), ...p }));
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ');
  const integerSteps = data.every(p => Number.isInteger(p.step));
  // one point: its own step is the only label worth showing
  const xTicks = (data.length === 1 ? [data[0].step] : niceTicks(xMin, xMax, 4))
    .filter(v => !integerSteps || Number.isInteger(v))
    .map(v => ({ at: round(sx(v)), label: formatNumber(v) }));
  const yTicks = niceTicks(yMin, yMax, 3).map(v => ({ at: round(sy(v)), label: formatNumber(v) }));
  return { points, path, x: { min: xMin, max: xMax }, y: { min: yMin, max: yMax }, xTicks, yTicks };
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, String(v));
  }
  return node;
}

/**
 * An `<svg>` line chart of `points` (with a title for screen readers).
 */
export function renderChart(
  key: string,
  input: IMetricPoint[],
  size: IChartSize = DEFAULT_SIZE
): SVGSVGElement {
  const s = scalePoints(input, size);
  const root = svg('svg', {
    class: 'jp-SubmarineChart',
    viewBox: `0 0 ${size.width} ${size.height}`,
    width: size.width,
    height: size.height,
    role: 'img'
  });
  const last = s.points[s.points.length - 1];
  const title = svg('title', {});
  title.textContent = last
    ? `${key}: ${s.points.length} points, last ${formatNumber(last.value)} at step ${last.step}`
    : `${key}: no points yet`;
  root.appendChild(title);
  const left = size.padding.left;
  const right = size.width - size.padding.right;
  const top = size.padding.top;
  const bottom = size.height - size.padding.bottom;
  root.appendChild(
    svg('line', { class: 'jp-SubmarineChart-axis', x1: left, y1: bottom, x2: right, y2: bottom })
  );
  root.appendChild(
    svg('line', { class: 'jp-SubmarineChart-axis', x1: left, y1: top, x2: left, y2: bottom })
  );
  for (const t of s.yTicks) {
    root.appendChild(
      svg('line', { class: 'jp-SubmarineChart-grid', x1: left, y1: t.at, x2: right, y2: t.at })
    );
    const label = svg('text', {
      class: 'jp-SubmarineChart-label',
      x: left - 4,
      y: t.at + 3,
      'text-anchor': 'end'
    });
    label.textContent = t.label;
    root.appendChild(label);
  }
  for (const t of s.xTicks) {
    const label = svg('text', {
      class: 'jp-SubmarineChart-label',
      x: t.at,
      y: bottom + 14,
      'text-anchor': 'middle'
    });
    label.textContent = t.label;
    root.appendChild(label);
  }
  if (s.points.length > 1) {
    root.appendChild(svg('path', { class: 'jp-SubmarineChart-line', d: s.path }));
  }
  if (s.points.length <= 50) {
    for (const p of s.points) {
      const dot = svg('circle', { class: 'jp-SubmarineChart-dot', cx: p.x, cy: p.y, r: 2.5 });
      const tip = svg('title', {});
      tip.textContent = `step ${p.step}: ${p.value}`;
      dot.appendChild(tip);
      root.appendChild(dot);
    }
  }
  return root;
}
