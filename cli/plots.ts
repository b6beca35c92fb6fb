/**
 * The seed's plots — raw and smoothed episode return, and episode length, against episodes — as SVG
 * (Vega-Lite, rendered headless) and PNG (resvg). Both libraries load only when a run is plotted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Moving average over the last `window` episodes, as the seed's smoothing. */
export function movingAverage(values: number[], window = 100): number[] {
  const out: number[] = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window];
    out.push(sum / Math.min(i + 1, window));
  });
  return out;
}

/** Renders a Vega-Lite spec (640 px wide, white background unless the spec says otherwise) to `path`.svg and .png. */
export async function renderVegaLite(spec: object, path: string): Promise<void> {
  const [vega, vl, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 640, height: 320, background: 'white', ...spec } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  writeFileSync(`${path}.svg`, svg);
  writeFileSync(`${path}.png`, new Resvg(svg, { background: 'white' }).render().asPng());
}

function renderChart(title: string, yTitle: string, series: Record<string, number[]>, path: string): Promise<void> {
  const values = Object.entries(series).flatMap(([kind, ys]) => ys.map((y, episode) => ({ episode, value: y, kind })));
  return renderVegaLite({
    title,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.2 },
    encoding: {
      x: { field: 'episode', type: 'quantitative', title: 'episode' },
      y: { field: 'value', type: 'quantitative', title: yTitle },
      color: { field: 'kind', type: 'nominal', title: null, sort: Object.keys(series) },
      opacity: { condition: { test: "datum.kind === 'raw'", value: 0.45 }, value: 1 },
    },
  }, path);
}

/**
 * Writes return.{svg,png} and length.{svg,png} into `dir`, from each agent's episode returns. CartPole
 * pays 1 per step, so an episode's length equals its return; both plots are drawn as the seed draws
 * them (raw and smoothed; with several agents, one smoothed line per agent).
 */
export async function writePlots(dir: string, envId: string, returnsPerAgent: number[][]): Promise<string[]> {
  const series: Record<string, number[]> =
    returnsPerAgent.length === 1
      ? { raw: returnsPerAgent[0], 'smoothed (100)': movingAverage(returnsPerAgent[0]) }
      : Object.fromEntries(returnsPerAgent.map((r, a) => [`agent ${a}`, movingAverage(r)]));
  const smoothed = returnsPerAgent.length === 1 ? '' : ' (moving average of 100 episodes)';
  await renderChart(`${envId}: episode return${smoothed}`, 'return', series, join(dir, 'return'));
  await renderChart(`${envId}: episode length${smoothed}`, 'length (steps)', series, join(dir, 'length'));
  return ['return.svg', 'return.png', 'length.svg', 'length.png'];
}
