/**
 * Seeded initialisation of one agent's flat parameters (src/model/layout.ts) from the project's
 * counter RNG: tensor `slot.index` draws from stream RNG_STREAM_INIT + slot.index, element e of the
 * tensor (its index in our [in × out] storage) uses index e, and the counter numbers the draws of that
 * element (0, or 0 and 1 for a Gaussian). Any seed gives the same parameters on every machine, and a
 * GPU kernel can draw the same numbers without a sequential generator.
 *
 * 'pytorch': nn.Linear's default, weight and bias ~ U(−1/√fan_in, 1/√fan_in). (The weight's
 *   kaiming_uniform_(a=√5) has bound gain·√(3/fan_in) with gain = √(2/(1+a²)) = √(1/3), i.e. 1/√fan_in.)
 * 'orthogonal': SB3/CleanRL's layer_init, torch.nn.init.orthogonal_(weight, gain) and zero biases, with
 *   gain √2 for the hidden layers, 0.01 for the policy output, 1 for the value output. orthogonal_ fills
 *   PyTorch's weight [out × in] with N(0,1), transposes it if out < in so it is tall, takes its QR, fixes
 *   the signs q·sign(diag r) and transposes back. The sign-fixed QR is the unique one whose R has a
 *   positive diagonal, which is exactly what Gram–Schmidt produces, so we orthonormalise the columns of
 *   the tall Gaussian matrix by Gram–Schmidt in f64 (twice, "twice is enough", for orthogonality to
 *   rounding level). Result: the smaller side's Gram matrix is gain²·I (W·Wᵀ when in ≤ out in our layout).
 */
import { paramLayout, type FloatArray, type NetShape } from '../model/layout.ts';
import { rngUniform } from '../rng.ts';

export const RNG_STREAM_INIT = 0x400;

export type InitScheme = 'pytorch' | 'orthogonal';

/** Gains by the layer's role: every hidden layer √2, the policy head 0.01, the value head 1 (CleanRL's layer_init). */
export const ORTHOGONAL_GAINS: Record<'hidden' | 'policy' | 'value', number> = {
  hidden: Math.SQRT2,
  policy: 0.01,
  value: 1,
};

/** Standard normal from two of our uniforms by Box–Muller; 1 − u1 ∈ (0, 1] keeps the log finite. */
export function gaussianDraw(seed: number, stream: number, index: number): number {
  const u1 = rngUniform(seed, stream, index, 0);
  const u2 = rngUniform(seed, stream, index, 1);
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

/** Fills `params` (length P) for `shape`, overwriting every element; returns it. `logStdInit`: a Gaussian policy's log_std (SB3's log_std_init). */
export function initParams<T extends FloatArray>(params: T, shape: NetShape, scheme: InitScheme, seed: number, logStdInit = 0): T {
  const layout = paramLayout(shape);
  if (params.length !== layout.total) throw new Error(`initParams: params has ${params.length} elements, layout needs ${layout.total}`);
  for (const slot of layout.tensors) {
    const stream = RNG_STREAM_INIT + slot.index;
    const view = params.subarray(slot.offset, slot.offset + slot.size);
    if (slot.role === 'logStd') {
      view.fill(logStdInit);
    } else if (scheme === 'pytorch') {
      const bound = 1 / Math.sqrt(slot.fanIn);
      // torch's uniform_(from, to) computes from + (to − from)·u.
      for (let e = 0; e < slot.size; e++) view[e] = -bound + 2 * bound * rngUniform(seed, stream, e, 0);
    } else if (slot.shape.length === 1) {
      view.fill(0);
    } else {
      const [fanIn, fanOut] = slot.shape;
      orthogonalInto(view, fanIn, fanOut, ORTHOGONAL_GAINS[slot.role as keyof typeof ORTHOGONAL_GAINS], seed, stream);
    }
  }
  return params;
}

/** Orthogonal [inSize × outSize] weight (our layout) scaled by gain, as torch.nn.init.orthogonal_. */
function orthogonalInto(w: FloatArray, inSize: number, outSize: number, gain: number, seed: number, stream: number): void {
  // PyTorch's weight is [out × in]; it works on that matrix when out ≥ in, else on its transpose.
  // In our storage element (i, o) sits at i*outSize + o, so the tall matrix's column j, row r is:
  const tallIsTorch = outSize >= inSize;
  const m = tallIsTorch ? outSize : inSize;
  const k = tallIsTorch ? inSize : outSize;
  const at = (r: number, j: number) => (tallIsTorch ? j * outSize + r : r * outSize + j);
  const q = new Float64Array(m * k); // column-major: column j at j*m
  for (let j = 0; j < k; j++) for (let r = 0; r < m; r++) q[j * m + r] = gaussianDraw(seed, stream, at(r, j));
  for (let j = 0; j < k; j++) {
    const col = j * m;
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let r = 0; r < m; r++) dot += q[p * m + r] * q[col + r];
        for (let r = 0; r < m; r++) q[col + r] -= dot * q[p * m + r];
      }
    }
    let norm = 0;
    for (let r = 0; r < m; r++) norm += q[col + r] * q[col + r];
    norm = Math.sqrt(norm);
    for (let r = 0; r < m; r++) q[col + r] /= norm;
  }
  for (let j = 0; j < k; j++) for (let r = 0; r < m; r++) w[at(r, j)] = gain * q[j * m + r];
}
