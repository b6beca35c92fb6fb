/**
 * CPU reference of one whole update after the rollout, composed of the per-op references, in the order
 * of GpuTrainer.encodeUpdate (src/trainer/gpu-trainer.ts):
 *   CALCULATE TARGETS computeTargets     a2c: GAE(λ); tdac: GAE(0); qac: R = r + γ·next, A = Q(s_t, a_t);
 *                                        reinforce: Monte-Carlo returns, rows of unfinished episodes weight 0
 *                     advantageMoments   weight sum, advantage mean / unbiased std, explained variance
 *   UPDATE NETWORK    lossAndGradients   forward, actorCriticLoss (mean over weighted rows), backward
 *                     optimizerUpdate    non-finite guard, global-norm clipping, Adam or RMSprop, step update+1
 * Each stage takes the previous one's outputs, so a test can feed any stage the GPU's own inputs.
 * Arithmetic is f64; the persistent state (params, Adam moments) is f32 arrays as on the GPU.
 */
import type { TrainConfig } from '../config.ts';
import { paramLayout, tensorView, type FloatArray, type NetShape } from '../model/layout.ts';
import { gaussianPolicyLoss } from './gaussian.ts';
import { actorCriticBackward, actorCriticForward } from './actor-critic.ts';
import { actorCriticLoss } from './losses.ts';
import { adamStep, clipGradNorm, rmspropStep } from './optimizer.ts';
import { computeAdvantages, monteCarloReturns, normalizeAdvantages } from './returns.ts';
import { networkInputs, type RolloutTensors } from './rollout.ts';

export type UpdateConfig = Pick<
  TrainConfig,
  | 'algo'
  | 'gamma'
  | 'gaeLambda'
  | 'normalizeAdvantage'
  | 'entCoef'
  | 'vfCoef'
  | 'maxGradNorm'
  | 'optimizer'
  | 'learningRate'
  | 'lrSchedule'
  | 'totalSteps'
  | 'adamBeta1'
  | 'adamBeta2'
  | 'rmspropAlpha'
  | 'optimizerEps'
>;

export interface OptimizerState {
  params: Float32Array; // [P]
  optM: Float32Array; // [P], Adam's first moment (unused by RMSprop)
  optV: Float32Array; // [P], Adam's second moment or RMSprop's square average
}

export interface UpdateTargets {
  advantages: Float64Array; // [T×N], raw (before normalization)
  returns: Float64Array; // [T×N], the critic's regression target
  weights: Uint8Array; // [T×N], 1 where the row carries a loss
}

export interface AdvantageMoments {
  weightSum: number;
  advantageMean: number;
  /** Unbiased (n − 1) standard deviation over weighted rows; 0 with fewer than two. */
  advantageStd: number;
  /** 1 − Var(R − V)/Var(R) over weighted rows (population variances); 0 where Var(R) = 0. */
  explainedVariance: number;
}

export interface LossGradients {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  loss: number;
  /** The advantages the policy loss used: normalized over weighted rows when asked, 0 on unweighted rows. */
  lossAdvantages: Float64Array; // [T×N]
  grads: Float64Array; // [P], unclipped
}

export interface OptimizerResult {
  gradNorm: number;
  clipScale: number;
  /** Bits as the GPU's M_NONFINITE: 1 loss, 2 gradient norm; the step was skipped when non-zero. */
  nonFinite: number;
}

export interface UpdateResult extends UpdateTargets, AdvantageMoments, LossGradients, OptimizerResult {
  state: OptimizerState; // after the step (fresh arrays)
  learningRate: number;
}

/** The learning rate of update `update` (0-based): constant, or linear decay to 0 at totalSteps. */
export function learningRateAt(config: UpdateConfig, numRows: number, update: number): number {
  if (config.lrSchedule === 'constant') return config.learningRate;
  const totalUpdates = Math.max(1, Math.ceil(config.totalSteps / numRows));
  return config.learningRate * Math.max(0, 1 - update / totalUpdates);
}

