// A fully connected layer for G independent networks ("agents"), scheduled layer by layer by the trainer.
// Per agent g, over the R rows of one call (k < K inputs, n < N outputs, W [K × N] row-major):
//   linearForward          Y[g,r,n]  = act(Σ_k X[g,r,k] W_g[k,n] + b_g[n])          act ∈ {identity, tanh, relu}
//   linearBackwardInput    dX[g,r,k] = (Σ_n dY[g,r,n] W_g[k,n]) · act'(X[g,r,k])     act' from X, the previous
//                          layer's OUTPUT: tanh 1 − x², relu x > 0, identity 1 (so dX is the gradient of that
//                          layer's pre-activation)
//   linearBackwardWeights  partial sums of dW_g[k,n] = Σ_r X[g,r,k] dY[g,r,n] and db_g[n] = Σ_r dY[g,r,n]
//                          over fixed chunks of rows (partials [G, num_partials, K·N + N], overwritten)
//   linearReduceWeights    adds each element's partials in order and overwrites grads, or adds into them
//                          (call.accumulate = 1: the trainer sums a large batch chunk by chunk)
// Y and dX are overwritten. No atomics: every sum has a fixed order, so results are bit-repeatable.
// W and b live in the flat [G × P] params buffer at w_offset, b_offset of each agent's P; dW, db land at the
// same offsets of grads; nothing else of params or grads is read or written. X, Y, dX, dY are [G × S × width]
// with S = call.row_stride rows per agent, of which a call uses rows row_offset .. row_offset + R. CPU reference: src/cpu/linear.ts.
//
// Tiles, measured on lavapipe (Mesa 25.0, LLVM, 8-wide SIMD): inside a loop every storage or workgroup
// read (uniform address or not) costs a per-lane gather, ~30 vector FMAs' worth, so each lane keeps a
// register tile of W (up to 64 inputs × 16 outputs) and streams rows past it, reading each X vec4 once for
// 4·C4 × 4 FMAs. The tile is a function-scope array whose first index runs over exactly KT4 = 16 loop
// iterations: Mesa's NIR unrolls such loops whatever their size, so every register index becomes a
// constant; an array indexed by a loop it does not unroll would live in memory, read by gathers again.
// Inputs beyond 64 are summed 64 at a time, the running sums kept in the output between tiles.
// Widths beyond one workgroup's lanes (N > 64·4·C4 outputs forward, K > 64·4·D4 inputs backward) split
// their columns over several workgroups per row tile (col_split); each element's sum is the same chain
// whatever the split, so a width that fits one workgroup runs exactly as it would alone.
// Every `var` has an explicit initializer (Dawn on lavapipe does not re-zero one declared without it).

override workgroup_size: u32 = 64u;
override K: u32 = 4u;     // inputs
override N: u32 = 4u;     // outputs
override C4: u32 = 1u;    // linearForward: a lane computes 4·C4 outputs of a row (1 ≤ C4 ≤ 4)
override D4: u32 = 1u;    // linearBackwardInput: a lane computes 4·D4 inputs' gradients of a row (≤ 4)
override BK4: u32 = 1u;   // linearBackwardWeights: a lane sums a block of 4·BK4 inputs (≤ 4) …
override BN4: u32 = 1u;   // … × 4·BN4 outputs (≤ 4) of dW

const KT4: u32 = 16u;     // the register tile's length in vec4 steps: 64 inputs (K or N) per tile
const ACT_TANH: u32 = 1u;
const ACT_RELU: u32 = 2u;

struct LinearCall {
  rows: u32,              // R
  row_stride: u32,        // S: rows per agent in X, Y, dX, dY
  agents: u32,            // G
  param_stride: u32,      // P
  w_offset: u32,
  b_offset: u32,
  activation: u32,        // linearForward's epilogue: 0 identity, 1 tanh, 2 relu
  input_activation: u32,  // linearBackwardInput's prologue: the activation that produced X
  accumulate: u32,        // linearReduceWeights: 0 overwrite grads, 1 add into them
  tile_rows: u32,         // rows per workgroup of linearForward / linearBackwardInput
  row_tiles: u32,         // ceil(R / tile_rows)
  chunk_rows: u32,        // rows per chunk of linearBackwardWeights
  num_chunks: u32,
  num_partials: u32,      // num_chunks × the row lanes of a chunk
  w_vec4: u32,            // 1: W's rows and b start 16-byte aligned (w_offset, b_offset, P, N multiples of 4)
  row_offset: u32,        // the call's first row within each agent's S rows
}

