// The layered path's sums over rows. sumRows: each column of row_terms summed over a chunk's rows in a
// fixed tree order (bit-repeatable, no atomics) into term_sums, the first chunk overwriting and the later
// ones adding (slice.chunk == 0 marks the first). finishLosses, once per update: the loss metrics
// (sums / W; PPO's per minibatch) and a Gaussian policy's log_std gradient (the sum of its per-row parts: no layer carries
// it). addRows: a shared trunk's gradient, the actor's part plus the critic's, for the layer below.
// Prepended: the env module, rng.wgsl, env_interface.wgsl, train_params.wgsl, layered_slice.wgsl.
// Buffers: row_terms [G × R × C] read; term_sums [G × C] read-write; metrics read-write (M_POLICY_LOSS,
// M_VALUE_LOSS, M_ENTROPY written); grads [G × P] read-write (the log_std slot written); d_trunk
// [G × R × add_width] read-write, d_other the same shape read.

override term_columns: u32 = 4u;
override off_log_std: u32 = 0u;
override gaussian_policy: u32 = 0u;
override add_width: u32 = 1u;

@group(0) @binding(2) var<storage, read> row_terms: array<f32>;
@group(0) @binding(3) var<storage, read_write> term_sums: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(5) var<storage, read_write> grads: array<f32>;
@group(0) @binding(6) var<storage, read_write> d_trunk: array<f32>;
@group(0) @binding(7) var<storage, read> d_other: array<f32>;

const SUM_THREADS: u32 = 256u;
var<workgroup> red: array<f32, SUM_THREADS>;

// Dispatched as (C, G): workgroup (column, agent).
@compute @workgroup_size(SUM_THREADS)
fn sumRows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let column = wid.x;
  let agent = wid.y;
  var s = 0.0;
  for (var r = lid; r < slice.rows; r += SUM_THREADS) { s += row_terms[(agent * slice.rows + r) * term_columns + column]; }
  red[lid] = s;
  workgroupBarrier();
  for (var stride = SUM_THREADS / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { red[lid] += red[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let at = agent * term_columns + column;
    if (slice.chunk == 0u) { term_sums[at] = red[0]; } else { term_sums[at] += red[0]; }
  }
}

// One invocation per agent. PPO: once per minibatch; an agent the target KL stopped keeps the metrics of
// its last minibatch run (as CleanRL logs them), and the clip fractions add up for their mean.
@compute @workgroup_size(64)
fn finishLosses(@builtin(global_invocation_id) gid: vec3<u32>) {
  let agent = gid.x;
  if (agent >= num_agents) { return; }
  let ppo = algo == ALGO_PPO;
  if (ppo && metrics[metric(agent, M_KL_STOPPED)] != 0.0) { return; }
  let base = agent * term_columns;
  let w = max(metrics[metric(agent, M_WEIGHT_SUM)], 1.0);
  metrics[metric(agent, M_POLICY_LOSS)] = term_sums[base] / w;
  metrics[metric(agent, M_VALUE_LOSS)] = term_sums[base + 1u] / w;
  metrics[metric(agent, M_ENTROPY)] = term_sums[base + 2u] / w;
  if (ppo) {
    metrics[metric(agent, M_APPROX_KL)] = term_sums[base + 3u] / w;
    metrics[metric(agent, M_CLIP_FRACTION_SUM)] += term_sums[base + 4u] / w;
    metrics[metric(agent, M_MINIBATCHES)] += 1.0;
  }
  let log_std_column = select(4u, 5u, ppo);
  if (gaussian_policy == 1u) {
    for (var d = 0u; d < num_actions; d++) { grads[agent * num_params + off_log_std + d] = term_sums[base + log_std_column + d]; }
  }
}

@compute @workgroup_size(workgroup_size)
fn addRows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  let per_agent = slice.rows * add_width;
  if (i >= num_agents * per_agent) { return; }
  let at = ((i / per_agent) * slice.stride + slice.offset) * add_width + i % per_agent;
  d_trunk[at] += d_other[at];
}
