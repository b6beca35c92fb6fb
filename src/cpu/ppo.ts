/**
 * CPU reference of PPO's update (CleanRL's ppo.py and ppo_continuous_action.py), composed of the per-op
 * references as src/cpu/update.ts composes A2C's:
 *   CALCULATE TARGETS computeTargets     GAE(λ) as a2c: R = Â + V
 *                     advantageMoments   explained variance of the rollout's values
 *                     old log-probs      log π_old(a|s) of every row, the parameters at the update's start
 *   UPDATE NETWORK    for epoch e < E, minibatch m < B/M:
 *                       rows = ppoPermutation(seed, update, e, B)[m·M, (m+1)·M)
 *                       forward on the rows, ppoLoss, backward, optimizerUpdate (Adam's t counts minibatch steps)
 *                     after each epoch: stop when targetKl is set and the epoch's last approxKl exceeds it
 * Arithmetic is f64; the persistent state (params, optimizer moments) is f32 arrays as on the GPU.
 *
 * The shuffle (ppoPermute, twin of shaders/ppo_shuffle.wgsl, bit for bit) is a 4-round Feistel network on
 * [0, 2^bits) keyed by the counter RNG, cycle-walked into [0, B): each index maps on its own, so a GPU
 * thread finds its row with no sort. CleanRL draws np.random.shuffle instead; any seeded bijection per
 * epoch gives the same algorithm.
 *
 * The loss over one minibatch of M rows (ppoLoss), with c = clipCoef:
 *   Â      = normalizeAdvantage ? (adv − mean)/(std + 1e-8) over the M rows (unbiased std; M = 1: std = 0,
 *            so Â = 0 where torch would give NaN) : adv            a constant (data, not differentiated)
 *   ratio  = exp(logπ(a|s) − logπ_old(a|s))
 *   pgLoss = mean(max(−Â·ratio, −Â·clamp(ratio, 1 − c, 1 + c)))
 *   vLoss  = ½·mean(max((V − R)², (V_old + clamp(V − V_old, −c, c) − R)²))    clipVloss
 *          = ½·mean((V − R)²)                                                  otherwise (CleanRL's ½)
 *   loss   = pgLoss − entCoef·mean(H) + vfCoef·vLoss
 *   approxKl = mean((ratio − 1) − log ratio),  clipFraction = mean(|ratio − 1| > c)   (logged, no gradient)
 * Gradients as PyTorch's autograd takes them: max(a, b) sends the gradient to the larger, half to each on
 * an exact tie (torch.maximum); clamp(x, lo, hi) passes it for lo ≤ x ≤ hi (inclusive), else 0. Per row i:
 *   dlogp_i = (1/M)·∂max/∂ratio_i·ratio_i
 *   dZ      categorical: dlogp_i·(1[k = a_i] − p_k) + (entCoef/M)·p_k·(log p_k + H_i)
 *           Gaussian:    dμ_d = dlogp_i·(a_d − μ_d)/σ_d²;  dLogStd_d = Σ_i dlogp_i·(ε_{i,d}² − 1) − entCoef,
 *                        ε = (a − μ)/σ
 *   dV_i    = vfCoef·½·(1/M)·∂max/∂V_i
 */
import type { TrainConfig } from '../config.ts';
import { paramLayout, tensorView, type NetShape } from '../model/layout.ts';
import { RNG_STREAM_PPO_SHUFFLE, rngU32 } from '../rng.ts';
import { actorCriticBackward, actorCriticForward } from './actor-critic.ts';
import { gaussianBackward, gaussianEntropy, gaussianLogProb } from './gaussian.ts';
import { policyHeadBackward, policyHeadForward } from './policy-head.ts';
import { normalizeAdvantages } from './returns.ts';
import { networkInputs, type RolloutTensors } from './rollout.ts';
import {
  advantageMoments,
  computeTargets,
  learningRateAt,
  optimizerUpdate,
  type OptimizerResult,
  type OptimizerState,
  type UpdateConfig,
  type UpdateTargets,
} from './update.ts';

export type PpoConfig = UpdateConfig & Pick<TrainConfig, 'updateEpochs' | 'numMinibatches' | 'clipCoef' | 'clipVloss' | 'targetKl'>;

/**
 * Row ppoPermute(…, i) of the shuffled batch [0, batch) of epoch `epoch` of update `update`: a bijection of
 * [0, batch) for each (seed, update, epoch). u32 arithmetic throughout, as shaders/ppo_shuffle.wgsl.
 */