@group(0) @binding(0) var<uniform> call: LinearCall;
@group(0) @binding(1) var<storage, read> params: array<f32>;               // [G × P]
@group(0) @binding(2) var<storage, read> params4: array<vec4<f32>>;        // the same buffer, for aligned W
@group(0) @binding(3) var<storage, read> x: array<f32>;                    // [G × S × K]
@group(0) @binding(4) var<storage, read> x4: array<vec4<f32>>;             // the same buffer (K % 4 == 0)
@group(0) @binding(5) var<storage, read_write> y: array<f32>;              // [G × S × N]
@group(0) @binding(6) var<storage, read> dy: array<f32>;                   // [G × S × N]
@group(0) @binding(7) var<storage, read> dy4: array<vec4<f32>>;            // the same buffer (N % 4 == 0)
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;             // [G × S × K]
@group(0) @binding(9) var<storage, read_write> partials: array<f32>;      // [G × num_partials × (K·N + N)]
@group(0) @binding(10) var<storage, read_write> grads: array<f32>;        // [G × P]
// Outputs whose rows are vec4-aligned (width % 4 == 0) are written as vec4s: on lavapipe every store is a
// per-lane loop, so one vec4 costs about what one f32 does. Two writable views of one buffer may not be
// bound together, so the view a pipeline does not use (its branch is constant) is bound to a spare buffer.
@group(0) @binding(11) var<storage, read_write> y4: array<vec4<f32>>;      // y when N % 4 == 0
@group(0) @binding(12) var<storage, read_write> dx4: array<vec4<f32>>;     // dx when K % 4 == 0

fn activate(v: vec4<f32>, act: u32) -> vec4<f32> {
  // Clamped: some backends build tanh from exp and return NaN beyond ~±44; tanh(±15) is ±1 in f32.
  if (act == ACT_TANH) { return tanh(clamp(v, vec4<f32>(-15.0), vec4<f32>(15.0))); }
  if (act == ACT_RELU) { return max(v, vec4<f32>(0.0)); }
  return v;
}

// d act / d pre-activation, from the activation's output.
fn activation_grad(out: vec4<f32>, act: u32) -> vec4<f32> {
  if (act == ACT_TANH) { return 1.0 - out * out; }
  if (act == ACT_RELU) { return select(vec4<f32>(0.0), vec4<f32>(1.0), out > vec4<f32>(0.0)); }
  return vec4<f32>(1.0);
}

// X[row, k .. k + 3] (`row` = the row's first index in x), zeros past K.
fn load_x(row: u32, k: u32) -> vec4<f32> {
  if (K % 4u == 0u) { return x4[(row + k) / 4u]; }
  var v = vec4<f32>(0.0);
  for (var i = 0u; i < 4u; i++) {
    if (k + i < K) { v[i] = x[row + k + i]; }
  }
  return v;
}

fn load_dy(row: u32, n: u32) -> vec4<f32> {
  if (N % 4u == 0u) { return dy4[(row + n) / 4u]; }
  var v = vec4<f32>(0.0);
  for (var i = 0u; i < 4u; i++) {
    if (n + i < N) { v[i] = dy[row + n + i]; }
  }
  return v;
}

// params[at .. at + 3], zeros from `valid` on; vec4 reads where the caller knows `at` is aligned.
fn load_params(at: u32, valid: u32, aligned: bool) -> vec4<f32> {
  if (aligned && valid >= 4u) { return params4[at / 4u]; }
  var v = vec4<f32>(0.0);
  for (var i = 0u; i < 4u; i++) {
    if (i < valid) { v[i] = params[at + i]; }
  }
  return v;
}

// Workgroup (x, y) → (agent, tile) over `per_agent` tiles; `ok` false for the grid's spare workgroups.
struct Slot { agent: u32, tile: u32, ok: bool }

