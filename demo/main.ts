/**
 * The browser demo: the library's TrainingSession (the same code the CLI runs) driven from animation
 * frames, the envs drawn from the GPU buffer each frame (each env by its own view: demo/env-view.ts),
 * metrics charted as they arrive. Any registered env can be picked (Discrete ones train a categorical
 * policy, Box ones a Gaussian), with any network the config's net-arch describes, and a user's env module
 * loaded from a file; an env the trainer cannot train (more than four actions or Box dimensions) is shown
 * under a random policy instead.
 *
 * One loop owns the sessions: buttons queue actions that run between frames, so a reset or a
 * checkpoint read never interleaves with an update in flight.
 *
 * URL parameters: every config field by its CLI flag (`?env=Acrobot-v1&num-envs=64`), `speed` (updates
 * per frame at most: see FRAME_BUDGET_MS), `autostart=1` (start training on load; the end-to-end test uses it).
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import {
  BUILTIN_ENV_IDS,
  CheckpointError,
  ConfigError,
  createBrowserGpuContext,
  decodeCheckpoint,
  encodeCheckpoint,
  EnvError,
  envSpec,
  makeVecEnv,
  NoAdapterError,
  registerEnv,
  rngUniform,
  TrainingSession,
  type EnvSpec,
  type GpuContext,
  type TrainConfig,
  type TrainMetrics,
  type VecEnv,
} from '../src/browser.ts';
import { checkTrainable } from '../src/config.ts';
import { checkEnvModule, parseEnvModule } from '../src/envs/user-module.ts';
import { RNG_STREAM_RANDOM_POLICY } from '../src/rng.ts';
import { TrainingCharts } from './charts.ts';
import { configFromUrl, configToUrl, ConfigForm, demoDefaults } from './controls.ts';
import { EnvView, EnvViewPipelines, MAX_GRID_CELLS, type EnvViewSource } from './env-view.ts';
import { formatCount, Throughput, writeStats } from './readout.ts';

const SPEEDS = [1, 2, 4, 8, 16, 32, 64, 128];
const DEFAULT_SPEED = 2;
const DETAIL_ENVS = 3;
/**
 * GPU time one frame's updates may take. `speed` is a ceiling: where updates are slow (PPO's epochs on a
 * software adapter take ~1 s each) a frame trains fewer, so a click waits for at most about two frames.
 */
const FRAME_BUDGET_MS = 100;

/** 'preview': an env the trainer cannot train (more than four actions) stepped under a random policy, no session. */
type Mode = 'ready' | 'training' | 'paused' | 'watching' | 'preview' | 'error';

