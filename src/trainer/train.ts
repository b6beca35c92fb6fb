/**
 * The training loop: one submit per update, metrics back through a ring of staging buffers every
 * `metricsEvery` updates, stopping at the step budget or once the last 100 episodes average the
 * target return. The loop never waits for the GPU except when every staging buffer is still in flight.
 */
import { agentConfig, agentSeed, resolveConfig, type TrainConfig } from '../config.ts';
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
  /** PPO only: the approximate KL of the last minibatch, the mean fraction of clipped ratios, epochs run. */
  approxKl?: number;
  clipFraction?: number;
  epochs?: number;
  /** With --num-agents > 1: each agent's figures; the fields above are their means. */
  agents?: AgentMetrics[];
}

/** One agent's share of a report (TrainMetrics averages them), when several agents train together. */
export interface AgentMetrics {
  seed: number;
  meanReturn100: number;
  episodicReturn: number;
  /** Mean length of the episodes finished since the last report (NaN when none). */
  episodicLength: number;
  episodesFinished: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  explainedVariance: number;
  gradNorm: number;
  approxKl?: number;
  clipFraction?: number;
  epochs?: number;
  solved: boolean;
}

export interface EvalResult {
  meanReturn: number;
  stdReturn: number;
  /** Every episode's return, agent-major. */
  returns: Float32Array;
  /** Per agent (one entry when training one agent). */
  perAgent: { meanReturn: number; stdReturn: number }[];
}

export interface TrainState {
  params: Float32Array;
  optM: Float32Array;
  optV: Float32Array;
  /** PPO: each agent's Adam step count (kept on the GPU: a target-KL stop takes fewer steps); absent otherwise. */
  adamSteps?: Float32Array;
}

export interface TrainResult {
  config: TrainConfig;
  solved: boolean;
  /** Per agent, the env steps at which the mean of its last 100 returns first reached the target (null: never). */
  solvedAtStep: (number | null)[];
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
  /** Every report: the metrics, and per agent the returns of the episodes finished since the previous report. */
  onMetrics?(metrics: TrainMetrics, newReturns: number[][]): void;
  /** Polled once per update; return true to stop after the current update. */
  shouldStop?(): boolean;
}

/** An uncaptured WebGPU error (validation, out of memory, internal) stopped the run. */
export class GpuError extends Error {}

/** The device was lost (driver reset, GPU removed, browser tab discarded): the run cannot go on here. */
export class DeviceLostError extends GpuError {}