fn slot_of(wid: vec3<u32>, nwg: vec3<u32>, per_agent: u32) -> Slot {
  let s = wid.y * nwg.x + wid.x;
  return Slot(min(s / per_agent, call.agents - 1u), s % per_agent, s < call.agents * per_agent);
}

// The columns of a row-tiled kernel, `width` of them 4·per4 to a lane: `groups` workgroups per row tile,
// `lanes` column lanes in each (balanced; one group whenever the lanes fit one workgroup).
struct ColSplit { groups: u32, lanes: u32 }

fn col_split(width: u32, per4: u32) -> ColSplit {
  let lanes = (width + 4u * per4 - 1u) / (4u * per4);
  let groups = (lanes + workgroup_size - 1u) / workgroup_size;
  return ColSplit(groups, (lanes + groups - 1u) / groups);
}

// Workgroup (row tile, column group), thread (row lane, column lane); lanes past row_lanes·col_lanes, and
// those of the last column group past the width, get no rows.
@compute @workgroup_size(workgroup_size)
fn linearForward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let cols = col_split(N, C4);
  let col_lanes = cols.lanes;
  let row_lanes = workgroup_size / col_lanes;
  let slot = slot_of(wid, nwg, call.row_tiles * cols.groups);
  let tile = slot.tile / cols.groups;
  let cl = lid.x % col_lanes;
  let rl = lid.x / col_lanes;
  let n0 = ((slot.tile % cols.groups) * col_lanes + cl) * 4u * C4;
  let pbase = slot.agent * call.param_stride;
  let aligned = call.w_vec4 != 0u;
  let first = tile * call.tile_rows + rl;
  var last = min(tile * call.tile_rows + call.tile_rows, call.rows);
  if (!slot.ok || rl >= row_lanes || n0 >= N) { last = 0u; }
  var bias = array<vec4<f32>, 4>();
  for (var j = 0u; j < C4; j++) {
    let n = n0 + 4u * j;
    bias[j] = load_params(pbase + call.b_offset + n, select(0u, N - n, n < N), aligned);
  }
  let k_tiles = (K + 4u * KT4 - 1u) / (4u * KT4);
  for (var t = 0u; t < k_tiles; t++) {
    // w_tile[k4][4 c + j] = W[64 t + 4 k4 + c, n0 + 4 j .. + 3]
    var w_tile = array<array<vec4<f32>, 16>, KT4>();
    for (var k4 = 0u; k4 < KT4; k4++) {
      for (var c = 0u; c < 4u; c++) {
        let k = 4u * (KT4 * t + k4) + c;
        for (var j = 0u; j < C4; j++) {
          let n = n0 + 4u * j;
          let valid = select(0u, N - n, k < K && n < N);
          w_tile[k4][4u * j + c] = load_params(pbase + call.w_offset + min(k, K - 1u) * N + n, valid, aligned);
        }
      }
    }
    for (var r = first; r < last; r += row_lanes) {
      let xrow = (slot.agent * call.row_stride + call.row_offset + r) * K;
      let yrow = (slot.agent * call.row_stride + call.row_offset + r) * N;
      var acc = array<vec4<f32>, 4>();
      for (var j = 0u; j < C4; j++) {
        let n = n0 + 4u * j;
        if (t == 0u) {
          acc[j] = bias[j];
        } else if (N % 4u == 0u) {
          if (n < N) { acc[j] = y4[(yrow + n) / 4u]; }
        } else {
          for (var i = 0u; i < 4u; i++) {
            if (n + i < N) { acc[j][i] = y[yrow + n + i]; }
          }
        }
      }
      for (var k4 = 0u; k4 < KT4; k4++) {
        // Constant once unrolled (t = 0 when there is one tile).
        if (K % (4u * KT4) == 0u || 4u * (KT4 * t + k4) < K) {
          let xv = load_x(xrow, 4u * (KT4 * t + k4));
          for (var c = 0u; c < 4u; c++) {
            for (var j = 0u; j < C4; j++) { acc[j] = fma(vec4<f32>(xv[c]), w_tile[k4][4u * j + c], acc[j]); }
          }
        }
      }
      for (var j = 0u; j < C4; j++) {
        let n = n0 + 4u * j;
        var v = acc[j];
        if (t + 1u == k_tiles) { v = activate(v, call.activation); }
        if (N % 4u == 0u) {
          if (n < N) { y4[(yrow + n) / 4u] = v; }
        } else {
          for (var i = 0u; i < 4u; i++) {
            if (n + i < N) { y[yrow + n + i] = v[i]; }
          }
        }
      }
    }
  }
}