/** An env shown under a uniform random policy (its actions written here, so its view can draw them). */
interface Preview {
  env: VecEnv;
  seed: number;
  actions: Float32Array<ArrayBuffer>;
  steps: number;
}

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
  private readonly views: EnvViewPipelines;
  private readonly grid: EnvView;
  private readonly detail: EnvView;
  private readonly throughput = new Throughput();
  private preview: Preview | null = null;
  /** Why the preview's env is not trained (the trainer's one line), shown as the status. */
  private previewNote = '';
  private episodes = 0;
  /** Whether the session has any episode return (its own, or restored from a checkpoint). */
  private returnsKnown = false;
  private lastMetrics: TrainMetrics | null = null;
  private replaceIndex = 0;
  private shownErrors = 0;
  private watchNote = '';
  /** Set once the stop rule (solved, total-steps) has fired: Resume then trains on past it. */
  private stopHandled = false;
  /** Draw even though nothing is running (new source, new picks, resized). */
  private redraw = true;
  /** The last frame's submitted work; the loop lets the GPU run at most one frame behind. */
  private frameInFlight: Promise<void> = Promise.resolve();
  /** When the GPU finished the previous frame (ms, performance.now). */
  private lastFrameDone = 0;
  /** GPU time per update, measured over whole frames (ms; 0 until measured). */
  private msPerUpdate = 0;

  constructor(private readonly ctx: GpuContext, initial: TrainConfig, private speed: number) {
    this.form = new ConfigForm($('config'), initial, demoDefaults, () => this.showResetHint(), () => this.queue(() => this.switchEnv()));
    this.charts = new TrainingCharts({ returns: $('chart-returns'), lengths: $('chart-lengths'), speed: $('chart-speed') });
    this.views = new EnvViewPipelines(ctx, navigator.gpu.getPreferredCanvasFormat());
    this.grid = new EnvView(this.views, $<HTMLCanvasElement>('grid'), null);
    this.detail = new EnvView(this.views, $<HTMLCanvasElement>('detail'), []);
    this.wireControls();
    $('adapter').textContent = `Adapter: ${ctx.adapterName}.`;
  }

  /** `notes`: problems found before the loop (bad URL parameters), shown with the first status. */
  async run(autostart: boolean, notes: string[]): Promise<void> {
    await this.guard(async () => {
      if (!(await this.resetFromForm())) return this.status([this.previewNote, ...notes].join(' '));
      if (autostart) this.mode = 'training';
      this.status([autostart ? 'Training…' : 'Ready: press Start.', ...notes].join(' '));
    });
    for (;;) {
      await new Promise(requestAnimationFrame);
      while (this.actions.length > 0) await this.guard(this.actions.shift()!);
      let updates = 0;
      const frameStart = performance.now();
      if (this.mode === 'training') await this.guard(async () => void (updates = await this.trainFrame()));
      else if (this.mode === 'watching') await this.guard(() => this.watchFrame());
      else if (this.mode === 'preview') this.previewFrame();
      this.throughput.sample(this.mode === 'training' ? this.session : null);
      if (this.mode === 'training' || this.mode === 'watching' || this.mode === 'preview' || this.redraw) this.draw();
      this.checkGpuErrors();
      writeStats(this.session, this.episodes, this.returnsKnown, this.throughput);
      this.updateButtons();
      this.charts.flush();
      // Without this the GPU could fall a ring's worth of updates behind (see FRAME_BUDGET_MS), and every
      // control would wait for all of them.
      await this.frameInFlight;
      // A lost device is reported by checkGpuErrors and the session; the loop itself goes on.
      this.frameInFlight = this.ctx.device.queue.onSubmittedWorkDone().then(() => this.frameDone(frameStart, updates), () => {});
    }
  }

  /** Folds a finished frame's GPU time into msPerUpdate: from when its work could start to when it ended. */
  private frameDone(frameStart: number, updates: number) {
    const now = performance.now();
    if (updates > 0) {
      const ms = (now - Math.max(frameStart, this.lastFrameDone)) / updates;
      this.msPerUpdate = this.msPerUpdate === 0 ? ms : 0.5 * (this.msPerUpdate + ms);
    }
    this.lastFrameDone = now;
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
      if (error instanceof EnvError) return this.status(`Env module not loaded: ${error.message}`);
      this.mode = 'error';
      this.status((error as Error).message);
    }
  }

  /** Up to `speed` updates (fewer where they would take more than FRAME_BUDGET_MS); returns how many. */
  private async trainFrame(): Promise<number> {
    const session = this.session!;
    const updates = this.msPerUpdate > 0 ? Math.max(1, Math.min(this.speed, Math.floor(FRAME_BUDGET_MS / this.msPerUpdate))) : 1;
    for (let i = 0; i < updates; i++) {
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
        return i;
      }
      await session.step();
    }
    return updates;
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
    // The whole checkpoint: the policy's input normalization (running statistics) travels with it.
    const ckpt = await session.checkpoint();
    this.watcher = new TrainingSession(this.ctx, { ...session.config, nSteps: 1, metricsEvery: 1 });
    this.watcher.initialize(ckpt);
    if (ckpt.normStats) this.watcher.trainer.loadNormStats(ckpt.normStats);
    await this.setSource(this.watcher);
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
    if (this.session) await this.setSource(this.session);
  }

  /** Ends whatever runs: the watcher, the session, the preview. */
  private async stopAll() {
    await this.stopWatching();
    if (this.session) {
      await this.session.drain();
      this.session.destroy();
      this.session = null;
    }
    this.preview?.env.destroy();
    this.preview = null;
    await this.setSource(null);
  }

  /** A new session from `config`: fresh (initialize) unless `prepare` sets it up, e.g. from a checkpoint. */
  private async resetSession(config: TrainConfig, prepare?: (session: TrainingSession) => void) {
    await this.stopAll();
    this.episodes = 0;
    this.returnsKnown = false;
    this.lastMetrics = null;
    this.stopHandled = false;
    this.msPerUpdate = 0; // another config, another cost: the first frame measures it with one update
    const session = new TrainingSession(this.ctx, config, { onMetrics: (m) => this.onMetrics(m) });
    this.session = session;
    if (prepare) prepare(session);
    else session.initialize();
    this.charts.reset(session.target, session.trainer.numRows);
    await this.setSource(session);
    this.form.set(config);
    $('reset-hint').hidden = true;
    history.replaceState(null, '', configToUrl(config, demoDefaults(config.algo, config.env), new URLSearchParams(location.search)));
  }

  /**
   * A new session from the settings; for an env the trainer cannot train (its ConfigError: more than four
   * actions or Box dimensions), the env under a random policy instead, with that line in previewNote. Returns whether it trains.
   */
  private async resetFromForm(): Promise<boolean> {
    let config: TrainConfig;
    try {
      config = this.form.read();
    } catch (error) {
      if (!(error instanceof ConfigError) || trainable(this.form.selectedEnv)) throw error;
      await this.startPreview(this.form.readFields(), error.message);
      return false;
    }
    await this.resetSession(config);
    return true;
  }

  /** `config.env` stepped under a uniform random policy, drawn like a training run; nothing learns. */
  private async startPreview(config: TrainConfig, reason: string) {
    await this.stopAll();
    const spec = envSpec(config.env);
    const env = makeVecEnv(this.ctx, { env: spec, numEnvs: config.numEnvs });
    await env.reset(config.seed);
    const box = spec.actionSpace.type === 'Box';
    const d = env.actionDim;
    this.preview = { env, seed: config.seed, actions: new Float32Array(config.numEnvs * d), steps: 0 };
    this.episodes = 0;
    this.returnsKnown = false;
    this.lastMetrics = null;
    this.charts.reset(Number.NaN, config.numEnvs);
    this.mode = 'preview';
    // The views read actions as f32: a Box env's (a Discrete env's indices are u32).
    await this.setSource({ spec, envs: env.buffers.slots, numEnvs: config.numEnvs, actions: box ? env.buffers.actions : null, actionDim: d });
    this.form.set(config);
    $('reset-hint').hidden = true;
    history.replaceState(null, '', configToUrl(config, demoDefaults(config.algo, config.env), new URLSearchParams(location.search)));
    this.previewNote = `Not trainable: ${reason}. Shown under a uniform random policy instead.`;
    this.status(this.previewNote);
  }

  /** `speed` steps of the preview's envs, each under fresh uniform random actions (written, then stepped: no readback). */
  private previewFrame() {
    const p = this.preview!;
    const space = p.env.spec.actionSpace;
    const n = p.env.numEnvs;
    const d = p.env.actionDim;
    for (let i = 0; i < this.speed; i++) {
      for (let env = 0; env < n; env++) {
        for (let k = 0; k < d; k++) {
          const u = rngUniform(p.seed, RNG_STREAM_RANDOM_POLICY + 1 + k, env, p.steps);
          p.actions[env * d + k] = space.type === 'Box' ? space.low[k] + (space.high[k] - space.low[k]) * u : Math.min(Math.floor(u * space.n), space.n - 1);
        }
      }
      const data = space.type === 'Box' ? p.actions : Uint32Array.from(p.actions);
      this.ctx.device.queue.writeBuffer(p.env.buffers.actions, 0, data);
      p.env.encodeSteps(1);
      p.steps++;
    }
  }

  /** The env selector changed: a new session (or preview) of that env with its defaults, training on if it was. */
  private async switchEnv() {
    const wasTraining = this.mode === 'training';
    if (!(await this.resetFromForm())) return;
    this.mode = wasTraining ? 'training' : 'ready';
    this.status(`${this.session!.config.env}: ${wasTraining ? 'training…' : 'press Start.'}`);
  }

  /**
   * A user's env module (.wgsl, descriptor in its header or in a .json given with it): parsed, checked by
   * the WGSL compiler against the interface and its descriptor, registered, selected. Throws EnvError (one
   * line naming the file) for any problem, leaving everything as it was.
   */
  private async loadEnvModule(files: File[]) {
    const modules = files.filter((f) => /\.wgsl$/i.test(f.name));
    const descriptors = files.filter((f) => /\.json$/i.test(f.name));
    if (modules.length !== 1 || descriptors.length > 1 || files.length > 2) {
      throw new EnvError(`choose one .wgsl env module, and its .json descriptor if it has no header (got ${files.map((f) => f.name).join(', ')})`);
    }
    const [module] = modules;
    const spec = parseEnvModule(await module.text(), module.name, descriptors.length > 0 ? await descriptors[0].text() : null);
    if (BUILTIN_ENV_IDS.includes(spec.id)) throw new EnvError(`${module.name}: env id "${spec.id}" is a built-in env; give yours another id`);
    await checkEnvModule(this.ctx, spec);
    registerEnv(spec);
    this.form.selectEnv(spec.id);
    const trains = await this.resetFromForm();
    if (trains) this.mode = 'ready';
    const summary = spec.summary ? ` (${spec.summary})` : '';
    this.status(`Loaded ${module.name}: ${spec.id}${summary}. ${trains ? 'Press Start to train it.' : this.previewNote}`);
  }

  private onMetrics(m: TrainMetrics) {
    this.lastMetrics = m;
    this.episodes += m.episodesFinished;
    this.returnsKnown ||= m.episodesFinished > 0;
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
    // Decoding registers a user's env the checkpoint carries; the compiler checks it before it trains.
    const ckpt = decodeCheckpoint(new Uint8Array(await file.arrayBuffer()));
    const spec = envSpec(ckpt.config.env);
    if ('code' in spec.module) await checkEnvModule(this.ctx, spec);
    await this.resetSession(ckpt.config, (session) => session.restore(ckpt));
    this.returnsKnown = ckpt.recentReturns.some((r) => r.length > 0);
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
        if (this.mode === 'preview') return this.status(this.previewNote);
        await this.stopWatching();
        if ((!this.session || this.mode === 'error') && !(await this.resetFromForm())) return this.status(this.previewNote);
        this.mode = 'training';
        this.status('Training…');
      }),
    );
    $('reset').addEventListener('click', () =>
      this.queue(async () => {
        const wasTraining = this.mode === 'training';
        if (!(await this.resetFromForm())) return this.status(this.previewNote);
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
    const envModule = $<HTMLInputElement>('env-module');
    envModule.addEventListener('change', () => {
      const files = [...(envModule.files ?? [])];
      envModule.value = '';
      if (files.length > 0) this.queue(() => this.loadEnvModule(files));
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
    if (this.mode === 'preview') return;
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
    const preview = this.mode === 'preview';
    for (const id of ['start', 'watch', 'download']) $<HTMLButtonElement>(id).disabled = preview;
    $('start').textContent = this.mode === 'training' ? 'Pause' : this.session && this.session.update > 0 ? 'Resume' : 'Start';
    $('watch').textContent = this.mode === 'watching' ? 'Stop watching' : 'Watch policy';
    $('watch').classList.toggle('active', this.mode === 'watching');
  }

  private status(text: string) {
    setStatus(text, this.mode);
  }

  // ---- drawing ---------------------------------------------------------------------------------

  /**
   * What the grid and the detail strip draw: a session's env slots (agent 0's envs come first), or a
   * preview's with its actions. A view that does not compile leaves the canvases empty and says why.
   */
  private async setSource(from: TrainingSession | (Omit<EnvViewSource, 'pipeline'> & { spec: EnvSpec }) | null) {
    const plain = from instanceof TrainingSession ? { spec: from.trainer.env, envs: from.trainer.buffers.envs, numEnvs: from.config.numEnvs } : from;
    let source: EnvViewSource | null = null;
    let problem = '';
    if (plain) {
      try {
        source = { ...plain, pipeline: await this.views.get(plain.spec) };
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    this.grid.setSource(source);
    this.detail.setSource(source);
    const n = plain?.numEnvs ?? 0;
    this.detail.picks = Array.from({ length: Math.min(DETAIL_ENVS, n) }, (_, i) => i);
    this.replaceIndex = 0;
    this.labelDetail();
    const count = (k: number) => k.toLocaleString('en-US');
    $('grid-caption').textContent = problem
      ? `Not drawn: ${problem}.`
      : n > MAX_GRID_CELLS
        ? `The first ${count(MAX_GRID_CELLS)} of ${count(n)} environments (${plain!.spec.id}; click one to follow it below).`
        : `All ${count(n)} environments (${plain?.spec.id ?? 'none'}), one cell each (click one to follow it below).`;
    if (source) $('detail-caption').textContent = source.pipeline.view.caption;
  }

  private labelDetail() {
    const labels = (this.detail.picks ?? []).map((env) => Object.assign(document.createElement('span'), { textContent: `env ${env}` }));
    $('detail-labels').replaceChildren(...labels);
    this.redraw = true;
  }

  private draw() {
    if (!this.session && !this.preview) return;
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

/** Whether the trainer can train `env` with some settings (checkTrainable: at most four actions or Box dimensions). */
function trainable(env: string): boolean {
  try {
    checkTrainable({ env });
    return true;
  } catch {
    return false;
  }
}

window.addEventListener('error', (event) => setStatus(`Error: ${event.message}`, 'error'));
window.addEventListener('unhandledrejection', (event) => setStatus(`Error: ${(event.reason as Error)?.message ?? event.reason}`, 'error'));
main().catch((error: Error) => setStatus(`Error: ${error.message}`, 'error'));
