// PPO's passes of the layered path (CleanRL's ppo.py), around the minibatches that layered_observe
// (prepareMinibatch), the layers and layered_loss run. Prepended: the env module, rng.wgsl,
// env_interface.wgsl, train_params.wgsl, layered_slice.wgsl, policy.wgsl, ppo_shuffle.wgsl,
// policy_gaussian.wgsl. CPU reference: src/cpu/ppo.ts (ppoUpdateReference).
//
//   ppoBegin          per agent, once per update: the update's PPO metrics zeroed (clip fractions, minibatches,
//                     epochs, approximate KL, the target-KL stop)
//   oldLogProb        per row of a chunk (slice.first, slice.rows of each agent's T·N; the head's outputs at
//                     act_row(i)): log π_old(a|s) of the rollout's action into targets.w, before any step
//   minibatchMoments  one workgroup per agent: the mean and unbiased std of the raw advantages of the minibatch
//                     at positions slice.first .. + slice.rows of epoch slice.t's shuffled order, and its size
//                     as the weight sum (every PPO row has weight 1), for the loss's per-minibatch Â
//   ppoEpochEnd       per agent, after each epoch: counts it, and stops the update (M_KL_STOPPED) when the
//                     approximate KL of its last minibatch exceeds target_kl > 0
// Buffers: targets [G×T×N] vec4 (Â, R, weight, log π_old) read-write; metrics read-write; z_out [G×R×A]
// read (logits or Gaussian means); row_aux read (step_info: the action; row_data: a Gaussian's unclipped
// actions); net_params read (log_std).

override gaussian_policy: u32 = 0u;
override off_log_std: u32 = 0u;

@group(0) @binding(2) var<uniform> agents: array<AgentParams, MAX_AGENTS>;
@group(0) @binding(3) var<storage, read_write> targets: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(5) var<storage, read> z_out: array<f32>;
@group(0) @binding(6) var<storage, read> row_aux: array<u32>;
@group(0) @binding(7) var<storage, read> net_params: array<f32>;

@compute @workgroup_size(64)
fn ppoBegin(@builtin(global_invocation_id) gid: vec3<u32>) {
  let agent = gid.x;
  if (agent >= num_agents) { return; }
  metrics[metric(agent, M_APPROX_KL)] = 0.0;
  metrics[metric(agent, M_CLIP_FRACTION_SUM)] = 0.0;
  metrics[metric(agent, M_MINIBATCHES)] = 0.0;
  metrics[metric(agent, M_EPOCHS)] = 0.0;
  metrics[metric(agent, M_KL_STOPPED)] = 0.0;
}

@compute @workgroup_size(workgroup_size)
fn oldLogProb(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let row = agent * rows_per_agent() + slice.first + i % slice.rows;
  var z = vec4<f32>(0.0);
  for (var k = 0u; k < num_actions; k++) { z[k] = z_out[act_row(i) * num_actions + k]; }
  var log_prob = 0.0;
  if (gaussian_policy == 1u) {
    var a = vec4<f32>(0.0);
    var log_std = vec4<f32>(0.0);
    for (var d = 0u; d < num_actions; d++) {
      a[d] = bitcast<f32>(row_aux[row_data_actions() + row * num_actions + d]);
      log_std[d] = net_params[agent * num_params + off_log_std + d];
    }
    log_prob = gaussian_log_prob(a, z, log_std);
  } else {
    log_prob = log_softmax(z)[row_aux[row] & 0xffu];
  }
  targets[row].w = log_prob;
}

const MOMENT_THREADS: u32 = 256u;
var<workgroup> red: array<f32, MOMENT_THREADS>;

fn workgroup_sum(lid: u32, value: f32) -> f32 {
  red[lid] = value;
  workgroupBarrier();
  for (var stride = MOMENT_THREADS / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { red[lid] += red[lid + stride]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

// Dispatched as (G, 1): workgroup agent. Two passes (mean, then squared deviations) as torch's std.
@compute @workgroup_size(MOMENT_THREADS)
fn minibatchMoments(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let agent = wid.x;
  let batch = rows_per_agent();
  let seed = agents[agent].seed;
  let m = slice.rows;
  var s = 0.0;
  for (var r = lid; r < m; r += MOMENT_THREADS) {
    s += targets[agent * batch + ppo_permute(seed, train.update, slice.t, batch, slice.first + r)].x;
  }
  let mean = workgroup_sum(lid, s) / f32(m);
  var q = 0.0;
  for (var r = lid; r < m; r += MOMENT_THREADS) {
    let d = targets[agent * batch + ppo_permute(seed, train.update, slice.t, batch, slice.first + r)].x - mean;
    q += d * d;
  }
  let squares = workgroup_sum(lid, q);
  if (lid == 0u) {
    metrics[metric(agent, M_ADV_MEAN)] = mean;
    metrics[metric(agent, M_ADV_STD)] = select(0.0, sqrt(squares / f32(m - 1u)), m > 1u);
    metrics[metric(agent, M_WEIGHT_SUM)] = f32(m);
  }
}

@compute @workgroup_size(64)
fn ppoEpochEnd(@builtin(global_invocation_id) gid: vec3<u32>) {
  let agent = gid.x;
  if (agent >= num_agents) { return; }
  if (metrics[metric(agent, M_KL_STOPPED)] != 0.0) { return; }
  metrics[metric(agent, M_EPOCHS)] += 1.0;
  let kl_limit = agents[agent].target_kl;
  if (kl_limit > 0.0 && metrics[metric(agent, M_APPROX_KL)] > kl_limit) { metrics[metric(agent, M_KL_STOPPED)] = 1.0; }
}