// The same shape with Wᵀ: a lane holds W[k0 .. k0 + 4·D4, 64 outputs] and streams rows of dY past it;
// the inputs split over column groups as linearForward's outputs do.
@compute @workgroup_size(workgroup_size)
fn linearBackwardInput(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>) {
  let cols = col_split(K, D4);
  let col_lanes = cols.lanes;
  let row_lanes = workgroup_size / col_lanes;
  let slot = slot_of(wid, nwg, call.row_tiles * cols.groups);
  let tile = slot.tile / cols.groups;
  let cl = lid.x % col_lanes;
  let rl = lid.x / col_lanes;
  let k0 = ((slot.tile % cols.groups) * col_lanes + cl) * 4u * D4;
  let pbase = slot.agent * call.param_stride;
  let aligned = call.w_vec4 != 0u;
  let first = tile * call.tile_rows + rl;
  var last = min(tile * call.tile_rows + call.tile_rows, call.rows);
  if (!slot.ok || rl >= row_lanes || k0 >= K) { last = 0u; }
  let n_tiles = (N + 4u * KT4 - 1u) / (4u * KT4);
  for (var t = 0u; t < n_tiles; t++) {
    // w_tile[n4][4 c + j] = (W[k0 + 4 j + i, 64 t + 4 n4 + c] for i < 4)
    var w_tile = array<array<vec4<f32>, 16>, KT4>();
    for (var n4 = 0u; n4 < KT4; n4++) {
      let n = 4u * (KT4 * t + n4);
      for (var j = 0u; j < D4; j++) {
        var rows4 = mat4x4<f32>();
        for (var i = 0u; i < 4u; i++) {
          let k = k0 + 4u * j + i;
          let valid = select(0u, N - n, k < K && n < N);
          rows4[i] = load_params(pbase + call.w_offset + min(k, K - 1u) * N + n, valid, aligned);
        }
        var cols4 = transpose(rows4);
        for (var c = 0u; c < 4u; c++) { w_tile[n4][4u * j + c] = cols4[c]; }
      }
    }
    for (var r = first; r < last; r += row_lanes) {
      let xrow = (slot.agent * call.row_stride + call.row_offset + r) * K;
      let yrow = (slot.agent * call.row_stride + call.row_offset + r) * N;
      var acc = array<vec4<f32>, 4>();
      if (t > 0u) {
        for (var j = 0u; j < D4; j++) {
          let k = k0 + 4u * j;
          if (K % 4u == 0u) {
            if (k < K) { acc[j] = dx4[(xrow + k) / 4u]; }
          } else {
            for (var i = 0u; i < 4u; i++) {
              if (k + i < K) { acc[j][i] = dx[xrow + k + i]; }
            }
          }
        }
      }
      for (var n4 = 0u; n4 < KT4; n4++) {
        if (N % (4u * KT4) == 0u || 4u * (KT4 * t + n4) < N) {
          let g = load_dy(yrow, 4u * (KT4 * t + n4));
          for (var c = 0u; c < 4u; c++) {
            for (var j = 0u; j < D4; j++) { acc[j] = fma(vec4<f32>(g[c]), w_tile[n4][4u * j + c], acc[j]); }
          }
        }
      }
      for (var j = 0u; j < D4; j++) {
        let k = k0 + 4u * j;
        var v = acc[j];
        if (t + 1u == n_tiles && call.input_activation != 0u) {
          v *= activation_grad(load_x(xrow, k), call.input_activation);
        }
        if (K % 4u == 0u) {
          if (k < K) { dx4[(xrow + k) / 4u] = v; }
        } else {
          for (var i = 0u; i < 4u; i++) {
            if (k + i < K) { dx[xrow + k + i] = v[i]; }
          }
        }
      }
    }
  }
}

