/**
 * The training loop: one submit per update, metrics back through a ring of staging buffers every
 * `metricsEvery` updates, stopping at the step budget or once the last 100 episodes average the
 * target return. The loop never waits for the GPU except when every staging buffer is still in flight.
 */
import { defaultConfig, type TrainConfig } from '../config.ts';
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
  onMetrics?(metrics: TrainMetrics): void;
  /** Polled once per update; return true to stop after the current update. */
  shouldStop?(): boolean;
}

const RING_SLOTS = 4;
const SLOT_BYTES = NUM_METRICS * 4 + STATS_BYTES;

interface PendingRead {
  buffer: GPUBuffer;
  update: number;
  done: Promise<void>;
}

export async function train(ctx: GpuContext, partialConfig: Partial<TrainConfig>, hooks: TrainHooks = {}): Promise<TrainResult> {
  const config = { ...defaultConfig(), ...partialConfig };
  const trainer = new GpuTrainer(ctx, config);
  const target = config.targetReturn ?? trainer.envParams.rewardThreshold;
  const stepsPerUpdate = trainer.numRows;
  const maxUpdates = Math.ceil(config.totalSteps / stepsPerUpdate);
  const start = performance.now();

  const recentReturns: number[] = [];
  const returns: number[] = [];
  const lengths: number[] = [];
  const history: TrainMetrics[] = [];
  let solved = false;
  let nonFiniteUpdate: number | null = null;

  // The ring of staging buffers: slot i is free again once its mapAsync resolved and was read.
  const ring = Array.from({ length: RING_SLOTS }, (_, i) =>
    ctx.device.createBuffer({ label: `metrics.staging${i}`, size: SLOT_BYTES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
  );
  const pending: (PendingRead | null)[] = new Array(RING_SLOTS).fill(null);
  let lastReport = { step: 0, time: start };

  const consume = (raw: ArrayBuffer, update: number) => {
    const metrics = new Float32Array(raw, 0, NUM_METRICS);
    const head = new Uint32Array(raw, NUM_METRICS * 4, 4);
    const finished = head[0];
    const ringReturns = new Float32Array(raw, NUM_METRICS * 4 + 16, Math.min(finished, STATS_RING));
    for (const r of ringReturns) {
      returns.push(r);
      recentReturns.push(r);
    }
    if (finished > 0) lengths.push(head[1] / finished);
    while (recentReturns.length > 100) recentReturns.shift();
    const meanReturn100 = recentReturns.length > 0 ? recentReturns.reduce((a, b) => a + b, 0) / recentReturns.length : 0;
    if (recentReturns.length >= Math.min(100, config.numEnvs) && meanReturn100 >= target) solved = true;
    if (metrics[METRIC_SLOTS.firstNonFiniteUpdate] > 0) nonFiniteUpdate = metrics[METRIC_SLOTS.firstNonFiniteUpdate] - 1;
    const globalStep = (update + 1) * stepsPerUpdate;
    const now = performance.now();
    const m: TrainMetrics = {
      globalStep,
      updates: update + 1,
      wallSeconds: (now - start) / 1000,
      sps: ((globalStep - lastReport.step) * 1000) / Math.max(now - lastReport.time, 1e-3),
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
    lastReport = { step: globalStep, time: now };
    history.push(m);
    hooks.onMetrics?.(m);
  };

  const settle = async (slot: number) => {
    const read = pending[slot];
    if (!read) return;
    await read.done;
    consume(read.buffer.getMappedRange().slice(0), read.update);
    read.buffer.unmap();
    pending[slot] = null;
  };

  trainer.initialize();
  let update = 0;
  let readIndex = 0;
  let stopReason: TrainResult['stopReason'] = 'totalSteps';
  for (; update < maxUpdates; update++) {
    if (solved) { stopReason = 'solved'; break; }
    if (nonFiniteUpdate !== null) { stopReason = 'nonFinite'; break; }
    if (hooks.shouldStop?.()) { stopReason = 'stopped'; break; }
    trainer.writeUniform(update);
    const encoder = ctx.device.createCommandEncoder({ label: `update ${update}` });
    trainer.encodeUpdate(encoder, update);
    const report = (update + 1) % config.metricsEvery === 0 || update === maxUpdates - 1;
    let slot = -1;
    if (report) {
      slot = readIndex++ % RING_SLOTS;
      await settle(slot); // backpressure: only when the whole ring is still in flight
      encoder.copyBufferToBuffer(trainer.buffers.metrics, 0, ring[slot], 0, NUM_METRICS * 4);
      encoder.copyBufferToBuffer(trainer.buffers.stats, 0, ring[slot], NUM_METRICS * 4, STATS_BYTES);
      encoder.clearBuffer(trainer.buffers.stats);
    }
    ctx.device.queue.submit([encoder.finish()]);
    if (report) pending[slot] = { buffer: ring[slot], update, done: ring[slot].mapAsync(GPUMapMode.READ) };
    // Let mapAsync callbacks run without blocking on the GPU.
    if (report) await new Promise((resolve) => setImmediate(resolve));
  }
  if (update >= maxUpdates && solved) stopReason = 'solved';
  for (let i = 0; i < RING_SLOTS; i++) await settle((readIndex + i) % RING_SLOTS);
  if (solved && stopReason !== 'solved') stopReason = 'solved';
  if (nonFiniteUpdate !== null) stopReason = 'nonFinite';
  ctx.throwIfErrors();
  const updates = update;
  const trainSeconds = (performance.now() - start) / 1000;

  const [params, optM, optV] = await Promise.all(
    [trainer.buffers.params, trainer.buffers.optM, trainer.buffers.optV].map(async (b) => new Float32Array(await readBuffer(ctx, b, trainer.layout.total * 4))),
  );
  const evaluation = config.evalEpisodes > 0 ? await evaluate(ctx, trainer, config.evalEpisodes, false) : null;
  for (const buffer of ring) buffer.destroy();
  trainer.destroy();
  const envSteps = updates * stepsPerUpdate;
  return {
    config,
    solved,
    stopReason,
    nonFiniteUpdate,
    envSteps,
    updates,
    trainSeconds,
    sps: envSteps / trainSeconds,
    meanReturn100: recentReturns.length > 0 ? recentReturns.reduce((a, b) => a + b, 0) / recentReturns.length : 0,
    episodes: { returns, lengths },
    history,
    evaluation,
    state: { params, optM, optV },
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
