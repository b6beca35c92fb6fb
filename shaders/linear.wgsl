// A standalone fully connected layer for G independent networks ("agents") over B rows:
//   out[g, b, n] = sum_k x[g, b, k] w[g, k, n] + bias[g, n]
//   dX[g, b, k]  = sum_n dOut[g, b, n] w[g, k, n]
//   dW[g, k, n]  = sum_b x[g, b, k] dOut[g, b, n]      dBias[g, n] = sum_b dOut[g, b, n]
// Weights are [in × out] row-major, as src/model/layout.ts. out, dX, dW, dBias are overwritten, never
// accumulated. The weight gradients reduce over B in two fixed-shape passes (chunks of rows, then the
// chunks in order): no atomics, so results are bit-repeatable. The trainer runs the same math fused into
// rollout.wgsl and actor_critic_backward.wgsl; this kernel serves other network shapes and the tests.
// CPU reference: src/cpu/linear.ts. Each entry point binds only the buffers it uses.

override workgroup_size: u32 = 64u;

struct LinearParams {
  rows: u32,        // B
  inputs: u32,      // K
  outputs: u32,     // N
  agents: u32,      // G
  chunk_rows: u32,  // rows summed by one invocation of linearBackwardWeights
  num_chunks: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> lp: LinearParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [G, B, K]
@group(0) @binding(2) var<storage, read> w: array<f32>;              // [G, K, N]
@group(0) @binding(3) var<storage, read> bias: array<f32>;           // [G, N]
@group(0) @binding(4) var<storage, read_write> out: array<f32>;      // [G, B, N]
@group(0) @binding(5) var<storage, read> d_out: array<f32>;          // [G, B, N]
@group(0) @binding(6) var<storage, read_write> d_x: array<f32>;      // [G, B, K]
@group(0) @binding(7) var<storage, read_write> partials: array<f32>; // [G, chunks, K*N + N]
@group(0) @binding(8) var<storage, read_write> d_w: array<f32>;      // [G, K, N]
@group(0) @binding(9) var<storage, read_write> d_bias: array<f32>;   // [G, N]

fn linear_index(wid: vec3<u32>, lid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * workgroup_size + lid.x;
}

@compute @workgroup_size(workgroup_size)
fn linearForward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_index(wid, lid, nwg);
  let per_agent = lp.rows * lp.outputs;
  if (i >= lp.agents * per_agent) { return; }
  let g = i / per_agent;
  let r = (i / lp.outputs) % lp.rows;
  let n = i % lp.outputs;
  var acc = bias[g * lp.outputs + n];
  let xr = (g * lp.rows + r) * lp.inputs;
  let wg = g * lp.inputs * lp.outputs;
  for (var k = 0u; k < lp.inputs; k++) { acc += x[xr + k] * w[wg + k * lp.outputs + n]; }
  out[i] = acc;
}

@compute @workgroup_size(workgroup_size)
fn linearBackwardInput(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_index(wid, lid, nwg);
  let per_agent = lp.rows * lp.inputs;
  if (i >= lp.agents * per_agent) { return; }
  let g = i / per_agent;
  let r = (i / lp.inputs) % lp.rows;
  let k = i % lp.inputs;
  var acc = 0.0;
  let dr = (g * lp.rows + r) * lp.outputs;
  let wk = (g * lp.inputs + k) * lp.outputs;
  for (var n = 0u; n < lp.outputs; n++) { acc += d_out[dr + n] * w[wk + n]; }
  d_x[i] = acc;
}

// Pass 1: invocation (g, chunk, e) sums element e of [dW (K*N) | dBias (N)] over the chunk's rows.
@compute @workgroup_size(workgroup_size)
fn linearBackwardWeights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_index(wid, lid, nwg);
  let elements = lp.inputs * lp.outputs + lp.outputs;
  if (i >= lp.agents * lp.num_chunks * elements) { return; }
  let g = i / (lp.num_chunks * elements);
  let chunk = (i / elements) % lp.num_chunks;
  let e = i % elements;
  let first = chunk * lp.chunk_rows;
  let last = min(first + lp.chunk_rows, lp.rows);
  var acc = 0.0;
  if (e < lp.inputs * lp.outputs) {
    let k = e / lp.outputs;
    let n = e % lp.outputs;
    for (var r = first; r < last; r++) { acc += x[(g * lp.rows + r) * lp.inputs + k] * d_out[(g * lp.rows + r) * lp.outputs + n]; }
  } else {
    let n = e - lp.inputs * lp.outputs;
    for (var r = first; r < last; r++) { acc += d_out[(g * lp.rows + r) * lp.outputs + n]; }
  }
  partials[i] = acc;
}

// Pass 2: invocation (g, e) adds the chunks' partial sums in order.
@compute @workgroup_size(workgroup_size)
fn linearReduceWeights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear_index(wid, lid, nwg);
  let elements = lp.inputs * lp.outputs + lp.outputs;
  if (i >= lp.agents * elements) { return; }
  let g = i / elements;
  let e = i % elements;
  var acc = 0.0;
  for (var c = 0u; c < lp.num_chunks; c++) { acc += partials[(g * lp.num_chunks + c) * elements + e]; }
  if (e < lp.inputs * lp.outputs) { d_w[g * lp.inputs * lp.outputs + e] = acc; } else { d_bias[g * lp.outputs + e - lp.inputs * lp.outputs] = acc; }
}