export function ppoPermute(seed: number, update: number, epoch: number, batch: number, i: number): number {
  if (!Number.isInteger(batch) || batch < 1 || batch > 0xffffffff) throw new RangeError(`ppoPermute: batch must be an integer in [1, 2^32), got ${batch}`);
  // From an i outside [0, batch) the walk could circle a cycle that never enters it.
  if (!Number.isInteger(i) || i < 0 || i >= batch) throw new RangeError(`ppoPermute: index ${i} outside [0, ${batch})`);
  const ceilLog2 = 32 - Math.clz32(batch - 1);
  const bits = Math.max(2, ceilLog2 + (ceilLog2 & 1));
  const h = bits / 2;
  const mask = (1 << h) - 1; // h ≤ 16
  const stream = (RNG_STREAM_PPO_SHUFFLE + 4 * epoch) >>> 0;
  let x = i >>> 0;
  do {
    let l = x >>> h;
    let r = x & mask;
    for (let k = 0; k < 4; k++) {
      const f = rngU32(seed, (stream + k) >>> 0, r, update) & mask;
      const nextR = (l ^ f) >>> 0;
      l = r;
      r = nextR;
    }
    x = ((l << h) | r) >>> 0;
  } while (x >= batch);
  return x;
}

/** perm[j] = ppoPermute(seed, update, epoch, batch, j) for j < batch: the rows of epoch `epoch` in minibatch order. */
export function ppoPermutation(seed: number, update: number, epoch: number, batch: number): Uint32Array {
  const perm = new Uint32Array(batch);
  for (let j = 0; j < batch; j++) perm[j] = ppoPermute(seed, update, epoch, batch, j);
  return perm;
}

export interface PpoLossInputs {
  /** [M×A]: a categorical policy's logits, or a Gaussian policy's means μ (A = D). */
  z: ArrayLike<number>;
  /** [D]: a Gaussian policy's log standard deviations; null: a categorical policy. */
  logStd: ArrayLike<number> | null;
  /** [M] action indices (categorical), or [M×D] the rollout's unclipped samples (Gaussian). */
  actions: ArrayLike<number>;
  oldLogProb: ArrayLike<number>; // [M], log π_old(a|s): the rollout's policy
  advantages: ArrayLike<number>; // [M], raw (normalized here when asked)
  returns: ArrayLike<number>; // [M]
  oldValues: ArrayLike<number>; // [M], the rollout's V(s)
  values: ArrayLike<number>; // [M], the critic's new V(s)
  normalizeAdvantage: boolean;
  clipCoef: number;
  clipVloss: boolean;
  entCoef: number;
  vfCoef: number;
  M: number;
  A: number;
}

export interface PpoLossResult {
  pgLoss: number;
  vLoss: number;
  entropy: number;
  loss: number;
  approxKl: number;
  clipFraction: number;
  ratio: Float64Array; // [M]
  newLogProb: Float64Array; // [M]
  /** Â: the advantages the surrogate used (normalized over the M rows when asked). */
  lossAdvantages: Float64Array; // [M]
  dZ: Float64Array; // [M×A]
  dValues: Float64Array; // [M]
  dLogStd: Float64Array; // [D]; empty for a categorical policy
}

/** How torch.maximum's backward splits the gradient of max(a, b): [to a, to b]. */
function maxSplit(a: number, b: number): [number, number] {
  return a > b ? [1, 0] : a < b ? [0, 1] : [0.5, 0.5];
}

const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

/** torch.clamp's derivative: 1 on [lo, hi], bounds included; 0 outside. */
const clampSlope = (x: number, lo: number, hi: number) => (x >= lo && x <= hi ? 1 : 0);

