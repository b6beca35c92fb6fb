/**
 * CPU reference of the hidden-layer activations, elementwise over n values.
 *   relu: y = max(0, x);  dx = dy where x > 0, else 0 (the subgradient at 0 is 0, as in PyTorch)
 *   tanh: y = tanh(x);    dx = dy·(1 − y²), from the OUTPUT y so the forward's result is all the
 *                          backward needs (no second tanh, no stored pre-activation)
 * ReLU's backward is written from the pre-activation input as PyTorch defines it; since
 * x > 0 ⇔ relu(x) > 0 exactly, passing the output y instead gives the identical result, which is what
 * activationBackward does so that both activations need only the cached hidden output.
 * Outputs are overwritten.
 */
import type { Activation, FloatArray } from '../model/layout.ts';

export function reluForward(out: FloatArray, x: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : 0;
}

export function reluBackward(dx: FloatArray, dy: ArrayLike<number>, x: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
}

export function tanhForward(out: FloatArray, x: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
}

export function tanhBackward(dx: FloatArray, dy: ArrayLike<number>, y: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
}

export function activationForward(kind: Activation, out: FloatArray, x: ArrayLike<number>, n: number): void {
  if (kind === 'relu') reluForward(out, x, n);
  else tanhForward(out, x, n);
}

/** Backward from the activation's output `y` (valid for ReLU too, see the header). */
export function activationBackward(kind: Activation, dx: FloatArray, dy: ArrayLike<number>, y: ArrayLike<number>, n: number): void {
  if (kind === 'relu') reluBackward(dx, dy, y, n);
  else tanhBackward(dx, dy, y, n);
}
