/**
 * CPU reference of the softmax policy head, per row b of logits z [B×A]:
 *   logp_k = z_k − m − log Σ_j exp(z_j − m),  m = max_j z_j   (log-sum-exp; never log(softmax), which
 *            is log(0) = −∞ for a logit 1000 below the max)
 *   actionLogProb_b = logp_{a_b}
 *   entropy_b = H = −Σ_k p_k·logp_k with p_k = exp(logp_k); a p_k that underflows to 0 multiplies a
 *            finite logp_k, so H stays finite for logits ±1000
 * Backward, given upstream dActionLogProb[b] and dEntropy[b]:
 *   d logp_a / dz_k = 1[k=a] − p_k
 *   dH / dz_k       = −p_k·(logp_k + H)
 *   dLogits[b,k] = dActionLogProb[b]·(1[k=a_b] − p_k) − dEntropy[b]·p_k·(logp_k + H_b)
 * All outputs are overwritten.
 */
import type { FloatArray } from '../model/layout.ts';

export function policyHeadForward(
  logProbs: FloatArray, // [B×A], overwritten: log-softmax of each row
  actionLogProb: FloatArray, // [B], overwritten
  entropy: FloatArray, // [B], overwritten
  logits: ArrayLike<number>, // [B×A]
  actions: ArrayLike<number>, // [B], integers in [0, A)
  B: number,
  A: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * A;
    let max = -Infinity;
    for (let k = 0; k < A; k++) max = Math.max(max, logits[row + k]);
    let sum = 0;
    for (let k = 0; k < A; k++) sum += Math.exp(logits[row + k] - max);
    const logSum = Math.log(sum);
    let h = 0;
    for (let k = 0; k < A; k++) {
      const lp = logits[row + k] - max - logSum;
      logProbs[row + k] = lp;
      h -= Math.exp(lp) * lp;
    }
    entropy[b] = h;
    actionLogProb[b] = logProbs[row + actions[b]];
  }
}

export function policyHeadBackward(
  dLogits: FloatArray, // [B×A], overwritten
  dActionLogProb: ArrayLike<number>, // [B]
  dEntropy: ArrayLike<number>, // [B]
  logProbs: ArrayLike<number>, // [B×A], from policyHeadForward
  entropy: ArrayLike<number>, // [B], from policyHeadForward
  actions: ArrayLike<number>, // [B]
  B: number,
  A: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * A;
    for (let k = 0; k < A; k++) {
      const lp = logProbs[row + k];
      const p = Math.exp(lp);
      const dLogp = (k === actions[b] ? 1 : 0) - p;
      const dH = -p * (lp + entropy[b]);
      dLogits[row + k] = dActionLogProb[b] * dLogp + dEntropy[b] * dH;
    }
  }
}