export function ppoLoss(inp: PpoLossInputs): PpoLossResult {
  const { z, logStd, actions, oldLogProb, advantages, returns, oldValues, values, clipCoef: c, clipVloss, entCoef, vfCoef, M, A } = inp;
  if (!Number.isInteger(M) || M < 1) throw new Error(`ppoLoss: M must be a positive integer, got ${M}`);
  if (logStd && logStd.length !== A) throw new Error(`ppoLoss: logStd has ${logStd.length} entries, D = ${A}`);
  const lossAdvantages = Float64Array.from({ length: M }, (_, i) => advantages[i]);
  if (inp.normalizeAdvantage) normalizeAdvantages(lossAdvantages);

  const newLogProb = new Float64Array(M);
  const rowEntropy = new Float64Array(M);
  const logProbs = logStd ? null : new Float64Array(M * A);
  if (logStd) {
    const h = gaussianEntropy(logStd);
    for (let i = 0; i < M; i++) {
      newLogProb[i] = gaussianLogProb(actions, z, logStd, i * A);
      rowEntropy[i] = h;
    }
  } else {
    policyHeadForward(logProbs!, newLogProb, rowEntropy, z, actions, M, A);
  }

  const inv = 1 / M;
  const ratio = new Float64Array(M);
  const dLogProb = new Float64Array(M);
  const dValues = new Float64Array(M);
  let pgSum = 0, vSum = 0, entropySum = 0, klSum = 0, clipped = 0;
  for (let i = 0; i < M; i++) {
    const logratio = newLogProb[i] - oldLogProb[i];
    const r = Math.exp(logratio);
    ratio[i] = r;
    klSum += r - 1 - logratio;
    if (Math.abs(r - 1) > c) clipped++;

    const adv = lossAdvantages[i];
    const pg1 = -adv * r;
    const pg2 = -adv * clamp(r, 1 - c, 1 + c);
    const [w1, w2] = maxSplit(pg1, pg2);
    pgSum += Math.max(pg1, pg2);
    dLogProb[i] = inv * -adv * (w1 + w2 * clampSlope(r, 1 - c, 1 + c)) * r;

    const err = values[i] - returns[i];
    let dV: number;
    if (clipVloss) {
      const step = values[i] - oldValues[i];
      const errClipped = oldValues[i] + clamp(step, -c, c) - returns[i];
      const [wu, wc] = maxSplit(err * err, errClipped * errClipped);
      vSum += Math.max(err * err, errClipped * errClipped);
      dV = wu * 2 * err + wc * 2 * errClipped * clampSlope(step, -c, c);
    } else {
      vSum += err * err;
      dV = 2 * err;
    }
    dValues[i] = vfCoef * 0.5 * inv * dV;
    entropySum += rowEntropy[i];
  }

  const dZ = new Float64Array(M * A);
  let dLogStd = new Float64Array(0);
  if (logStd) {
    dLogStd = new Float64Array(A);
    gaussianBackward(dZ, dLogStd, dLogProb, -entCoef * inv, actions, z, logStd, M, A);
  } else {
    policyHeadBackward(dZ, dLogProb, new Float64Array(M).fill(-entCoef * inv), logProbs!, rowEntropy, actions, M, A);
  }
  const pgLoss = pgSum * inv;
  const vLoss = 0.5 * vSum * inv;
  const entropy = entropySum * inv;
  return {
    pgLoss,
    vLoss,
    entropy,
    loss: pgLoss - entCoef * entropy + vfCoef * vLoss,
    approxKl: klSum * inv,
    clipFraction: clipped * inv,
    ratio,
    newLogProb,
    lossAdvantages,
    dZ,
    dValues,
    dLogStd,
  };
}

export interface PpoMinibatchRecord extends OptimizerResult {
  epoch: number;
  minibatch: number;
  /** The rollout rows of this minibatch, in the order the loss read them. */
  rows: Uint32Array; // [M]
  pgLoss: number;
  vLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  grads: Float64Array; // [P], unclipped
}

export interface PpoUpdateResult {
  state: OptimizerState; // after the update's last step (fresh arrays)
  /** stepsBefore + the optimizer steps taken (skipped non-finite steps included). */
  stepsAfter: number;
  epochsRun: number;
  targets: UpdateTargets;
  /** log π_old(a|s) of every row: the parameters at the start of the update. */
  oldLogProb: Float64Array; // [B]
  minibatches: PpoMinibatchRecord[];
  /** CleanRL's logged values: the last minibatch's losses and approxKl, clipFraction over every minibatch run. */
  pgLoss: number;
  vLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  explainedVariance: number;
  learningRate: number;
}

/** log π(a|s) of each of B rows: z [B×A] logits or means, actions [B] or [B×D]. */
function logProbOf(z: ArrayLike<number>, logStd: ArrayLike<number> | null, actions: ArrayLike<number>, B: number, A: number): Float64Array {
  const out = new Float64Array(B);
  if (logStd) for (let i = 0; i < B; i++) out[i] = gaussianLogProb(actions, z, logStd, i * A);
  else policyHeadForward(new Float64Array(B * A), out, new Float64Array(B), z, actions, B, A);
  return out;
}

/**
 * One PPO update from a rollout (the update `update`, 0-based, of an agent seeded `seed`); `stepsBefore`
 * optimizer steps were taken before it (Adam's t of the first minibatch is stepsBefore + 1). The learning
 * rate is learningRateAt(update) for every minibatch, as CleanRL anneals it per update. `state` is not modified.
 */