export function computeTargets(ro: Omit<RolloutTensors, 'O' | 'obs' | 'discountedReturns' | 'obsNorm' | 'boxActions'>, config: UpdateConfig): UpdateTargets {
  const rows = ro.T * ro.N;
  const { algo, gamma } = config;
  if (algo === 'reinforce') {
    const mc = monteCarloReturns(ro, gamma);
    return { advantages: mc.advantages, returns: mc.returns, weights: mc.mask };
  }
  const weights = new Uint8Array(rows).fill(1);
  if (algo === 'qac') {
    // λ = 0 makes R_t = δ_t + Q_t = r_t + γ·next_t, with next_t the SARSA value Q(s_{t+1}, a_{t+1}) or the
    // expected Q the rollout stored at cuts; the policy's "advantage" is Q(s_t, a_t) itself.
    const { returns } = computeAdvantages(ro, gamma, 0);
    return { advantages: Float64Array.from(ro.values), returns, weights };
  }
  const { advantages, returns } = computeAdvantages(ro, gamma, algo === 'tdac' ? 0 : config.gaeLambda);
  return { advantages, returns, weights };
}

export function advantageMoments(targets: UpdateTargets, values: ArrayLike<number>): AdvantageMoments {
  const { advantages, returns, weights } = targets;
  const normalized = Float64Array.from(advantages);
  const { mean: advantageMean, std: advantageStd } = normalizeAdvantages(normalized, weights);
  let n = 0, sumR = 0, sumRes = 0;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] === 0) continue;
    n++;
    sumR += returns[i];
    sumRes += returns[i] - values[i];
  }
  const meanR = n > 0 ? sumR / n : 0;
  const meanRes = n > 0 ? sumRes / n : 0;
  let varR = 0, varRes = 0;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] === 0) continue;
    varR += (returns[i] - meanR) ** 2;
    varRes += (returns[i] - values[i] - meanRes) ** 2;
  }
  return { weightSum: n, advantageMean, advantageStd, explainedVariance: varR === 0 ? 0 : 1 - varRes / varR };
}

/**
 * Loss and gradients over the rollout's rows. The forward is recomputed from the network's inputs (the
 * observations, normalized by the rollout's frozen statistics when it normalized them) with the
 * current parameters (the GPU reuses the rollout's logits and values, which are the same function of
 * the same inputs: the policy has not changed within the update).
 */
export function lossAndGradients(
  params: FloatArray,
  shape: NetShape,
  ro: RolloutTensors,
  targets: UpdateTargets,
  config: UpdateConfig,
): LossGradients {
  const B = ro.T * ro.N;
  const lossAdvantages = Float64Array.from(targets.advantages);
  if (config.normalizeAdvantage) normalizeAdvantages(lossAdvantages, targets.weights);
  else for (let i = 0; i < B; i++) if (targets.weights[i] === 0) lossAdvantages[i] = 0;
  const x = networkInputs(ro);
  const cache = actorCriticForward(params, shape, x, B);
  if (shape.policy === 'gaussian') return gaussianLossAndGradients(params, shape, ro, targets, config, x, cache, lossAdvantages);
  const loss = actorCriticLoss({
    logits: cache.logits,
    values: cache.values,
    actions: ro.actions,
    advantages: lossAdvantages,
    returns: targets.returns,
    mask: targets.weights,
    B,
    A: shape.numActions,
    V: shape.valueOutputs,
    vfCoef: config.vfCoef,
    entCoef: config.entCoef,
  });
  const grads = actorCriticBackward(params, shape, x, cache, loss.dLogits, loss.dValues, B) as Float64Array;
  return { policyLoss: loss.policyLoss, valueLoss: loss.valueLoss, entropy: loss.entropy, loss: loss.loss, lossAdvantages, grads };
}

/**
 * The Gaussian head's loss and gradients (src/cpu/gaussian.ts for the policy's terms, the critic's as the
 * categorical head's: actorCriticLoss with a single column), the log_std gradient into its slot.
 */
