/**
 * The training loop: one submit per update, metrics back through a ring of staging buffers every
 * `metricsEvery` updates, stopping at the step budget or once the last 100 episodes average the
 * target return. The loop never waits for the GPU except when every staging buffer is still in flight.
 */
import { resolveConfig, type TrainConfig } from '../config.ts';
import type { Checkpoint } from '../checkpoint.ts';
import { createStorageBuffer, readBuffer } from '../gpu/kernel.ts';
import type { GpuContext } from '../platform/gpu-context.ts';
import { GpuTrainer, METRIC_SLOTS, NUM_METRICS, STATS_BYTES, STATS_RING } from './gpu-trainer.ts';

export interface TrainMetrics {
  globalStep: number;
  updates: number;
  wallSeconds: number;
  sps: number;
  /** Mean return of the episodes finished since the previous report (NaN if none). */
  episodicReturn: number;
  episodicLength: number;
  episodesFinished: number;
  meanReturn100: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  explainedVariance: number;
  gradNorm: number;
}

export interface EvalResult {
  meanReturn: number;
  stdReturn: number;
  returns: Float32Array;
}

export interface TrainState {
  params: Float32Array;
  optM: Float32Array;
  optV: Float32Array;
}

export interface TrainResult {
  config: TrainConfig;
  solved: boolean;
  /** Why training stopped: 'solved', 'totalSteps', 'stopped' (by the caller), or 'nonFinite'. */
  stopReason: 'solved' | 'totalSteps' | 'stopped' | 'nonFinite';
  nonFiniteUpdate: number | null;
  envSteps: number;
  updates: number;
  trainSeconds: number;
  sps: number;
  meanReturn100: number;
  episodes: { returns: number[]; lengths: number[] };
  history: TrainMetrics[];
  evaluation: EvalResult | null;
  state: TrainState;
}

export interface TrainHooks {
  /** Every report: the metrics, and the returns of the episodes finished since the previous report. */
  onMetrics?(metrics: TrainMetrics, newReturns: number[]): void;
  /** Polled once per update; return true to stop after the current update. */
  shouldStop?(): boolean;
}

/** An uncaptured WebGPU error (validation, out of memory, internal) stopped the run. */
export class GpuError extends Error {}

/** The device was lost (driver reset, GPU removed, browser tab discarded): the run cannot go on here. */
export class DeviceLostError extends GpuError {}

const RING_SLOTS = 4;
const SLOT_BYTES = NUM_METRICS * 4 + STATS_BYTES;

interface PendingRead {
  buffer: GPUBuffer;
  update: number;
  done: Promise<void>;
}

/**
 * One training run, advanced one update at a time: the CLI's loop and the browser demo's animation
 * frames both drive it. `step()` encodes and submits one update and never waits for the GPU, except
 * when every staging buffer of the metrics ring is still in flight.
 */
export class TrainingSession {
  readonly config: TrainConfig;
  readonly trainer: GpuTrainer;
  readonly target: number;
  readonly maxUpdates: number;
  update = 0;
  solved = false;
  /**
   * Set when a report shows the target reached: the run stops after exactly this many updates. Reports
   * arrive asynchronously, so the updates already submitted at that moment vary with timing; stopping a
   * fixed number of updates after the solving report (as many as can be in flight) makes the final
   * parameters depend only on the seed and config.
   */
  stopAtUpdate: number | null = null;
  nonFiniteUpdate: number | null = null;
  readonly history: TrainMetrics[] = [];
  readonly returns: number[] = [];
  readonly lengths: number[] = [];
  private readonly recentReturns: number[] = [];
  private readonly ring: GPUBuffer[];
  private readonly pending: (PendingRead | null)[] = new Array(RING_SLOTS).fill(null);
  private readIndex = 0;
  private watchSteps = 0;
  private consumeIndex = 0;
  /** Reads whose mapAsync has resolved: consumed without waiting. */
  private readonly ready = new Set<PendingRead>();
  private startTime = performance.now();
  /** Recent (time, env steps) at report consumption, for a steps/s that two reads settling together cannot spike. */
  private readonly throughputWindow: { time: number; step: number }[] = [];