// Lane (row lane, block) sums a 4·BK4 × 4·BN4 block of dW (and, in the first column of blocks, db) over
// rows chunk·chunk_rows + row lane, + row lanes, …; one partial row per (chunk, row lane), all written.
// Blocks beyond one workgroup spread over `block_groups` workgroups per chunk.
@compute @workgroup_size(workgroup_size)
fn linearBackwardWeights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>) {
  let blocks_n = (N + 4u * BN4 - 1u) / (4u * BN4);
  let blocks = (K + 4u * BK4 - 1u) / (4u * BK4) * blocks_n;
  let block_groups = (blocks + workgroup_size - 1u) / workgroup_size;
  let row_lanes = max(1u, workgroup_size / blocks);
  let slot = slot_of(wid, nwg, call.num_chunks * block_groups);
  let chunk = slot.tile / block_groups;
  let block = (slot.tile % block_groups) * workgroup_size + lid.x % blocks;
  let rl = select(0u, lid.x / blocks, blocks < workgroup_size);
  let k0 = (block / blocks_n) * 4u * BK4;
  let n0 = (block % blocks_n) * 4u * BN4;
  let lane_ok = slot.ok && block < blocks && rl < row_lanes;
  let first = chunk * call.chunk_rows + rl;
  var last = min(chunk * call.chunk_rows + call.chunk_rows, call.rows);
  if (!lane_ok) { last = 0u; }
  var acc = array<array<vec4<f32>, 4>, 16>();   // acc[4 i + c][j] = dW[k0 + 4 i + c, n0 + 4 j .. + 3]
  var acc_b = array<vec4<f32>, 4>();
  for (var r = first; r < last; r += row_lanes) {
    let row = slot.agent * call.row_stride + call.row_offset + r;
    var xv = array<vec4<f32>, 4>();
    var g = array<vec4<f32>, 4>();
    for (var i = 0u; i < BK4; i++) { xv[i] = load_x(row * K, k0 + 4u * i); }
    for (var j = 0u; j < BN4; j++) { g[j] = load_dy(row * N, n0 + 4u * j); }
    for (var i = 0u; i < BK4; i++) {
      for (var c = 0u; c < 4u; c++) {
        for (var j = 0u; j < BN4; j++) { acc[4u * i + c][j] = fma(vec4<f32>(xv[i][c]), g[j], acc[4u * i + c][j]); }
      }
    }
    for (var j = 0u; j < BN4; j++) { acc_b[j] += g[j]; }
  }
  if (!lane_ok) { return; }
  let elements = K * N + N;
  let base = (slot.agent * call.num_partials + chunk * row_lanes + rl) * elements;
  for (var i = 0u; i < BK4; i++) {
    for (var c = 0u; c < 4u; c++) {
      let k = k0 + 4u * i + c;
      for (var j = 0u; j < BN4; j++) {
        for (var e = 0u; e < 4u; e++) {
          let n = n0 + 4u * j + e;
          if (k < K && n < N) { partials[base + k * N + n] = acc[4u * i + c][j][e]; }
        }
      }
    }
  }
  if (k0 == 0u) {
    for (var j = 0u; j < BN4; j++) {
      for (var e = 0u; e < 4u; e++) {
        let n = n0 + 4u * j + e;
        if (n < N) { partials[base + K * N + n] = acc_b[j][e]; }
      }
    }
  }
}

// Invocation (agent, element of [dW | db]) adds that element's partials in order.
@compute @workgroup_size(workgroup_size)
fn linearReduceWeights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * workgroup_size + lid.x;
  let elements = K * N + N;
  if (i >= call.agents * elements) { return; }
  let g = i / elements;
  let e = i % elements;
  var sum = 0.0;
  for (var p = 0u; p < call.num_partials; p++) { sum += partials[(g * call.num_partials + p) * elements + e]; }
  let at = g * call.param_stride + select(call.b_offset + e - K * N, call.w_offset + e, e < K * N);
  if (call.accumulate != 0u) { grads[at] += sum; } else { grads[at] = sum; }
}
