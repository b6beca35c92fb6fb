/**
 * The browser demo: the library's TrainingSession (the same code the CLI runs) driven from animation
 * frames, the envs drawn from the GPU buffer each frame, metrics charted as they arrive.
 *
 * One loop owns the sessions: buttons queue actions that run between frames, so a reset or a
 * checkpoint read never interleaves with an update in flight.
 *
 * URL parameters: every config field by its CLI flag (`?num-envs=64&n-steps=16`), `speed` (updates per
 * frame), `autostart=1` (start training on load; the end-to-end test uses it).
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import {
  CheckpointError,
  ConfigError,
  createBrowserGpuContext,
  decodeCheckpoint,
  encodeCheckpoint,
  NoAdapterError,
  TrainingSession,
  type GpuContext,
  type TrainConfig,
  type TrainMetrics,
} from '../src/browser.ts';
import { CartPipeline, CartView, MAX_GRID_CELLS } from './cart-view.ts';
import type { cartPoleSpec } from '../src/envs/cartpole.ts';
import { TrainingCharts } from './charts.ts';
import { configFromUrl, configToUrl, ConfigForm, demoDefaults } from './controls.ts';
import { formatCount, Throughput, writeStats } from './readout.ts';

const SPEEDS = [1, 2, 4, 8, 16, 32, 64, 128];
const DEFAULT_SPEED = 2;
const DETAIL_ENVS = 3;

type Mode = 'ready' | 'training' | 'paused' | 'watching' | 'error';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function setStatus(text: string, state: string) {
  const status = $('status');
  status.textContent = text;
  status.dataset.state = state;
}

class Demo {
  private mode: Mode = 'ready';
  private session: TrainingSession | null = null;
  /** While watching: a copy of the policy that only acts, one env step per rollout. */
  private watcher: TrainingSession | null = null;
  private readonly actions: (() => Promise<void>)[] = [];
  private readonly form: ConfigForm;
  private readonly charts: TrainingCharts;
  private readonly grid: CartView;
  private readonly detail: CartView;
  private readonly throughput = new Throughput();
  private episodes = 0;
  private lastMetrics: TrainMetrics | null = null;
  private replaceIndex = 0;
  private shownErrors = 0;
  private watchNote = '';
  /** Set once the stop rule (solved, total-steps) has fired: Resume then trains on past it. */
  private stopHandled = false;
  /** Draw even though nothing is running (new source, new picks, resized). */
  private redraw = true;

  constructor(private readonly ctx: GpuContext, initial: TrainConfig, private speed: number) {
    this.form = new ConfigForm($('config'), initial, demoDefaults, () => this.showResetHint());
    this.charts = new TrainingCharts({ returns: $('chart-returns'), lengths: $('chart-lengths'), speed: $('chart-speed') });
    const pipeline = new CartPipeline(ctx.device, navigator.gpu.getPreferredCanvasFormat());
    this.grid = new CartView(pipeline, $<HTMLCanvasElement>('grid'), null);
    this.detail = new CartView(pipeline, $<HTMLCanvasElement>('detail'), []);
    this.wireControls();
    $('adapter').textContent = `Adapter: ${ctx.adapterName}.`;
  }

  /** `notes`: problems found before the loop (bad URL parameters), shown with the first status. */
  async run(autostart: boolean, notes: string[]): Promise<void> {
    await this.guard(async () => {
      await this.resetSession(this.form.read());
      if (autostart) this.mode = 'training';
      this.status([autostart ? 'Training…' : 'Ready: press Start.', ...notes].join(' '));
    });
    for (;;) {
      await new Promise(requestAnimationFrame);
      while (this.actions.length > 0) await this.guard(this.actions.shift()!);
      if (this.mode === 'training') await this.guard(() => this.trainFrame());
      else if (this.mode === 'watching') await this.guard(() => this.watchFrame());
      this.throughput.sample(this.mode === 'training' ? this.session : null);
      if (this.mode === 'training' || this.mode === 'watching' || this.redraw) this.draw();
      this.checkGpuErrors();
      writeStats(this.session, this.episodes, this.throughput);
      this.updateButtons();
      this.charts.flush();
    }
  }

  // ---- actions ---------------------------------------------------------------------------------

  private queue(action: () => Promise<void>) {
    this.actions.push(action);
  }

  private async guard(action: () => Promise<void>) {
    try {
      await action();
    } catch (error) {
      // A bad setting or file changes nothing (decoding checks everything before anything is applied);
      // anything else stops the loop.
      if (error instanceof ConfigError || error instanceof CheckpointError) return this.status(`Not applied: ${error.message}`);
      this.mode = 'error';
      this.status((error as Error).message);
    }
  }

  private async trainFrame() {
    const session = this.session!;
    for (let i = 0; i < this.speed; i++) {
      const reason = session.stopReason();
      if (reason === 'nonFinite') throw new Error(`training produced non-finite values at update ${session.nonFiniteUpdate}: try a lower learning rate, then Reset`);
      if (reason && !this.stopHandled) {
        this.stopHandled = true;
        const seconds = this.lastMetrics?.wallSeconds ?? 0;
        await this.startWatching(
          reason === 'solved'
            ? `Solved: the last 100 episodes average ${session.meanReturn100.toFixed(1)} ≥ ${session.target} after ${formatCount(session.envSteps)} env steps (${seconds.toFixed(1)} s). Now watching the trained policy; Resume trains on.`
            : `Reached total-steps (${formatCount(session.envSteps)} env steps) without solving. Now watching the policy; Resume trains on.`,
        );
        return;
      }
      await session.step();
    }
  }

  private async watchFrame() {
    const watcher = this.watcher!;
    for (let i = 0; i < this.speed; i++) await watcher.watchStep();
    if (watcher.returns.length > 0) {
      this.status(`${this.watchNote} Mean return of the last ${Math.min(100, watcher.returns.length)} episodes watched: ${watcher.meanReturn100.toFixed(1)}.`);
    }
  }

  /** Learning stops; the current policy plays one env step per rollout (≈ real time at speed 1, 60 frames/s). */
  private async startWatching(note: string) {
    const session = this.session!;
    await this.stopWatching();
    const state = await session.readState();
    this.watcher = new TrainingSession(this.ctx, { ...session.config, nSteps: 1, metricsEvery: 1 });
    this.watcher.initialize(state);
    this.setSource(this.watcher);
    this.mode = 'watching';
    this.watchNote = note;
    this.status(note);
  }

  private async stopWatching() {
    if (!this.watcher) return;
    // Pending metric reads must land before their buffers go (a destroyed buffer rejects its mapAsync).
    await this.watcher.drain();
    this.watcher.destroy();
    this.watcher = null;
    if (this.session) this.setSource(this.session);
  }

  /** A new session from `config`: fresh (initialize) unless `prepare` sets it up, e.g. from a checkpoint. */
  private async resetSession(config: TrainConfig, prepare?: (session: TrainingSession) => void) {
    await this.stopWatching();
    if (this.session) {
      await this.session.drain();
      this.session.destroy();
      this.session = null;
      this.setSource(null);
    }
    this.episodes = 0;
    this.lastMetrics = null;
    this.stopHandled = false;
    const session = new TrainingSession(this.ctx, config, { onMetrics: (m) => this.onMetrics(m) });
    this.session = session;
    if (prepare) prepare(session);
    else session.initialize();
    this.charts.reset(session.target, session.trainer.numRows);
    this.setSource(session);
    this.form.set(config);
    $('reset-hint').hidden = true;
    history.replaceState(null, '', configToUrl(config, demoDefaults(config.algo), new URLSearchParams(location.search)));
  }

  private onMetrics(m: TrainMetrics) {
    this.lastMetrics = m;
    this.episodes += m.episodesFinished;
    this.charts.add(m, this.throughput.rates());
  }

  private async download() {
    const s = this.session!;
    const bytes = encodeCheckpoint(await s.checkpoint());
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `${s.config.env}__${s.config.algo}__${s.config.seed}__update${s.update}.safetensors`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  private async upload(file: File) {
    const ckpt = decodeCheckpoint(new Uint8Array(await file.arrayBuffer()));
    await this.resetSession(ckpt.config, (session) => session.restore(ckpt));
    this.mode = 'paused';
    this.status(
      `Loaded ${file.name}: ${ckpt.config.env}, ${ckpt.config.algo}, ${ckpt.config.numEnvs} envs, update ${formatCount(ckpt.update)} ` +
        `(${formatCount(ckpt.envSteps)} env steps). Watch the policy, or Resume to continue training.`,
    );
  }

  // ---- controls --------------------------------------------------------------------------------

  private wireControls() {
    const speed = $<HTMLSelectElement>('speed');
    for (const s of new Set([...SPEEDS, this.speed].sort((a, b) => a - b))) speed.add(new Option(`${s} / frame`, String(s)));
    speed.value = String(this.speed);
    speed.addEventListener('change', () => (this.speed = Number(speed.value)));

    $('start').addEventListener('click', () =>
      this.queue(async () => {
        if (this.mode === 'training') {
          this.mode = 'paused';
          return this.status('Paused.');
        }
        await this.stopWatching();
        if (!this.session || this.mode === 'error') await this.resetSession(this.form.read());
        this.mode = 'training';
        this.status('Training…');
      }),
    );
    $('reset').addEventListener('click', () =>
      this.queue(async () => {
        const wasTraining = this.mode === 'training';
        await this.resetSession(this.form.read());
        this.mode = wasTraining ? 'training' : 'ready';
        this.status(wasTraining ? 'Training…' : 'Reset: press Start.');
      }),
    );
    $('watch').addEventListener('click', () =>
      this.queue(async () => {
        if (this.mode === 'watching') {
          await this.stopWatching();
          this.mode = 'paused';
          this.status('Stopped watching; Resume continues training.');
        } else if (this.session) {
          await this.startWatching('Watching the current policy (no learning).');
        }
      }),
    );
    $('download').addEventListener('click', () => this.queue(() => this.download()));
    const upload = $<HTMLInputElement>('upload');
    upload.addEventListener('change', () => {
      const file = upload.files?.[0];
      upload.value = '';
      if (file) this.queue(() => this.upload(file));
    });
    $('grid').addEventListener('click', (event) => {
      const env = this.grid.envAt(event.clientX, event.clientY);
      if (env === null || !this.detail.picks) return;
      this.detail.picks[this.replaceIndex] = env;
      this.replaceIndex = (this.replaceIndex + 1) % this.detail.picks.length;
      this.labelDetail();
    });
    window.addEventListener('resize', () => (this.redraw = true));
  }

  private showResetHint() {
    const s = this.session;
    let changed = true;
    try {
      const config = this.form.read();
      changed = !s || (Object.keys(config) as (keyof TrainConfig)[]).some((k) => config[k] !== s.config[k]);
    } catch {
      /* a bad value: the form shows why */
    }
    $('reset-hint').hidden = !changed;
  }

  private updateButtons() {
    $('start').textContent = this.mode === 'training' ? 'Pause' : this.session && this.session.update > 0 ? 'Resume' : 'Start';
    $('watch').textContent = this.mode === 'watching' ? 'Stop watching' : 'Watch policy';
    $('watch').classList.toggle('active', this.mode === 'watching');
  }

  private status(text: string) {
    setStatus(text, this.mode);
  }

  // ---- drawing ---------------------------------------------------------------------------------

  private setSource(session: TrainingSession | null) {
    const source = session ? { envs: session.trainer.buffers.envs, numEnvs: session.config.numEnvs, params: (session.trainer.env as ReturnType<typeof cartPoleSpec>).params } : null;
    this.grid.setSource(source);
    this.detail.setSource(source);
    const n = source?.numEnvs ?? 0;
    this.detail.picks = Array.from({ length: Math.min(DETAIL_ENVS, n) }, (_, i) => i);
    this.replaceIndex = 0;
    this.labelDetail();
    const count = (k: number) => k.toLocaleString('en-US');
    $('grid-caption').textContent =
      n > MAX_GRID_CELLS
        ? `The first ${count(MAX_GRID_CELLS)} of ${count(n)} environments (click one to follow it below).`
        : `All ${count(n)} environments, one cell each (click one to follow it below).`;
  }

  private labelDetail() {
    const labels = (this.detail.picks ?? []).map((env) => Object.assign(document.createElement('span'), { textContent: `env ${env}` }));
    $('detail-labels').replaceChildren(...labels);
    this.redraw = true;
  }

  private draw() {
    if (!this.session) return;
    const encoder = this.ctx.device.createCommandEncoder({ label: 'draw' });
    this.grid.encode(encoder);
    this.detail.encode(encoder);
    this.ctx.device.queue.submit([encoder.finish()]);
    this.throughput.frameDrawn();
    this.redraw = false;
  }

  private checkGpuErrors() {
    const errors = this.ctx.errors;
    if (errors.length === this.shownErrors) return;
    this.shownErrors = errors.length;
    const box = $('gpu-errors');
    box.hidden = false;
    box.textContent = `Uncaptured WebGPU error${errors.length > 1 ? 's' : ''} (training stopped):\n${errors.join('\n')}`;
    this.mode = 'error';
    this.status('A WebGPU error stopped the demo; reload the page to start again.');
  }
}

async function main() {
  const params = new URLSearchParams(location.search);
  const { config, errors } = configFromUrl(params, demoDefaults);
  const speed = Math.max(1, Math.round(Number(params.get('speed') ?? DEFAULT_SPEED)) || DEFAULT_SPEED);
  let ctx: GpuContext;
  try {
    ctx = await createBrowserGpuContext();
  } catch (error) {
    if (!(error instanceof NoAdapterError)) throw error;
    const box = $('no-webgpu');
    box.textContent = error.message;
    box.hidden = false;
    $('app').hidden = true;
    return setStatus('No WebGPU: see above.', 'no-webgpu');
  }
  const notes = errors.length > 0 ? [`Ignored URL parameters: ${errors.join('; ')}.`] : [];
  await new Demo(ctx, config, speed).run(params.get('autostart') === '1', notes);
}

window.addEventListener('error', (event) => setStatus(`Error: ${event.message}`, 'error'));
window.addEventListener('unhandledrejection', (event) => setStatus(`Error: ${(event.reason as Error)?.message ?? event.reason}`, 'error'));
main().catch((error: Error) => setStatus(`Error: ${error.message}`, 'error'));
