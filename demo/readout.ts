/**
 * The numbers above the grid. Each <output> carries its raw value in `data-value` (the end-to-end
 * test reads those) and a formatted one as text.
 */
import type { TrainingSession } from '../src/browser.ts';

const RATE_WINDOW_MS = 2000;

export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

/**
 * Env steps and updates per second of wall-clock time, from one sample per training frame over the
 * last two seconds. (TrainMetrics.sps spans the time between two metric reads, which is ~0 when two
 * reads land in the same frame.) Also counts drawn frames per second.
 */
export class Throughput {
  private samples: { time: number; steps: number; updates: number }[] = [];
  private frames: number[] = [];

  /** Called once per frame; `session` null when not training (the rates then restart). */
  sample(session: TrainingSession | null): void {
    const now = performance.now();
    if (!session) {
      this.samples = [];
      return;
    }
    this.samples.push({ time: now, steps: session.envSteps, updates: session.update });
    while (this.samples.length > 2 && this.samples[0].time < now - RATE_WINDOW_MS) this.samples.shift();
  }

  frameDrawn(): void {
    const now = performance.now();
    this.frames.push(now);
    while (this.frames[0] < now - 1000) this.frames.shift();
  }

  get framesPerSecond(): number {
    const now = performance.now();
    return this.frames.filter((t) => t >= now - 1000).length;
  }

  rates(): { sps: number; ups: number } | null {
    const [first, last] = [this.samples[0], this.samples[this.samples.length - 1]];
    if (!first || last.time - first.time < 250) return null;
    const seconds = (last.time - first.time) / 1000;
    return { sps: (last.steps - first.steps) / seconds, ups: (last.updates - first.updates) / seconds };
  }
}

function set(id: string, value: number, text: string) {
  const el = document.getElementById(`stat-${id}`) as HTMLElement;
  el.dataset.value = String(value);
  if (el.textContent !== text) el.textContent = text;
}

/** `returnsKnown`: whether any episode has finished (or come with a checkpoint): before that the mean is shown as –. */
export function writeStats(session: TrainingSession | null, episodes: number, returnsKnown: boolean, throughput: Throughput): void {
  const rates = throughput.rates();
  set('env-steps', session?.envSteps ?? 0, formatCount(session?.envSteps ?? 0));
  set('updates', session?.update ?? 0, formatCount(session?.update ?? 0));
  set('episodes', episodes, formatCount(episodes));
  const mean = session && returnsKnown ? session.meanReturn100 : Number.NaN;
  set('mean-return', mean, Number.isFinite(mean) ? mean.toFixed(1) : '–');
  set('sps', rates?.sps ?? 0, rates ? formatCount(rates.sps) : '–');
  set('ups', rates?.ups ?? 0, rates ? rates.ups.toFixed(1) : '–');
  const fps = throughput.framesPerSecond;
  set('fps', fps, String(fps));
}
