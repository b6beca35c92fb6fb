// The layered path's loss head over one chunk of the rollout's rows: from the recomputed outputs of the
// actor (logits, or a Gaussian policy's means) and the critic, the gradients the layers' backward starts
// from, and each row's loss terms. Prepended: the env module, rng.wgsl, env_interface.wgsl,
// train_params.wgsl, policy.wgsl, policy_gaussian.wgsl. CPU reference: src/cpu/losses.ts (categorical),
// src/cpu/gaussian.ts (Gaussian), composed in src/cpu/update.ts.
//
//   loss = −mean_w(Â log π(a|s)) + vf_coef mean_w((V − R)²) − ent_coef mean_w(H)   (W = the weight sum)
//   categorical: dz_k = (w/W)(−Â(1[k=a] − p_k) + ent_coef p_k (log p_k + H))
//   Gaussian:    dμ_d = (w/W)(−Â)(a_d − μ_d)/σ_d²;  dlog σ_d = (w/W)(−Â((a_d − μ_d)²/σ_d² − 1) − ent_coef)
//   dV = (w/W) 2 vf_coef (V − R) (for a Q-critic in the taken action's column)
// Â normalized with the moments of advantages.wgsl when the agent asks. Rows of the chunk: i < G·R,
// agent i / R, rollout row agent·T·N + slice.first + i % R.
// Buffers: targets, metrics, step_info, row_data (a Gaussian policy's unclipped actions), net_params
// (log_std), z_out [G×R×A], v_out [G×R×V] read; dz [G×R×A], dv [G×R×V] overwritten; row_terms
// [G×R×C] overwritten with C = 4 + A for the Gaussian head (else 4): the weighted policy term, squared
// error, entropy, 0, then dlog σ per dimension — summed over the rows by layered_reduce.wgsl.

override gaussian_policy: u32 = 0u;
override off_log_std: u32 = 0u;

@group(0) @binding(1) var<uniform> slice: Slice;
@group(0) @binding(2) var<uniform> agents: array<AgentParams, MAX_AGENTS>;
@group(0) @binding(3) var<storage, read> targets: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> metrics: array<f32>;
@group(0) @binding(5) var<storage, read> z_out: array<f32>;
@group(0) @binding(6) var<storage, read> v_out: array<f32>;
@group(0) @binding(7) var<storage, read> step_info: array<u32>;
@group(0) @binding(8) var<storage, read> row_data: array<f32>;
@group(0) @binding(9) var<storage, read> net_params: array<f32>;
@group(0) @binding(10) var<storage, read_write> dz: array<f32>;
@group(0) @binding(11) var<storage, read_write> dv: array<f32>;
@group(0) @binding(12) var<storage, read_write> row_terms: array<f32>;

fn term_columns() -> u32 { return select(4u, 4u + num_actions, gaussian_policy == 1u); }

@compute @workgroup_size(workgroup_size)
fn lossHead(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let row = agent * rows_per_agent() + slice.first + i % slice.rows;
  let hp = agents[agent];
  let tg = targets[row];
  var z = vec4<f32>(0.0);
  for (var k = 0u; k < num_actions; k++) { z[k] = z_out[i * num_actions + k]; }
  var v = vec4<f32>(0.0);
  for (var k = 0u; k < value_outputs; k++) { v[k] = v_out[i * value_outputs + k]; }
  var dzr = vec4<f32>(0.0);
  var dvr = vec4<f32>(0.0);
  var terms = vec4<f32>(0.0);
  var dlog_std = vec4<f32>(0.0);
  if (tg.z > 0.0) {
    var adv = tg.x;
    if (hp.normalize_advantage == 1u) {
      adv = (adv - metrics[metric(agent, M_ADV_MEAN)]) / (metrics[metric(agent, M_ADV_STD)] + 1e-8);
    }
    let scale = tg.z / max(metrics[metric(agent, M_WEIGHT_SUM)], 1.0);
    var column = 0u;
    if (gaussian_policy == 1u) {
      var a = vec4<f32>(0.0);
      var log_std = vec4<f32>(0.0);
      let actions_base = num_agents * rows_per_agent() * OBS_SIZE;
      for (var d = 0u; d < num_actions; d++) {
        a[d] = row_data[actions_base + row * num_actions + d];
        log_std[d] = net_params[agent * num_params + off_log_std + d];
      }
      let logp = gaussian_log_prob(a, z, log_std);
      let entropy = gaussian_entropy(log_std);
      let d_log_prob = -adv * scale;
      dzr = gaussian_grad_mu(a, z, log_std, d_log_prob);
      dlog_std = gaussian_grad_log_std(a, z, log_std, d_log_prob, -hp.ent_coef * scale);
      terms = vec4<f32>(-adv * logp, 0.0, entropy, 0.0);
    } else {
      let action = step_info[row] & 0xffu;
      column = action;
      let logp = log_softmax(z);
      let p = exp(logp);
      let entropy = -dot_outputs(p, logp, num_actions);
      let onehot = select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(0u, 1u, 2u, 3u) == vec4<u32>(action));
      dzr = scale * (-adv * (onehot - p) + hp.ent_coef * p * (logp + entropy));
      terms = vec4<f32>(-adv * logp[action], 0.0, entropy, 0.0);
    }
    var value = v.x;
    if (value_outputs > 1u) { value = v[column]; }
    let err = value - tg.y;
    let dvalue = scale * 2.0 * hp.vf_coef * err;
    if (value_outputs > 1u) { dvr[column] = dvalue; } else { dvr.x = dvalue; }
    terms = tg.z * vec4<f32>(terms.x, err * err, terms.z, 0.0);
  }
  for (var k = 0u; k < num_actions; k++) { dz[i * num_actions + k] = dzr[k]; }
  for (var k = 0u; k < value_outputs; k++) { dv[i * value_outputs + k] = dvr[k]; }
  let c = term_columns();
  for (var k = 0u; k < 4u; k++) { row_terms[i * c + k] = terms[k]; }
  if (gaussian_policy == 1u) {
    for (var d = 0u; d < num_actions; d++) { row_terms[i * c + 4u + d] = dlog_std[d]; }
  }
}
