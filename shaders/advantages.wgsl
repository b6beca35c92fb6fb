// Returns and advantages of one rollout, then their weighted moments for normalization and logging.
// Prepended: train_params.wgsl. CPU reference: src/cpu/returns.ts. Formulas (README "Returns"):
//   next_t  = terminated_t ? 0 : truncated_t ? bootstrap_t : (t == T-1 ? V(s_T) : V_{t+1})
//   a2c/tdac: delta_t = r_t + gamma next_t - V_t;  A_t = delta_t + gamma lambda (done_t ? 0 : A_{t+1});
//             R_t = A_t + V_t  (tdac: lambda = 0)
//   qac:      R_t = r_t + gamma next_t with V = Q(s, a) (SARSA; expected Q at cuts);  A_t = Q(s_t, a_t)
//   reinforce: G_t = r_t + gamma G_{t+1} inside an episode (terminated: r_t; truncated: r_t + gamma bootstrap_t);
//             A_t = G_t - V_t; rows whose episode is still running at the rollout's end get weight 0.
//
// Buffers (rows as rollout.wgsl, agent-major): step_info [G×T×N] read, value_buf [G×T×N + G×N] read,
// targets [G×T×N] vec4 overwritten (A_t, R_t, weight, 0), metrics of each agent: M_WEIGHT_SUM,
// M_ADV_MEAN, M_ADV_STD, M_EXPLAINED_VAR overwritten; agents [G] AgentParams uniform (gamma, lambda).

@group(0) @binding(1) var<storage, read> step_info: array<u32>;
@group(0) @binding(2) var<storage, read> value_buf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> targets: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(5) var<uniform> agents: array<AgentParams, MAX_AGENTS>;

@compute @workgroup_size(workgroup_size)
fn computeAdvantages(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>) {
  let slot = flat_index(wid, lid, nwg);
  let n = train.num_envs;
  let steps = train.n_steps;
  if (slot >= num_agents * n) { return; }
  let first_row = (slot / n) * rows_per_agent() + slot % n;
  let hp = agents[slot / n];
  let gamma = hp.gamma;
  let lambda = select(hp.gae_lambda, 0.0, algo == ALGO_TDAC);
  var next_value = value_buf[num_agents * rows_per_agent() + slot].x;
  var next_adv = 0.0;
  var mc_return = 0.0;
  var mc_valid = false;
  for (var i = 0u; i < steps; i++) {
    let t = steps - 1u - i;
    let row = first_row + t * n;
    let info = step_info[row];
    let terminated = ((info >> 8u) & 1u) == 1u;
    let truncated = ((info >> 9u) & 1u) == 1u;
    let vb = value_buf[row];
    let value = vb.x;
    let reward = vb.z;
    var next = next_value;
    if (terminated) { next = 0.0; } else if (truncated) { next = vb.y; }
    var out: vec4<f32>;
    if (algo == ALGO_REINFORCE) {
      if (terminated || truncated) {
        mc_return = reward + gamma * next;
        mc_valid = true;
      } else {
        mc_return = reward + gamma * mc_return;
      }
      out = vec4<f32>(mc_return - value, mc_return, select(0.0, 1.0, mc_valid), 0.0);
    } else if (algo == ALGO_QAC) {
      out = vec4<f32>(value, reward + gamma * next, 1.0, 0.0);
    } else {
      let delta = reward + gamma * next - value;
      let adv = delta + gamma * lambda * select(next_adv, 0.0, terminated || truncated);
      next_adv = adv;
      out = vec4<f32>(adv, adv + value, 1.0, 0.0);
    }
    targets[row] = out;
    next_value = value;
  }
}

const MOMENT_THREADS: u32 = 256u;
var<workgroup> red: array<vec4<f32>, MOMENT_THREADS>;

fn reduce_sum(lid: u32, v: vec4<f32>) -> vec4<f32> {
  red[lid] = v;
  workgroupBarrier();
  for (var stride = MOMENT_THREADS / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { red[lid] += red[lid + stride]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

// One workgroup per agent, two passes (means, then squared deviations) so f32 keeps its precision at large B.
@compute @workgroup_size(MOMENT_THREADS)
fn advantageMoments(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let agent = wid.x;
  let begin = agent * rows_per_agent();
  let rows = begin + rows_per_agent();
  var s1 = vec4<f32>(0.0);   // (weight, w * adv, w * ret, w * (ret - value))
  for (var row = begin + lid.x; row < rows; row += MOMENT_THREADS) {
    let tg = targets[row];
    s1 += tg.z * vec4<f32>(1.0, tg.x, tg.y, tg.y - value_buf[row].x);
  }
  let sums = reduce_sum(lid.x, s1);
  let count = max(sums.x, 1.0);
  let mean = sums / count;
  var s2 = vec4<f32>(0.0);   // (unused, w * adv dev^2, w * ret dev^2, w * residual dev^2)
  for (var row = begin + lid.x; row < rows; row += MOMENT_THREADS) {
    let tg = targets[row];
    let d = vec3<f32>(tg.x - mean.y, tg.y - mean.z, tg.y - value_buf[row].x - mean.w);
    s2 += tg.z * vec4<f32>(0.0, d * d);
  }
  let devs = reduce_sum(lid.x, s2);
  if (lid.x == 0u) {
    metrics[metric(agent, M_WEIGHT_SUM)] = sums.x;
    metrics[metric(agent, M_ADV_MEAN)] = mean.y;
    // Unbiased, as torch.Tensor.std() (what SB3 normalizes with).
    metrics[metric(agent, M_ADV_STD)] = sqrt(devs.y / max(sums.x - 1.0, 1.0));
    // 1 - Var(R - V) / Var(R), population variances as SB3's explained_variance.
    metrics[metric(agent, M_EXPLAINED_VAR)] = select(1.0 - devs.w / devs.z, 0.0, devs.z == 0.0);
  }
}
