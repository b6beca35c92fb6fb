/**
 * Live training charts with uPlot (about 50 KB, draws 10^5 points per frame on a canvas): episodic
 * return and length against env steps, raw and smoothed as the seed article plots them (rolling mean
 * over the last 10 points), and throughput (env-steps/s, with updates/s on the right axis).
 */
import uPlot from 'uplot';
import type { TrainMetrics } from '../src/browser.ts';

const SMOOTH_WINDOW = 10;
/** Beyond this many points every series is thinned to every other point (uPlot stays fast, memory bounded). */
const MAX_POINTS = 20_000;
const COLORS = { raw: '#5b8def', smooth: '#f5a742', sps: '#5b8def' };

type Series = (number | null)[];

function axis(label: string, side: uPlot.Axis.Side = 3, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return { label, side, stroke: '#aab', grid: { stroke: '#2a2f3a', width: 1 }, ticks: { stroke: '#2a2f3a', width: 1 }, labelSize: 18, size: 52, ...extra };
}

function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${+(value / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toFixed(1)}`;
}

const stepsAxis = axis('env steps', 2, { values: (_u, splits) => splits.map(compact), size: 36 });

function makeChart(container: HTMLElement, title: string, series: uPlot.Series[], axes: uPlot.Axis[], scales: uPlot.Scales = {}): uPlot {
  const options: uPlot.Options = {
    title,
    width: Math.max(200, container.clientWidth),
    height: 220,
    scales: { x: { time: false }, ...scales },
    series: [{ label: 'env steps', value: (_u, v) => (v == null ? '–' : compact(v)) }, ...series],
    axes: [stepsAxis, ...axes],
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
  };
  return new uPlot(options, [[], ...series.map(() => [])] as unknown as uPlot.AlignedData, container);
}

function movingAverage(raw: Series, window: number): Series {
  const out: Series = [];
  const recent: number[] = [];
  for (const v of raw) {
    if (v !== null) {
      recent.push(v);
      if (recent.length > window) recent.shift();
    }
    out.push(recent.length > 0 ? recent.reduce((a, b) => a + b, 0) / recent.length : null);
  }
  return out;
}

export class TrainingCharts {
  private readonly charts: uPlot[];
  private steps: number[] = [];
  private returns: Series = [];
  private lengths: Series = [];
  private sps: Series = [];
  private rowsPerUpdate = 1;
  private dirty = false;

  constructor(containers: { returns: HTMLElement; lengths: HTMLElement; speed: HTMLElement }) {
    const line = (label: string, stroke: string, extra: Partial<uPlot.Series> = {}): uPlot.Series => ({
      label,
      stroke,
      width: 1.5,
      spanGaps: true,
      points: { show: false },
      value: (_u, v) => (v == null ? '–' : v.toFixed(1)),
      ...extra,
    });
    this.charts = [
      makeChart(containers.returns, 'Episodic return', [line('raw', COLORS.raw, { width: 1 }), line(`smoothed (${SMOOTH_WINDOW})`, COLORS.smooth, { width: 2 })], [axis('return')]),
      makeChart(containers.lengths, 'Episodic length', [line('raw', COLORS.raw, { width: 1 }), line(`smoothed (${SMOOTH_WINDOW})`, COLORS.smooth, { width: 2 })], [axis('steps')]),
      // One line, two axes: updates/s is env-steps/s divided by the rows per update (N·T).
      makeChart(
        containers.speed,
        'Throughput',
        [line('env-steps/s', COLORS.sps, { width: 2, value: (_u, v) => (v == null ? '–' : `${compact(v)} (${compact(v / this.rowsPerUpdate)} updates/s)`) })],
        [
          axis('env-steps/s', 3, { values: (_u, splits) => splits.map(compact) }),
          axis('updates/s', 1, { grid: { show: false }, values: (_u, splits) => splits.map((v) => compact(v / this.rowsPerUpdate)) }),
        ],
        { y: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      ),
    ];
    // Resized on the next frame: resizing inside the observer's callback changes the observed layout
    // again, and the browser reports that as an error ("ResizeObserver loop completed ...").
    let pending = false;
    const observer = new ResizeObserver(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        for (const [i, container] of [containers.returns, containers.lengths, containers.speed].entries()) {
          const width = Math.max(200, container.clientWidth);
          if (this.charts[i].width !== width) this.charts[i].setSize({ width, height: 220 });
        }
      });
    });
    for (const container of [containers.returns, containers.lengths, containers.speed]) observer.observe(container);
  }

  /**
   * `target`: the return that counts as solved, named in the title (a line at it would flatten the
   * early curve; not finite: the env has none); `rowsPerUpdate`: N·T env steps per update, for the updates/s axis.
   */
  reset(target: number, rowsPerUpdate: number): void {
    this.rowsPerUpdate = rowsPerUpdate;
    const title = this.charts[0].root.querySelector('.u-title');
    if (title) title.textContent = Number.isFinite(target) ? `Episodic return (solved at ${target})` : 'Episodic return';
    this.steps = [];
    this.returns = [];
    this.lengths = [];
    this.sps = [];
    this.dirty = true;
  }

  /** One point per metrics report; throughput is measured by the caller over wall-clock time. */
  add(m: TrainMetrics, rates: { sps: number } | null): void {
    const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
    // uPlot needs x sorted; a report can arrive after a later one when two reads settle together.
    let at = this.steps.length;
    while (at > 0 && this.steps[at - 1] > m.globalStep) at--;
    this.steps.splice(at, 0, m.globalStep);
    this.returns.splice(at, 0, finite(m.episodicReturn));
    this.lengths.splice(at, 0, finite(m.episodicLength));
    this.sps.splice(at, 0, finite(rates?.sps));
    if (this.steps.length > MAX_POINTS) {
      const half = <T>(series: T[]) => series.filter((_, i) => i % 2 === 1);
      [this.steps, this.returns, this.lengths, this.sps] = [half(this.steps), half(this.returns), half(this.lengths), half(this.sps)];
    }
    this.dirty = true;
  }

  /** Redraws if anything arrived since the last call: at most once per animation frame. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.charts[0].setData([this.steps, this.returns, movingAverage(this.returns, SMOOTH_WINDOW)] as uPlot.AlignedData);
    this.charts[1].setData([this.steps, this.lengths, movingAverage(this.lengths, SMOOTH_WINDOW)] as uPlot.AlignedData);
    this.charts[2].setData([this.steps, this.sps] as uPlot.AlignedData);
    // The legends read out the latest point unless the pointer is over a chart.
    const last = this.steps.length - 1;
    for (const chart of this.charts) if (last >= 0 && (chart.cursor.left ?? -1) < 0) chart.setLegend({ idx: last });
  }
}
