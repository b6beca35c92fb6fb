// The layered path's loss heads over one chunk of the rollout's rows: from the recomputed outputs of the
// actor (logits, or a Gaussian policy's means) and of the critic, the gradients the layers' backward
// starts from, and each row's loss terms. Two entry points (each binds only what it reads, within
// WebGPU's 8 storage buffers per stage): policyLoss (z → dz) and valueLoss (v → dv). Prepended: the env
// module, rng.wgsl, env_interface.wgsl, train_params.wgsl, layered_slice.wgsl, policy.wgsl, policy_gaussian.wgsl. CPU
// reference: src/cpu/losses.ts (categorical), src/cpu/gaussian.ts (Gaussian), composed in src/cpu/update.ts.
//
//   loss = −mean_w(Â log π(a|s)) + vf_coef mean_w((V − R)²) − ent_coef mean_w(H)   (W = the weight sum)
//   categorical: dz_k = (w/W)(−Â(1[k=a] − p_k) + ent_coef p_k (log p_k + H))
//   Gaussian:    dμ_d = (w/W)(−Â)(a_d − μ_d)/σ_d²;  dlog σ_d = (w/W)(−Â((a_d − μ_d)²/σ_d² − 1) − ent_coef)
//   dV = (w/W) 2 vf_coef (V − R) (for a Q-critic in the taken action's column)
// Â normalized with the moments of advantages.wgsl when the agent asks. Rows of the chunk: i < G·R,
// agent i / R, rollout row agent·T·N + slice.first + i % R; in z, v, dz, dv row act_row(i), in row_terms i.
// Buffers: targets, metrics, z_out [G×R×A], v_out [G×R×V], step_info read; row_aux read: step_info for
// the categorical head (the action), row_data for the Gaussian one (its unclipped actions, f32 bits);
// net_params read (log_std); dz [G×R×A], dv [G×R×V] overwritten; row_terms [G×R×C] (C = 4, + A for the
// Gaussian head): policyLoss writes columns 0 (weighted −Â log π), 2 (weighted entropy), 3 (0) and
// 4.. (dlog σ), valueLoss column 1 (weighted squared error); layered_reduce.wgsl sums them over the rows.

override gaussian_policy: u32 = 0u;
override off_log_std: u32 = 0u;

@group(0) @binding(2) var<uniform> agents: array<AgentParams, MAX_AGENTS>;
@group(0) @binding(3) var<storage, read> targets: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> metrics: array<f32>;
@group(0) @binding(5) var<storage, read> z_out: array<f32>;
@group(0) @binding(6) var<storage, read> v_out: array<f32>;
@group(0) @binding(7) var<storage, read> row_aux: array<u32>;
@group(0) @binding(8) var<storage, read> step_info: array<u32>;
@group(0) @binding(9) var<storage, read> net_params: array<f32>;
@group(0) @binding(10) var<storage, read_write> dz: array<f32>;
@group(0) @binding(11) var<storage, read_write> dv: array<f32>;
@group(0) @binding(12) var<storage, read_write> row_terms: array<f32>;

fn term_columns() -> u32 { return select(4u, 4u + num_actions, gaussian_policy == 1u); }

fn chunk_row(i: u32) -> u32 { return (i / slice.rows) * rows_per_agent() + slice.first + i % slice.rows; }

// The weight of row `row` in the mean: w / W (0 for rows without a loss).
fn row_scale(agent: u32, tg: vec4<f32>) -> f32 { return tg.z / max(metrics[metric(agent, M_WEIGHT_SUM)], 1.0); }

@compute @workgroup_size(workgroup_size)
fn policyLoss(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let row = chunk_row(i);
  let hp = agents[agent];
  let tg = targets[row];
  var z = vec4<f32>(0.0);
  for (var k = 0u; k < num_actions; k++) { z[k] = z_out[act_row(i) * num_actions + k]; }
  var dzr = vec4<f32>(0.0);
  var terms = vec2<f32>(0.0);   // (−Â log π, entropy), unweighted
  var dlog_std = vec4<f32>(0.0);
  if (tg.z > 0.0) {
    var adv = tg.x;
    if (hp.normalize_advantage == 1u) {
      adv = (adv - metrics[metric(agent, M_ADV_MEAN)]) / (metrics[metric(agent, M_ADV_STD)] + 1e-8);
    }
    let scale = row_scale(agent, tg);
    if (gaussian_policy == 1u) {
      var a = vec4<f32>(0.0);
      var log_std = vec4<f32>(0.0);
      let actions_base = row_data_actions();
      for (var d = 0u; d < num_actions; d++) {
        a[d] = bitcast<f32>(row_aux[actions_base + row * num_actions + d]);
        log_std[d] = net_params[agent * num_params + off_log_std + d];
      }
      let d_log_prob = -adv * scale;
      dzr = gaussian_grad_mu(a, z, log_std, d_log_prob);
      dlog_std = gaussian_grad_log_std(a, z, log_std, d_log_prob, -hp.ent_coef * scale);
      terms = vec2<f32>(-adv * gaussian_log_prob(a, z, log_std), gaussian_entropy(log_std));
    } else {
      let action = row_aux[row] & 0xffu;
      let logp = log_softmax(z);
      let p = exp(logp);
      let entropy = -dot_outputs(p, logp, num_actions);
      let onehot = select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(0u, 1u, 2u, 3u) == vec4<u32>(action));
      dzr = scale * (-adv * (onehot - p) + hp.ent_coef * p * (logp + entropy));
      terms = vec2<f32>(-adv * logp[action], entropy);
    }
    terms *= tg.z;
  }
  for (var k = 0u; k < num_actions; k++) { dz[act_row(i) * num_actions + k] = dzr[k]; }
  let c = term_columns();
  row_terms[i * c] = terms.x;
  row_terms[i * c + 2u] = terms.y;
  row_terms[i * c + 3u] = 0.0;
  if (gaussian_policy == 1u) {
    for (var d = 0u; d < num_actions; d++) { row_terms[i * c + 4u + d] = dlog_std[d]; }
  }
}

@compute @workgroup_size(workgroup_size)
fn valueLoss(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let row = chunk_row(i);
  let tg = targets[row];
  var v = vec4<f32>(0.0);
  for (var k = 0u; k < value_outputs; k++) { v[k] = v_out[act_row(i) * value_outputs + k]; }
  var dvr = vec4<f32>(0.0);
  var squared_error = 0.0;
  if (tg.z > 0.0) {
    let column = select(0u, step_info[row] & 0xffu, value_outputs > 1u);
    let err = v[column] - tg.y;
    dvr[column] = row_scale(agent, tg) * 2.0 * agents[agent].vf_coef * err;
    squared_error = tg.z * err * err;
  }
  for (var k = 0u; k < value_outputs; k++) { dv[act_row(i) * value_outputs + k] = dvr[k]; }
  row_terms[i * term_columns() + 1u] = squared_error;
}
