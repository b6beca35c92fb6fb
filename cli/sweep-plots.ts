/**
 * A sweep's plots, drawn like the run plots (cli/plots.ts: Vega-Lite rendered headless to SVG, resvg to PNG):
 *   returns.{svg,png}               per configuration, the median over seeds of the mean return of the last
 *                                   100 episodes against env steps, with the min–max band over seeds
 *   sensitivity-<field>.{svg,png}   final mean return against the field's value: a point per agent, the
 *                                   median per value
 * Curves come from the agents' metrics.csv (meanReturn100 at each report), so merged shards plot the same.
 */
import { readFileSync } from 'node:fs';
import { renderVegaLite } from './plots.ts';
import { join } from 'node:path';
import type { SweepValue } from '../src/sweep.ts';
import { median, rankConfigurations, type SweepRow } from '../src/sweep-report.ts';

/** Configurations drawn in returns.svg: the best ones, when there are more. */
const MAX_CURVES = 10;

/** An agent's (globalStep, meanReturn100) at each report. */
function readCurve(dir: string, id: string): { step: number; value: number }[] {
  const lines = readFileSync(join(dir, 'agents', id, 'metrics.csv'), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const stepAt = header.indexOf('globalStep');
  const valueAt = header.indexOf('meanReturn100');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    return { step: Number(cells[stepAt]), value: Number(cells[valueAt]) };
  });
}

function label(name: string, values: Record<string, SweepValue>): string {
  const text = Object.entries(values).map(([k, v]) => `${k}=${v}`).join(', ');
  return text ? `${name}: ${text}` : name;
}

export async function writeSweepPlots(dir: string, rows: SweepRow[], fields: string[], logFields: string[]): Promise<string[]> {
  const ranked = rankConfigurations(rows);
  const shown = ranked.slice(0, MAX_CURVES);
  const labels = shown.map((c) => label(c.name, c.values));
  const points: { config: string; step: number; median: number; min: number; max: number }[] = [];
  shown.forEach((c, i) => {
    const curves = rows.filter((r) => r.configuration === c.configuration).map((r) => readCurve(dir, r.id));
    const steps = [...new Set(curves.flatMap((curve) => curve.map((p) => p.step)))].sort((a, b) => a - b);
    // Seeds report at the same steps; where they do not (other report schedules), each holds its last value.
    const cursors = curves.map(() => -1);
    for (const step of steps) {
      const values: number[] = [];
      curves.forEach((curve, s) => {
        while (cursors[s] + 1 < curve.length && curve[cursors[s] + 1].step <= step) cursors[s]++;
        if (cursors[s] >= 0 && Number.isFinite(curve[cursors[s]].value)) values.push(curve[cursors[s]].value);
      });
      if (values.length > 0) points.push({ config: labels[i], step, median: median(values), min: Math.min(...values), max: Math.max(...values) });
    }
  });
  const seeds = Math.max(...ranked.map((c) => c.seeds));
  const files = ['returns.svg', 'returns.png'];
  await renderVegaLite(
    {
      title: `mean return of the last 100 episodes: median over ${seeds} seeds, band min–max${ranked.length > shown.length ? ` (the ${shown.length} best of ${ranked.length} configurations)` : ''}`,
      data: { values: points },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'env steps (per agent)' },
        color: { field: 'config', type: 'nominal', title: null, sort: labels, legend: { orient: 'bottom', columns: 1, labelLimit: 600 } },
      },
      layer: [
        { mark: { type: 'area', opacity: 0.15 }, encoding: { y: { field: 'min', type: 'quantitative', title: 'return (mean of last 100)' }, y2: { field: 'max' } } },
        { mark: { type: 'line', strokeWidth: 1.6 }, encoding: { y: { field: 'median', type: 'quantitative' } } },
      ],
    },
    join(dir, 'returns'),
  );

  for (const field of fields) {
    const numeric = rows.every((r) => typeof r.values[field] === 'number');
    const x = (v: SweepValue) => (numeric ? (v as number) : String(v));
    const perAgent = rows.map((r) => ({ x: x(r.values[field]), y: r.finalMeanReturn100 }));
    const byValue = new Map<string | number, number[]>();
    for (const p of perAgent) byValue.set(p.x, [...(byValue.get(p.x) ?? []), p.y]);
    const medians = [...byValue.entries()].map(([v, ys]) => ({ x: v, y: median(ys) }));
    if (numeric) medians.sort((a, b) => (a.x as number) - (b.x as number));
    const xEncoding = numeric
      ? { field: 'x', type: 'quantitative', title: field, scale: logFields.includes(field) ? { type: 'log', nice: false, padding: 16 } : { zero: false, nice: false, padding: 16 } }
      : { field: 'x', type: 'nominal', title: field, sort: medians.map((m) => m.x), axis: { labelAngle: 0 } };
    await renderVegaLite(
      {
        title: `sensitivity to ${field} (points: agents; line: median per value)`,
        layer: [
          { data: { values: perAgent }, mark: { type: 'point', filled: true, opacity: 0.55 }, encoding: { x: xEncoding, y: { field: 'y', type: 'quantitative', title: 'final return (mean of last 100)' } } },
          {
            data: { values: medians },
            mark: numeric ? { type: 'line', point: true, color: 'black' } : { type: 'tick', color: 'black', thickness: 2 },
            encoding: { x: xEncoding, y: { field: 'y', type: 'quantitative' } },
          },
        ],
      },
      join(dir, `sensitivity-${field}`),
    );
    files.push(`sensitivity-${field}.svg`, `sensitivity-${field}.png`);
  }
  return files;
}