export function ppoUpdateReference(
  state: OptimizerState,
  shape: NetShape,
  ro: RolloutTensors,
  config: PpoConfig,
  update: number,
  seed: number,
  stepsBefore: number,
): PpoUpdateResult {
  const layout = paramLayout(shape);
  if (state.params.length !== layout.total) throw new Error(`ppoUpdateReference: params has ${state.params.length} elements, layout needs ${layout.total}`);
  if (shape.valueOutputs !== 1) throw new Error('ppoUpdateReference: PPO learns a state-value critic V(s) (valueOutputs 1)');
  const gaussian = shape.policy === 'gaussian';
  if (gaussian && !ro.boxActions) throw new Error('ppoUpdateReference: a Gaussian policy needs the rollout\'s boxActions');
  const { T, N, O } = ro;
  const A = shape.numActions;
  const B = T * N;
  const MB = config.numMinibatches;
  if (!Number.isInteger(MB) || MB < 1 || B % MB !== 0) throw new Error(`ppoUpdateReference: ${MB} minibatches do not split the batch of ${B} rows`);
  const M = B / MB;

  // CALCULATE TARGETS: GAE as a2c (CleanRL's returns = advantages + values).
  const targets = computeTargets(ro, { ...config, algo: 'a2c' });
  const { explainedVariance } = advantageMoments(targets, ro.values);
  const x = networkInputs(ro);
  const actions: ArrayLike<number> = gaussian ? ro.boxActions! : ro.actions;
  const logStdOf = (params: Float32Array) => (gaussian ? Float64Array.from(tensorView(params, layout.logStd!)) : null);
  const oldLogProb = logProbOf(actorCriticForward(state.params, shape, x, B).logits, logStdOf(state.params), actions, B, A);

  // UPDATE NETWORK
  const next: OptimizerState = { params: state.params.slice(), optM: state.optM.slice(), optV: state.optV.slice() };
  const learningRate = learningRateAt(config, B, update);
  const minibatches: PpoMinibatchRecord[] = [];
  const width = gaussian ? A : 1; // action entries per row
  const xMb = new Float64Array(M * O);
  const actionsMb = new Float64Array(M * width);
  const gather = (rows: Uint32Array, from: ArrayLike<number>) => Float64Array.from(rows, (row) => from[row]);
  let steps = 0;
  let epochsRun = 0;
  for (let epoch = 0; epoch < config.updateEpochs; epoch++) {
    const perm = ppoPermutation(seed, update, epoch, B);
    for (let m = 0; m < MB; m++) {
      const rows = perm.slice(m * M, (m + 1) * M);
      rows.forEach((row, j) => {
        xMb.set(x.subarray(row * O, (row + 1) * O), j * O);
        for (let d = 0; d < width; d++) actionsMb[j * width + d] = actions[row * width + d];
      });
      const cache = actorCriticForward(next.params, shape, xMb, M);
      const loss = ppoLoss({
        z: cache.logits,
        logStd: logStdOf(next.params),
        actions: actionsMb,
        oldLogProb: gather(rows, oldLogProb),
        advantages: gather(rows, targets.advantages),
        returns: gather(rows, targets.returns),
        oldValues: gather(rows, ro.values),
        values: cache.values,
        normalizeAdvantage: config.normalizeAdvantage,
        clipCoef: config.clipCoef,
        clipVloss: config.clipVloss,
        entCoef: config.entCoef,
        vfCoef: config.vfCoef,
        M,
        A,
      });
      const grads = actorCriticBackward(next.params, shape, xMb, cache, loss.dZ, loss.dValues, M) as Float64Array;
      if (gaussian) tensorView(grads, layout.logStd!).set(loss.dLogStd);
      const losses = { policyLoss: loss.pgLoss, valueLoss: loss.vLoss, entropy: loss.entropy };
      // A skipped (non-finite) step still counts: the GPU numbers its steps without reading anything back.
      const opt = optimizerUpdate(next, grads, losses, config, stepsBefore + steps, learningRate);
      steps++;
      const { pgLoss, vLoss, entropy, approxKl, clipFraction } = loss;
      minibatches.push({ epoch, minibatch: m, rows, pgLoss, vLoss, entropy, approxKl, clipFraction, grads, ...opt });
    }
    epochsRun++;
    if (config.targetKl !== null && minibatches[minibatches.length - 1].approxKl > config.targetKl) break;
  }
  const last = minibatches[minibatches.length - 1];
  return {
    state: next,
    stepsAfter: stepsBefore + steps,
    epochsRun,
    targets,
    oldLogProb,
    minibatches,
    pgLoss: last.pgLoss,
    vLoss: last.vLoss,
    entropy: last.entropy,
    approxKl: last.approxKl,
    clipFraction: minibatches.reduce((s, r) => s + r.clipFraction, 0) / minibatches.length,
    explainedVariance,
    learningRate,
  };
}
