/**
 * CPU references of gradient clipping and the two optimizers, elementwise over one agent's flat
 * parameter buffer (src/model/layout.ts). Each follows PyTorch's operation order, read from
 * torch/optim/adam.py `_single_tensor_adam`, torch/optim/rmsprop.py and torch/nn/utils/clip_grad.py,
 * so that the f64 reference differs from PyTorch only by rounding, never by formula. Arithmetic is f64;
 * arrays may be f32 (rounded on store, as the GPU does) or f64.
 */
import type { FloatArray } from '../model/layout.ts';

/**
 * torch.nn.utils.clip_grad_norm_ (L2): norm = ‖g‖₂ over the whole buffer, scale = min(1, maxNorm/(norm + 1e-6)),
 * g ← g·scale in place (PyTorch multiplies even when scale = 1, which is exact). A non-finite norm is not
 * trapped, as with PyTorch's default error_if_nonfinite=False.
 */
export function clipGradNorm(grads: FloatArray, maxNorm: number): { norm: number; scale: number } {
  let sq = 0;
  for (let i = 0; i < grads.length; i++) sq += grads[i] * grads[i];
  const norm = Math.sqrt(sq);
  const scale = Math.min(1, maxNorm / (norm + 1e-6));
  for (let i = 0; i < grads.length; i++) grads[i] *= scale;
  return { norm, scale };
}

/**
 * One Adam step (no weight decay, no amsgrad), `step` 1-based (PyTorch increments state_step first).
 * PyTorch's order of operations (_single_tensor_adam, capturable=False):
 *   m ← m.lerp(g, 1−β1)             = m + (1−β1)·(g − m)       (ATen lerp for weight < 0.5; older torch: m·β1 + (1−β1)·g)
 *   v ← v·β2 + (1−β2)·g·g            (mul_ then addcmul_)
 *   bias1 = 1 − β1^t,  bias2 = 1 − β2^t
 *   stepSize = lr / bias1
 *   denom = sqrt(v) / sqrt(bias2) + eps
 *   p ← p − stepSize · (m / denom)   (addcdiv_ with value = −stepSize)
 * Algebraically p −= lr·m̂/(sqrt(v̂) + eps) with m̂ = m/bias1, v̂ = v/bias2, but eps is added to
 * sqrt(v̂), not divided by the bias terms the way a naive m/(sqrt(v) + eps) would.
 */
export function adamStep(
  params: FloatArray,
  grads: ArrayLike<number>,
  m: FloatArray,
  v: FloatArray,
  step: number,
  lr: number,
  beta1 = 0.9,
  beta2 = 0.999,
  eps = 1e-8,
): void {
  if (!Number.isInteger(step) || step < 1) throw new Error(`adamStep: step is 1-based, got ${step}`);
  const weight = 1 - beta1;
  const bias1 = 1 - beta1 ** step;
  const bias2 = 1 - beta2 ** step;
  const stepSize = lr / bias1;
  const bias2Sqrt = Math.sqrt(bias2);
  for (let i = 0; i < params.length; i++) {
    const g = grads[i];
    // ATen's lerp switches form at weight 0.5 to stay exact at weight 1.
    m[i] = weight < 0.5 ? m[i] + weight * (g - m[i]) : g - (g - m[i]) * (1 - weight);
    v[i] = v[i] * beta2 + (1 - beta2) * g * g;
    const denom = Math.sqrt(v[i]) / bias2Sqrt + eps;
    params[i] = params[i] + -stepSize * (m[i] / denom);
  }
}

/**
 * One RMSprop step as torch.optim.RMSprop (centered=False, momentum=0, no weight decay):
 *   sq ← sq·α + (1−α)·g·g
 *   p  ← p − lr · g / (sqrt(sq) + eps)
 * eps is OUTSIDE the sqrt (PyTorch); TensorFlow/Keras put it inside, sqrt(sq + eps). SB3's A2C uses
 * PyTorch's RMSprop (this form) with alpha=0.99, eps=1e-5. Defaults here are PyTorch's.
 */
export function rmspropStep(params: FloatArray, grads: ArrayLike<number>, squareAvg: FloatArray, lr: number, alpha = 0.99, eps = 1e-8): void {
  for (let i = 0; i < params.length; i++) {
    const g = grads[i];
    squareAvg[i] = squareAvg[i] * alpha + (1 - alpha) * g * g;
    const avg = Math.sqrt(squareAvg[i]) + eps;
    params[i] = params[i] + -lr * (g / avg);
  }
}