  constructor(readonly ctx: GpuContext, partialConfig: Partial<TrainConfig>, private readonly hooks: TrainHooks = {}) {
    this.config = resolveConfig(partialConfig);
    this.trainer = new GpuTrainer(ctx, this.config);
    this.target = this.config.targetReturn ?? this.trainer.envParams.rewardThreshold;
    this.maxUpdates = Math.ceil(this.config.totalSteps / this.trainer.numRows);
    this.ring = Array.from({ length: RING_SLOTS }, (_, i) =>
      ctx.device.createBuffer({ label: `metrics.staging${i}`, size: SLOT_BYTES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    );
  }

  /** Fresh parameters (or `state`, e.g. from a checkpoint), zero optimizer state unless given, envs reset. */
  initialize(state?: TrainState): void {
    this.trainer.initialize();
    if (state) this.trainer.loadState(state);
    this.startTime = performance.now();
    this.throughputWindow.splice(0, this.throughputWindow.length, { time: this.startTime, step: this.envSteps });
  }

  get envSteps(): number {
    return this.update * this.trainer.numRows;
  }

  get meanReturn100(): number {
    const r = this.recentReturns;
    return r.length > 0 ? r.reduce((a, b) => a + b, 0) / r.length : 0;
  }

  /** Why the run should stop now, or null to go on. */
  stopReason(): TrainResult['stopReason'] | null {
    if (this.nonFiniteUpdate !== null) return 'nonFinite';
    if (this.stopAtUpdate !== null && this.update >= this.stopAtUpdate) return 'solved';
    if (this.update >= this.maxUpdates) return 'totalSteps';
    return null;
  }

  /**
   * Encodes and submits one update (with a metrics copy every `metricsEvery` updates, or when
   * `report` is set, e.g. before a checkpoint). Throws DeviceLostError once the device is gone.
   */
  async step(report = false): Promise<void> {
    const { ctx, trainer, config } = this;
    const update = this.update;
    if (ctx.errors.length > 0) {
      const lost = ctx.errors.find((e) => e.startsWith('device lost'));
      if (lost) throw new DeviceLostError(`GPU device lost before update ${update}: ${lost}`);
      throw new GpuError(`WebGPU error before update ${update}: ${ctx.errors[0].split('\n')[0]}`);
    }
    trainer.writeUniform(update);
    const encoder = ctx.device.createCommandEncoder({ label: `update ${update}` });
    trainer.encodeUpdate(encoder, update);
    report ||= (update + 1) % config.metricsEvery === 0 || update === this.maxUpdates - 1;
    let slot = -1;
    if (report) {
      slot = this.readIndex++ % RING_SLOTS;
      await this.settle(slot); // backpressure: only when the whole ring is still in flight
      encoder.copyBufferToBuffer(trainer.buffers.metrics, 0, this.ring[slot], 0, NUM_METRICS * 4);
      encoder.copyBufferToBuffer(trainer.buffers.stats, 0, this.ring[slot], NUM_METRICS * 4, STATS_BYTES);
      encoder.clearBuffer(trainer.buffers.stats);
    }
    ctx.device.queue.submit([encoder.finish()]);
    this.update++;
    if (report) {
      const read: PendingRead = { buffer: this.ring[slot], update, done: Promise.resolve() };
      read.done = read.buffer.mapAsync(GPUMapMode.READ).then(() => void this.ready.add(read));
      this.pending[slot] = read;
      // Lets resolved mapAsync callbacks run; does not wait for the GPU.
      await new Promise((resolve) => setTimeout(resolve, 0));
      // Consume finished reads in report order, stopping at the first still in flight.
      while (this.consumeIndex < this.readIndex && this.isReady(this.consumeIndex % RING_SLOTS)) await this.settle(this.consumeIndex % RING_SLOTS);
    }
  }

  /**
   * Submits one rollout with the current policy and no learning (the demo's "watch" mode); episode
   * statistics still arrive through the metrics ring. The update counter (Adam's step, the learning-rate
   * schedule) is left alone; the rollouts draw their actions from a counter of their own.
   */
  async watchStep(): Promise<void> {
    const encoder = this.ctx.device.createCommandEncoder({ label: 'watch' });
    this.watchSteps++;
    this.trainer.writeUniform(0x80000000 + this.watchSteps);
    this.trainer.encodeRollout(encoder, this.update);
    const slot = this.readIndex++ % RING_SLOTS;
    await this.settle(slot);
    encoder.copyBufferToBuffer(this.trainer.buffers.metrics, 0, this.ring[slot], 0, NUM_METRICS * 4);
    encoder.copyBufferToBuffer(this.trainer.buffers.stats, 0, this.ring[slot], NUM_METRICS * 4, STATS_BYTES);
    encoder.clearBuffer(this.trainer.buffers.stats);
    this.ctx.device.queue.submit([encoder.finish()]);
    const read: PendingRead = { buffer: this.ring[slot], update: this.update, done: Promise.resolve() };
    read.done = read.buffer.mapAsync(GPUMapMode.READ).then(() => void this.ready.add(read));
    this.pending[slot] = read;
  }

  /** Waits for every metrics read in flight. */
  async drain(): Promise<void> {
    while (this.consumeIndex < this.readIndex) await this.settle(this.consumeIndex % RING_SLOTS);
  }

  /** Everything needed to continue exactly from here (waits for the GPU and the metrics in flight). */
  async checkpoint(): Promise<Checkpoint> {
    await this.drain();
    const state = await this.readState();
    const envSlots = await this.trainer.readEnvSlots();
    return { config: this.config, update: this.update, envSteps: this.envSteps, ...state, envSlots, recentReturns: [...this.recentReturns] };
  }

  /** Continues from a checkpoint of the same config: parameters, optimizer, envs, counters. */
  restore(ckpt: Checkpoint): void {
    this.initialize(ckpt);
    if (ckpt.envSlots) this.trainer.loadEnvSlots(ckpt.envSlots);
    this.update = ckpt.update;
    this.recentReturns.splice(0, this.recentReturns.length, ...ckpt.recentReturns);
    this.throughputWindow.splice(0, this.throughputWindow.length, { time: this.startTime, step: this.envSteps });
  }

  async readState(): Promise<TrainState> {
    const b = this.trainer.buffers;
    const size = this.trainer.layout.total * 4;
    const [params, optM, optV] = await Promise.all([b.params, b.optM, b.optV].map(async (buf) => new Float32Array(await readBuffer(this.ctx, buf, size))));
    return { params, optM, optV };
  }

  /** Frees the GPU buffers; metrics reads still in flight are dropped (their rejection is expected). */
  destroy(): void {
    for (const read of this.pending) read?.done.catch(() => {});
    for (const buffer of this.ring) buffer.destroy();
    this.trainer.destroy();
  }

  /** Env steps per second over the last ~second of reports (at least 8 reports back when they come fast). */
  private throughput(step: number, time: number): number {
    const w = this.throughputWindow;
    w.push({ time, step });
    while (w.length > 8 && time - w[1].time > 1000) w.shift();
    const first = w[0];
    return ((step - first.step) * 1000) / Math.max(time - first.time, 1);
  }

  private isReady(slot: number): boolean {
    const read = this.pending[slot];
    return read !== null && this.ready.has(read);
  }

  /** Waits for the read in `slot` (always the oldest unconsumed one: slots are used round-robin). */
  private async settle(slot: number) {
    const read = this.pending[slot];
    if (!read) return;
    await read.done;
    this.pending[slot] = null;
    this.consumeIndex++;
    this.ready.delete(read);
    this.consume(read.buffer.getMappedRange().slice(0), read.update);
    read.buffer.unmap();
  }

  private consume(raw: ArrayBuffer, update: number) {
    const { config } = this;
    const metrics = new Float32Array(raw, 0, NUM_METRICS);
    const head = new Uint32Array(raw, NUM_METRICS * 4, 4);
    const finished = head[0];
    const ringReturns = new Float32Array(raw, NUM_METRICS * 4 + 16, Math.min(finished, STATS_RING));
    for (const r of ringReturns) {
      this.returns.push(r);
      this.recentReturns.push(r);
    }
    if (finished > 0) this.lengths.push(head[1] / finished);
    while (this.recentReturns.length > 100) this.recentReturns.shift();
    const meanReturn100 = this.meanReturn100;
    if (!this.solved && this.recentReturns.length >= Math.min(100, config.numEnvs) && meanReturn100 >= this.target) {
      this.solved = true;
      this.stopAtUpdate = Math.min(this.maxUpdates, update + 1 + RING_SLOTS * config.metricsEvery);
    }
    if (metrics[METRIC_SLOTS.firstNonFiniteUpdate] > 0) this.nonFiniteUpdate = metrics[METRIC_SLOTS.firstNonFiniteUpdate] - 1;
    const globalStep = (update + 1) * this.trainer.numRows;
    const now = performance.now();
    const m: TrainMetrics = {
      globalStep,
      updates: update + 1,
      wallSeconds: (now - this.startTime) / 1000,
      sps: this.throughput(globalStep, now),
      episodicReturn: ringReturns.length > 0 ? ringReturns.reduce((a, b) => a + b, 0) / ringReturns.length : Number.NaN,
      episodicLength: finished > 0 ? head[1] / finished : Number.NaN,
      episodesFinished: finished,
      meanReturn100,
      policyLoss: metrics[METRIC_SLOTS.policyLoss],
      valueLoss: metrics[METRIC_SLOTS.valueLoss],
      entropy: metrics[METRIC_SLOTS.entropy],
      explainedVariance: metrics[METRIC_SLOTS.explainedVariance],
      gradNorm: metrics[METRIC_SLOTS.gradNorm],
    };
    this.history.push(m);
    this.hooks.onMetrics?.(m, Array.from(ringReturns));
  }
}

/** Trains until solved, out of steps, stopped or non-finite; then evaluates fresh episodes. */
export async function train(ctx: GpuContext, partialConfig: Partial<TrainConfig>, hooks: TrainHooks = {}, initialState?: TrainState): Promise<TrainResult> {
  const session = new TrainingSession(ctx, partialConfig, hooks);
  const { config } = session;
  session.initialize(initialState);
  const start = performance.now();
  let stopReason: TrainResult['stopReason'] | null = null;
  while ((stopReason = session.stopReason()) === null) {
    if (hooks.shouldStop?.()) {
      stopReason = 'stopped';
      break;
    }
    await session.step();
  }
  await session.drain();
  if (stopReason !== 'stopped') stopReason = session.stopReason() ?? stopReason;
  ctx.throwIfErrors();
  const trainSeconds = (performance.now() - start) / 1000;
  const state = await session.readState();
  const evaluation = config.evalEpisodes > 0 ? await evaluate(ctx, session.trainer, config.evalEpisodes, false) : null;
  session.destroy();
  return {
    config,
    solved: session.solved,
    stopReason,
    nonFiniteUpdate: session.nonFiniteUpdate,
    envSteps: session.envSteps,
    updates: session.update,
    trainSeconds,
    sps: session.envSteps / trainSeconds,
    meanReturn100: session.meanReturn100,
    episodes: { returns: session.returns, lengths: session.lengths },
    history: session.history,
    evaluation,
    state,
  };
}

/** Fresh episodes with the trainer's current parameters, seeded apart from training. */
export async function evaluate(ctx: GpuContext, trainer: GpuTrainer, numEpisodes: number, greedy: boolean, seed = (trainer.config.seed ^ 0x5eed) >>> 0): Promise<EvalResult> {
  const out = createStorageBuffer(ctx, 'evaluation', numEpisodes * 16);
  trainer.writeUniform(0, { numEnvs: numEpisodes, seed, greedy });
  const encoder = ctx.device.createCommandEncoder({ label: 'evaluation' });
  trainer.encodeEvaluation(encoder, out, numEpisodes);
  ctx.device.queue.submit([encoder.finish()]);
  const raw = new Float32Array(await readBuffer(ctx, out, numEpisodes * 16));
  out.destroy();
  const returns = Float32Array.from({ length: numEpisodes }, (_, i) => raw[i * 4]);
  const mean = returns.reduce((a, b) => a + b, 0) / numEpisodes;
  const std = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / numEpisodes);
  return { meanReturn: mean, stdReturn: std, returns };
}