function gaussianLossAndGradients(
  params: FloatArray,
  shape: NetShape,
  ro: RolloutTensors,
  targets: UpdateTargets,
  config: UpdateConfig,
  x: Float64Array,
  cache: ReturnType<typeof actorCriticForward>,
  lossAdvantages: Float64Array,
): LossGradients {
  const B = ro.T * ro.N;
  const D = shape.numActions;
  const layout = paramLayout(shape);
  const logStd = Float64Array.from(tensorView(params, layout.logStd!));
  const policy = gaussianPolicyLoss({ mu: cache.logits, logStd, actions: ro.boxActions!, advantages: lossAdvantages, weights: targets.weights, B, D, entCoef: config.entCoef });
  // The critic's terms: the categorical loss with one action and a zero advantage carries exactly them.
  const critic = actorCriticLoss({
    logits: new Float64Array(B),
    values: cache.values,
    actions: new Uint32Array(B),
    advantages: new Float64Array(B),
    returns: targets.returns,
    mask: targets.weights,
    B,
    A: 1,
    V: 1,
    vfCoef: config.vfCoef,
    entCoef: 0,
  });
  const grads = actorCriticBackward(params, shape, x, cache, policy.dMu, critic.dValues, B) as Float64Array;
  tensorView(grads, layout.logStd!).set(policy.dLogStd);
  return { policyLoss: policy.policyLoss, valueLoss: critic.valueLoss, entropy: policy.entropy, loss: policy.loss + config.vfCoef * critic.valueLoss, lossAdvantages, grads };
}

/**
 * In place on `state`: skip on a non-finite loss term or gradient norm, else clip to maxGradNorm
 * (0: no clipping) and take one Adam (step = update + 1) or RMSprop step with learning rate `lr`.
 */
export function optimizerUpdate(
  state: OptimizerState,
  grads: ArrayLike<number>,
  losses: Pick<LossGradients, 'policyLoss' | 'valueLoss' | 'entropy'>,
  config: UpdateConfig,
  update: number,
  lr: number,
): OptimizerResult {
  const g = Float64Array.from(grads);
  let gradNorm: number, clipScale = 1;
  if (config.maxGradNorm > 0) ({ norm: gradNorm, scale: clipScale } = clipGradNorm(g, config.maxGradNorm));
  else gradNorm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  let nonFinite = 0;
  if (![losses.policyLoss, losses.valueLoss, losses.entropy].every(Number.isFinite)) nonFinite |= 1;
  if (!Number.isFinite(gradNorm)) nonFinite |= 2;
  if (nonFinite !== 0) return { gradNorm, clipScale: 1, nonFinite };
  if (config.optimizer === 'adam') {
    adamStep(state.params, g, state.optM, state.optV, update + 1, lr, config.adamBeta1, config.adamBeta2, config.optimizerEps);
  } else {
    rmspropStep(state.params, g, state.optV, lr, config.rmspropAlpha, config.optimizerEps);
  }
  return { gradNorm, clipScale, nonFinite };
}

/** One full update from a rollout; `state` is not modified. */
export function updateReference(
  state: OptimizerState,
  shape: NetShape,
  ro: RolloutTensors,
  config: UpdateConfig,
  update: number,
): UpdateResult {
  const P = paramLayout(shape).total;
  if (state.params.length !== P) throw new Error(`updateReference: params has ${state.params.length} elements, layout needs ${P}`);
  const targets = computeTargets(ro, config);
  const moments = advantageMoments(targets, ro.values);
  const lossGrads = lossAndGradients(state.params, shape, ro, targets, config);
  const next: OptimizerState = { params: state.params.slice(), optM: state.optM.slice(), optV: state.optV.slice() };
  const learningRate = learningRateAt(config, ro.T * ro.N, update);
  const opt = optimizerUpdate(next, lossGrads.grads, lossGrads, config, update, learningRate);
  return { ...targets, ...moments, ...lossGrads, ...opt, state: next, learningRate };
}