const RING_SLOTS = 4;
/** A target counts as reached once this many finished episodes average it (the last ones). */
const SOLVE_EPISODES = 100;
/** One agent's share of a metrics staging buffer: its metrics, then its episode stats. */
const AGENT_SLOT_BYTES = NUM_METRICS * 4 + STATS_BYTES;

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
  /** Agent 0's target (the only agent's, unless --num-agents > 1). */
  readonly target: number;
  /** Each agent's target: the mean of its last 100 returns that stops it (its own targetReturn in a sweep). */
  readonly agentTargets: number[];
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
  /** The agent whose update went non-finite first. */
  nonFiniteAgent: number | null = null;
  readonly history: TrainMetrics[] = [];
  /** Returns of every finished episode, per agent, in report order. */
  readonly agentReturns: number[][];
  readonly lengths: number[] = [];
  /** Returns of each agent's last (up to) 100 episodes: the stopping rule. */
  private readonly recentReturns: number[][];
  private readonly agentSolved: boolean[];
  /** Per agent, the env steps (of that agent) at the report that first showed its target reached; null before. */
  readonly solvedAtStep: (number | null)[];
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
    // An env without a threshold (Pendulum) is never "solved": it trains to --total-steps unless given a target.
    this.agentTargets = Array.from({ length: this.config.numAgents }, (_, a) => agentConfig(this.config, a).targetReturn ?? this.trainer.env.rewardThreshold ?? Number.POSITIVE_INFINITY);
    this.target = this.agentTargets[0];
    this.maxUpdates = Math.ceil(this.config.totalSteps / this.trainer.numRows);
    const g = this.config.numAgents;
    this.agentReturns = Array.from({ length: g }, () => []);
    this.recentReturns = Array.from({ length: g }, () => []);
    this.agentSolved = new Array(g).fill(false);
    this.solvedAtStep = new Array(g).fill(null);
    this.ring = Array.from({ length: RING_SLOTS }, (_, i) =>
      ctx.device.createBuffer({ label: `metrics.staging${i}`, size: g * AGENT_SLOT_BYTES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    );
  }

  /** Fresh parameters (or `state`, e.g. from a checkpoint), zero optimizer state unless given, envs reset. */
  initialize(state?: TrainState): void {
    this.trainer.initialize();
    if (state) this.trainer.loadState(state);
    this.startTime = performance.now();
    this.throughputWindow.splice(0, this.throughputWindow.length, { time: this.startTime, step: this.envSteps });
  }

  /** Env steps of one agent (all agents take the same number). */
  get envSteps(): number {
    return this.update * this.trainer.numRows;
  }

  /** Agent 0's episode returns (the only agent's, unless --num-agents > 1). */
  get returns(): number[] {
    return this.agentReturns[0];
  }

  /** Mean return of the last 100 episodes, averaged over agents. */
  get meanReturn100(): number {
    return mean(this.recentReturns.map((r) => mean(r)));
  }

  agentMeanReturn100(agent: number): number {
    return mean(this.recentReturns[agent]);
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
      this.encodeReport(encoder, this.ring[slot]);
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
    this.encodeReport(encoder, this.ring[slot]);
    this.ctx.device.queue.submit([encoder.finish()]);
    const read: PendingRead = { buffer: this.ring[slot], update: this.update, done: Promise.resolve() };
    read.done = read.buffer.mapAsync(GPUMapMode.READ).then(() => void this.ready.add(read));
    this.pending[slot] = read;
  }

  /** Copies every agent's metrics and episode stats into a staging buffer, then clears the stats. */
  private encodeReport(encoder: GPUCommandEncoder, staging: GPUBuffer) {
    const g = this.config.numAgents;
    encoder.copyBufferToBuffer(this.trainer.buffers.metrics, 0, staging, 0, g * NUM_METRICS * 4);
    encoder.copyBufferToBuffer(this.trainer.buffers.stats, 0, staging, g * NUM_METRICS * 4, g * STATS_BYTES);
    encoder.clearBuffer(this.trainer.buffers.stats);
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
    const normStats = this.trainer.normalizes ? await this.trainer.readNormStats() : null;
    return { config: this.config, update: this.update, envSteps: this.envSteps, ...state, envSlots, normStats, recentReturns: this.recentReturns.map((r) => [...r]), solvedAtStep: [...this.solvedAtStep] };
  }

  /** Continues from a checkpoint of the same config: parameters, optimizer, envs, counters. */
  restore(ckpt: Checkpoint): void {
    this.initialize(ckpt);
    if (ckpt.envSlots) this.trainer.loadEnvSlots(ckpt.envSlots);
    if (ckpt.normStats) this.trainer.loadNormStats(ckpt.normStats);
    this.update = ckpt.update;
    ckpt.recentReturns.forEach((r, agent) => this.recentReturns[agent]?.splice(0, this.recentReturns[agent].length, ...r));
    // A run resumed after its agents reached their targets keeps the step they did and stops where it would have.
    ckpt.solvedAtStep?.forEach((step, agent) => {
      this.solvedAtStep[agent] = step;
      this.agentSolved[agent] = step !== null;
    });
    if (this.agentSolved.every(Boolean)) {
      this.solved = true;
      const lastSolveUpdate = Math.max(...this.solvedAtStep.map((s) => s! / this.trainer.numRows));
      if (this.config.stopOnTarget) this.stopAtUpdate = Math.min(this.maxUpdates, lastSolveUpdate + RING_SLOTS * this.config.metricsEvery);
    }
    this.throughputWindow.splice(0, this.throughputWindow.length, { time: this.startTime, step: this.envSteps });
  }

  async readState(): Promise<TrainState> {
    const b = this.trainer.buffers;
    const size = this.trainer.totalParams * 4;
    const [params, optM, optV] = await Promise.all([b.params, b.optM, b.optV].map(async (buf) => new Float32Array(await readBuffer(this.ctx, buf, size))));
    if (!this.trainer.ppo) return { params, optM, optV };
    return { params, optM, optV, adamSteps: await this.trainer.readAdamSteps() };
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
    const g = config.numAgents;
    const agents: AgentMetrics[] = [];
    const newReturns: number[][] = [];
    let lengthSum = 0;
    let finishedSum = 0;
    for (let a = 0; a < g; a++) {
      const metrics = new Float32Array(raw, a * NUM_METRICS * 4, NUM_METRICS);
      const statsAt = g * NUM_METRICS * 4 + a * STATS_BYTES;
      const head = new Uint32Array(raw, statsAt, 4);
      const finished = head[0];
      const ringReturns = Array.from(new Float32Array(raw, statsAt + 16, Math.min(finished, STATS_RING)));
      const recent = this.recentReturns[a];
      for (const r of ringReturns) {
        this.agentReturns[a].push(r);
        recent.push(r);
      }
      while (recent.length > SOLVE_EPISODES) recent.shift();
      finishedSum += finished;
      lengthSum += head[1];
      // Gymnasium's "solved": the average over 100 consecutive episodes; fewer (a few lucky first episodes of
      // a small N with long episodes, as MountainCarContinuous's 8 envs of 999 steps) do not count.
      if (!this.agentSolved[a] && recent.length >= SOLVE_EPISODES && mean(recent) >= this.agentTargets[a]) {
        this.agentSolved[a] = true;
        this.solvedAtStep[a] = (update + 1) * this.trainer.numRows;
      }
      const firstBad = metrics[METRIC_SLOTS.firstNonFiniteUpdate];
      if (firstBad > 0 && (this.nonFiniteUpdate === null || firstBad - 1 < this.nonFiniteUpdate)) {
        this.nonFiniteUpdate = firstBad - 1;
        this.nonFiniteAgent = a;
      }
      newReturns.push(ringReturns);
      agents.push({
        seed: agentSeed(config, a),
        meanReturn100: mean(recent),
        episodicReturn: ringReturns.length > 0 ? mean(ringReturns) : Number.NaN,
        episodicLength: finished > 0 ? head[1] / finished : Number.NaN,
        episodesFinished: finished,
        policyLoss: metrics[METRIC_SLOTS.policyLoss],
        valueLoss: metrics[METRIC_SLOTS.valueLoss],
        entropy: metrics[METRIC_SLOTS.entropy],
        explainedVariance: metrics[METRIC_SLOTS.explainedVariance],
        gradNorm: metrics[METRIC_SLOTS.gradNorm],
        ...(config.algo === 'ppo'
          ? {
              approxKl: metrics[METRIC_SLOTS.approxKl],
              clipFraction: metrics[METRIC_SLOTS.clipFractionSum] / Math.max(1, metrics[METRIC_SLOTS.minibatches]),
              epochs: metrics[METRIC_SLOTS.epochs],
            }
          : {}),
        solved: this.agentSolved[a],
      });
    }
    if (finishedSum > 0) this.lengths.push(lengthSum / finishedSum);
    if (!this.solved && this.agentSolved.every(Boolean)) {
      this.solved = true;
      // --stop-on-target false (a sweep) trains every agent to its budget and only records the crossing.
      if (config.stopOnTarget) this.stopAtUpdate = Math.min(this.maxUpdates, update + 1 + RING_SLOTS * config.metricsEvery);
    }
    const globalStep = (update + 1) * this.trainer.numRows;
    const now = performance.now();
    const avg = (pick: (a: AgentMetrics) => number) => mean(agents.map(pick));
    const allNew = newReturns.flat();
    const m: TrainMetrics = {
      globalStep,
      updates: update + 1,
      wallSeconds: (now - this.startTime) / 1000,
      sps: g * this.throughput(globalStep, now),
      episodicReturn: allNew.length > 0 ? mean(allNew) : Number.NaN,
      episodicLength: finishedSum > 0 ? lengthSum / finishedSum : Number.NaN,
      episodesFinished: finishedSum,
      meanReturn100: this.meanReturn100,
      policyLoss: avg((a) => a.policyLoss),
      valueLoss: avg((a) => a.valueLoss),
      entropy: avg((a) => a.entropy),
      explainedVariance: avg((a) => a.explainedVariance),
      gradNorm: avg((a) => a.gradNorm),
      ...(config.algo === 'ppo' ? { approxKl: avg((a) => a.approxKl!), clipFraction: avg((a) => a.clipFraction!), epochs: avg((a) => a.epochs!) } : {}),
      ...(g > 1 ? { agents } : {}),
    };
    this.history.push(m);
    this.hooks.onMetrics?.(m, newReturns);
  }
}

