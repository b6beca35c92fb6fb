/**
 * CPU reference of the actor-critic loss over B rows (one row = one (s_b, a_b) of the rollout):
 *   policyLoss = −mean_b(adv_b · logp_b)        adv_b is a constant (detached): no gradient to the critic
 *   valueLoss  = mean_b((ret_b − v_b)²)          v_b = V(s_b) for V=1, Q(s_b, a_b) for V=A
 *   entropy    = mean_b(H_b)
 *   loss       = policyLoss + vfCoef·valueLoss − entCoef·entropy
 * The entropy is a bonus, hence SUBTRACTED (the seed article added it, NOTES.md bug 2); the value is
 * kept in the graph (NOTES.md bug 1). valueLoss is the plain MSE (SB3's F.mse_loss), not CleanRL's 0.5·MSE.
 * Gradients (n = number of rows counted):
 *   dLogits = policyHeadBackward with dActionLogProb_b = −adv_b/n and dEntropy_b = −entCoef/n
 *   dValues[b, c] = vfCoef·2(v_b − ret_b)/n for the value column c (0, or a_b for a Q-critic), else 0
 * An optional mask (1 = row counts, 0 = row ignored) restricts all three means to the rows that have a
 * target, e.g. the Monte-Carlo rows of src/cpu/returns.ts; masked rows get zero gradient.
 */
import { policyHeadBackward, policyHeadForward } from './policy-head.ts';

export interface LossInputs {
  logits: ArrayLike<number>; // [B×A]
  values: ArrayLike<number>; // [B×V]
  actions: ArrayLike<number>; // [B]
  advantages: ArrayLike<number>; // [B]
  returns: ArrayLike<number>; // [B]
  mask?: ArrayLike<number>; // [B], optional 0/1
  B: number;
  A: number;
  /** 1 for V(s), A for Q(s,·). */
  V: number;
  vfCoef: number;
  entCoef: number;
}

export interface LossResult {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  loss: number;
  dLogits: Float64Array; // [B×A]
  dValues: Float64Array; // [B×V]
}

export function actorCriticLoss(inp: LossInputs): LossResult {
  const { logits, values, actions, advantages, returns, mask, B, A, V, vfCoef, entCoef } = inp;
  if (V !== 1 && V !== A) throw new Error(`actorCriticLoss: V must be 1 or A=${A}, got ${V}`);
  const logProbs = new Float64Array(B * A);
  const actionLogProb = new Float64Array(B);
  const rowEntropy = new Float64Array(B);
  policyHeadForward(logProbs, actionLogProb, rowEntropy, logits, actions, B, A);

  let n = 0;
  for (let b = 0; b < B; b++) if (!mask || mask[b] !== 0) n++;
  const inv = n > 0 ? 1 / n : 0;

  let policySum = 0, valueSum = 0, entropySum = 0;
  const dActionLogProb = new Float64Array(B);
  const dEntropy = new Float64Array(B);
  const dValues = new Float64Array(B * V);
  for (let b = 0; b < B; b++) {
    if (mask && mask[b] === 0) continue;
    const col = V === 1 ? 0 : actions[b];
    const v = values[b * V + col];
    const err = v - returns[b];
    policySum += advantages[b] * actionLogProb[b];
    valueSum += err * err;
    entropySum += rowEntropy[b];
    dActionLogProb[b] = -advantages[b] * inv;
    dEntropy[b] = -entCoef * inv;
    dValues[b * V + col] = vfCoef * 2 * err * inv;
  }
  const dLogits = new Float64Array(B * A);
  policyHeadBackward(dLogits, dActionLogProb, dEntropy, logProbs, rowEntropy, actions, B, A);

  const policyLoss = -policySum * inv;
  const valueLoss = valueSum * inv;
  const entropy = entropySum * inv;
  return { policyLoss, valueLoss, entropy, loss: policyLoss + vfCoef * valueLoss - entCoef * entropy, dLogits, dValues };
}
