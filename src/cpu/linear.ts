/**
 * CPU reference of the fully connected layer: y = x·W + b, with W stored [in × out] row-major
 * (see src/model/layout.ts). Plain loops, every sum accumulated in f64 whatever the storage type,
 * so the GPU kernel (f32) is compared against the exact-ish value rather than another rounding.
 *
 * Backward, for out[b,n] = Σ_k x[b,k]·w[k,n] + bias[n]:
 *   dW[k,n] = Σ_b x[b,k]·dOut[b,n]     db[n] = Σ_b dOut[b,n]     dX[b,k] = Σ_n dOut[b,n]·w[k,n]
 * All outputs are overwritten, never accumulated: the actor and critic own disjoint slices of the
 * flat gradient buffer, so there is nothing to add into.
 *
 * The layer-by-layer kernels (shaders/linear.wgsl) fuse an activation into each end; their reference:
 *   linearForwardActivated        out[b,n] = act(Σ_k x[b,k]·w[k,n] + bias[n])
 *   linearBackwardInputActivated  dX[b,k] = (Σ_n dOut[b,n]·w[k,n]) · act'(x[b,k]), with x the OUTPUT of
 *                                 the activation `act` (tanh: 1 − x², relu: x > 0 ? 1 : 0, identity: 1)
 */
import type { Activation, FloatArray } from '../model/layout.ts';

export type LinearActivation = Activation | 'identity';

export function linearForward(
  out: FloatArray, // [B×N], overwritten
  x: ArrayLike<number>, // [B×K]
  w: ArrayLike<number>, // [K×N]
  b: ArrayLike<number>, // [N]
  B: number,
  K: number,
  N: number,
): void {
  for (let r = 0; r < B; r++) {
    for (let n = 0; n < N; n++) {
      let acc = b[n];
      for (let k = 0; k < K; k++) acc += x[r * K + k] * w[k * N + n];
      out[r * N + n] = acc;
    }
  }
}

export function linearBackward(
  dX: FloatArray | null, // [B×K], overwritten; null for the first layer (observations need no gradient)
  dW: FloatArray, // [K×N], overwritten
  db: FloatArray, // [N], overwritten
  dOut: ArrayLike<number>, // [B×N]
  x: ArrayLike<number>, // [B×K], the forward input
  w: ArrayLike<number>, // [K×N]
  B: number,
  K: number,
  N: number,
): void {
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let r = 0; r < B; r++) acc += x[r * K + k] * dOut[r * N + n];
      dW[k * N + n] = acc;
    }
  }
  for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let r = 0; r < B; r++) acc += dOut[r * N + n];
    db[n] = acc;
  }
  if (dX === null) return;
  for (let r = 0; r < B; r++) {
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += dOut[r * N + n] * w[k * N + n];
      dX[r * K + k] = acc;
    }
  }
}

export function linearForwardActivated(
  out: FloatArray, // [B×N], overwritten
  x: ArrayLike<number>, // [B×K]
  w: ArrayLike<number>, // [K×N]
  b: ArrayLike<number>, // [N]
  B: number,
  K: number,
  N: number,
  activation: LinearActivation,
): void {
  for (let r = 0; r < B; r++) {
    for (let n = 0; n < N; n++) {
      let acc = b[n];
      for (let k = 0; k < K; k++) acc += x[r * K + k] * w[k * N + n];
      if (activation === 'tanh') acc = Math.tanh(acc);
      else if (activation === 'relu') acc = acc > 0 ? acc : 0;
      out[r * N + n] = acc;
    }
  }
}

export function linearBackwardInputActivated(
  dX: FloatArray, // [B×K], overwritten: the gradient of the pre-activation that produced x
  dOut: ArrayLike<number>, // [B×N]
  x: ArrayLike<number>, // [B×K], the forward input: the output of `inputActivation`
  w: ArrayLike<number>, // [K×N]
  B: number,
  K: number,
  N: number,
  inputActivation: LinearActivation,
): void {
  for (let r = 0; r < B; r++) {
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += dOut[r * N + n] * w[k * N + n];
      const xv = x[r * K + k];
      if (inputActivation === 'tanh') acc *= 1 - xv * xv;
      else if (inputActivation === 'relu') acc = xv > 0 ? acc : 0;
      dX[r * K + k] = acc;
    }
  }
}