function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
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
    solvedAtStep: [...session.solvedAtStep],
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

/**
 * Fresh episodes with the trainer's current parameters (numEpisodes per agent), seeded apart from training:
 * agent a's from its seed XOR 0x5eed, or from `seed` + a when given (eval --seed).
 */
export async function evaluate(ctx: GpuContext, trainer: GpuTrainer, numEpisodes: number, greedy: boolean, seed?: number): Promise<EvalResult> {
  const g = trainer.config.numAgents;
  const out = createStorageBuffer(ctx, 'evaluation', g * numEpisodes * 16);
  const seeds = Array.from({ length: g }, (_, a) => (seed === undefined ? agentSeed(trainer.config, a) ^ 0x5eed : seed + a) >>> 0);
  trainer.writeUniform(0, { numEnvs: numEpisodes, seeds, greedy });
  const encoder = ctx.device.createCommandEncoder({ label: 'evaluation' });
  trainer.encodeEvaluation(encoder, out, numEpisodes);
  ctx.device.queue.submit([encoder.finish()]);
  const raw = new Float32Array(await readBuffer(ctx, out, g * numEpisodes * 16));
  out.destroy();
  const returns = Float32Array.from({ length: g * numEpisodes }, (_, i) => raw[i * 4]);
  const stats = (r: Float32Array) => {
    const m = mean(r);
    return { meanReturn: m, stdReturn: Math.sqrt(r.reduce((acc, x) => acc + (x - m) ** 2, 0) / r.length) };
  };
  const perAgent = Array.from({ length: g }, (_, a) => stats(returns.subarray(a * numEpisodes, (a + 1) * numEpisodes)));
  return { ...stats(returns), returns, perAgent };
}
