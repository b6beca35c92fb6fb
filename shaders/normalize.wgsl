// Running statistics of observations and of discounted returns (Stable-Baselines3's VecNormalize with its
// RunningMeanStd), merged at the end of each update from that update's rollout with the parallel-variance
// formula (Chan et al.), per agent. Over the B = T·N rows of the rollout:
//   batch mean m_b, batch (population) variance v_b;  δ = m_b − m
//   m ← m + δ·w_new;   v ← v·w_old + v_b·w_new + δ²·w_old·w_new
// with w_new = B / (c + B) and w_old = c / (c + B) from the host in f64 (c, the count so far, is
// RunningMeanStd's epsilon 1e-4 plus B per update: known on the host, so it is no GPU state). The rollout
// and the backward of the update use the statistics from before it (frozen within an update); SB3 merges
// every env step, which this matches at the end of each rollout. Two passes over the rows (means, then
// squared deviations) keep f32's precision at large B; fixed-shape tree sums: bit-repeatable.
// Prepended: the env module, rng.wgsl, env_interface.wgsl, train_params.wgsl. CPU reference: src/cpu/normalize.ts.
//
// Buffers: obs_buf [G×T×N × OV] vec4 read (raw observations); value_buf [G×T×N + …] vec4 read (.w: the
// discounted return of each row); norm_stats [G × (2·OV + 1)] vec4 read-write (layout: train_params.wgsl).

@group(0) @binding(1) var<storage, read> obs_buf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> value_buf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> norm_stats: array<vec4<f32>>;

const NORM_THREADS: u32 = 256u;
var<workgroup> red: array<vec4<f32>, NORM_THREADS>;

fn reduce_sum(lid: u32, v: vec4<f32>) -> vec4<f32> {
  red[lid] = v;
  workgroupBarrier();
  for (var stride = NORM_THREADS / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { red[lid] += red[lid + stride]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

// Column k < OBS_VEC4S: observation lanes 4k .. 4k+3; column OBS_VEC4S: the discounted return.
fn column(row: u32, k: u32) -> vec4<f32> {
  if (k < OBS_VEC4S) { return obs_buf[row * OBS_VEC4S + k]; }
  return vec4<f32>(value_buf[row].w, 0.0, 0.0, 0.0);
}

// One workgroup per agent.
@compute @workgroup_size(NORM_THREADS)
fn normalizerUpdate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let agent = wid.x;
  let begin = agent * rows_per_agent();
  let end = begin + rows_per_agent();
  let count = f32(rows_per_agent());
  let base = agent * norm_stride();
  let first = select(OBS_VEC4S, 0u, normalize_obs == 1u);
  let last = select(OBS_VEC4S, OBS_VEC4S + 1u, normalize_reward == 1u);
  let w_new = train.norm_weight_new;
  let w_old = train.norm_weight_old;
  for (var k = first; k < last; k++) {
    var s1 = vec4<f32>(0.0);
    for (var row = begin + lid; row < end; row += NORM_THREADS) { s1 += column(row, k); }
    let batch_mean = reduce_sum(lid, s1) / count;
    var s2 = vec4<f32>(0.0);
    for (var row = begin + lid; row < end; row += NORM_THREADS) {
      let d = column(row, k) - batch_mean;
      s2 += d * d;
    }
    let batch_var = reduce_sum(lid, s2) / count;
    if (lid == 0u) {
      if (k < OBS_VEC4S) {
        let m = norm_stats[base + k];
        let v = norm_stats[base + OBS_VEC4S + k];
        let delta = batch_mean - m;
        // Padded lanes keep RunningMeanStd's start (mean 0, variance 1): they are no state of the env.
        let live = vec4<u32>(4u * k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(OBS_SIZE);
        norm_stats[base + k] = select(m, m + delta * w_new, live);
        norm_stats[base + OBS_VEC4S + k] = select(v, v * w_old + batch_var * w_new + delta * delta * (w_old * w_new), live);
      } else {
        let r = norm_stats[base + 2u * OBS_VEC4S];
        let delta = batch_mean.x - r.x;
        norm_stats[base + 2u * OBS_VEC4S] = vec4<f32>(r.x + delta * w_new, r.y * w_old + batch_var.x * w_new + delta * delta * (w_old * w_new), 0.0, 0.0);
      }
    }
  }
}
