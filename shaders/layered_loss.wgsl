// The layered path's loss heads over one chunk of the rollout's rows: from the recomputed outputs of the
// actor (logits, or a Gaussian policy's means) and of the critic, the gradients the layers' backward
// starts from, and each row's loss terms. Two entry points (each binds only what it reads, within
// WebGPU's 8 storage buffers per stage): policyLoss (z → dz) and valueLoss (v → dv). Prepended: the env
// module, rng.wgsl, env_interface.wgsl, train_params.wgsl, layered_slice.wgsl, policy.wgsl, ppo_shuffle.wgsl,
// policy_gaussian.wgsl. CPU reference: src/cpu/losses.ts (categorical), src/cpu/gaussian.ts (Gaussian),
// composed in src/cpu/update.ts; PPO: src/cpu/ppo.ts.
//
//   loss = −mean_w(Â log π(a|s)) + vf_coef mean_w((V − R)²) − ent_coef mean_w(H)   (W = the weight sum)
//   categorical: dz_k = (w/W)(−Â(1[k=a] − p_k) + ent_coef p_k (log p_k + H))
//   Gaussian:    dμ_d = (w/W)(−Â)(a_d − μ_d)/σ_d²;  dlog σ_d = (w/W)(−Â((a_d − μ_d)²/σ_d² − 1) − ent_coef)
//   dV = (w/W) 2 vf_coef (V − R) (for a Q-critic in the taken action's column)
// PPO (CleanRL's ppo.py), over one minibatch of M rows in an epoch's shuffled order (W = M, every row's
// weight 1), with ρ = exp(log π(a|s) − log π_old(a|s)) (the rollout policy's log-probability, targets.w):
//   policy = mean(max(−Â ρ, −Â clamp(ρ, 1 − c, 1 + c)));  d/dlog π = (1/M) ρ ∂max/∂ρ
//   value  = ½ mean(max((V − R)², (V_old + clamp(V − V_old, −c, c) − R)²)) with clip_vloss, else ½ mean((V − R)²)
// and the maxima's gradients as torch.maximum's (the larger side; half to each on a tie), clamp's 1 on
// [lo, hi]. Row terms add column 3 (ρ − 1) − log ρ (the approximate KL) and 4 (1 if |ρ − 1| > c).
// Â normalized with the moments of advantages.wgsl (PPO: of the minibatch, layered_ppo.wgsl) when the agent
// asks. Rows of the chunk: i < G·R, agent i / R, rollout row agent·T·N + slice.first + i % R (PPO: the
// shuffled order's row at that position); in z, v, dz, dv row act_row(i), in row_terms i.
// Buffers: targets, metrics, z_out [G×R×A], v_out [G×R×V], step_info read; row_aux read: step_info for
// the categorical head (the action), row_data for the Gaussian one (its unclipped actions, f32 bits);
// net_params read (log_std); dz [G×R×A], dv [G×R×V] overwritten; row_terms [G×R×C] (C = 4, + A for the
// Gaussian head): policyLoss writes columns 0 (weighted −Â log π), 2 (weighted entropy), 3 (0) and
// 4.. (dlog σ), valueLoss column 1 (weighted squared error); PPO: C = 5 (+ A), 3 and 4 as above, dlog σ
// from column 5; layered_reduce.wgsl sums them over the rows. value_buf read (PPO: V_old).

override gaussian_policy: u32 = 0u;
override off_log_std: u32 = 0u;
override clip_vloss: u32 = 1u;

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
@group(0) @binding(13) var<storage, read> value_buf: array<vec4<f32>>;

fn log_std_column() -> u32 { return select(4u, 5u, algo == ALGO_PPO); }
fn term_columns() -> u32 { return log_std_column() + select(0u, num_actions, gaussian_policy == 1u); }

fn chunk_row(i: u32) -> u32 {
  let agent = i / slice.rows;
  let position = slice.first + i % slice.rows;
  if (algo == ALGO_PPO) { return agent * rows_per_agent() + ppo_permute(agents[agent].seed, train.update, slice.t, rows_per_agent(), position); }
  return agent * rows_per_agent() + position;
}

// d max(a, b) as torch.maximum: (∂/∂a, ∂/∂b) = (1, 0), (0, 1), or (½, ½) on a tie.
fn max_grad(a: f32, b: f32) -> vec2<f32> {
  if (a > b) { return vec2<f32>(1.0, 0.0); }
  if (b > a) { return vec2<f32>(0.0, 1.0); }
  return vec2<f32>(0.5);
}

// clamp's derivative: 1 on [lo, hi] (bounds included, as torch.clamp's backward), else 0.
fn clamp_grad(x: f32, lo: f32, hi: f32) -> f32 { return select(0.0, 1.0, x >= lo && x <= hi); }

// PPO's clipped surrogate of one row: (its term max(−Â ρ, −Â clamp(ρ)), d term / d log π, approximate-KL
// term, clipped indicator).
fn ppo_surrogate(adv: f32, log_prob: f32, old_log_prob: f32, c: f32) -> vec4<f32> {
  let log_ratio = log_prob - old_log_prob;
  let ratio = exp(log_ratio);
  let unclipped = -adv * ratio;
  let clipped = -adv * clamp(ratio, 1.0 - c, 1.0 + c);
  let pick = max_grad(unclipped, clipped);
  let d_ratio = pick.x * -adv + pick.y * -adv * clamp_grad(ratio, 1.0 - c, 1.0 + c);
  return vec4<f32>(max(unclipped, clipped), d_ratio * ratio, (ratio - 1.0) - log_ratio, select(0.0, 1.0, abs(ratio - 1.0) > c));
}

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
  var ppo_terms = vec2<f32>(0.0);   // PPO: (approximate KL, clipped)
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
      let log_prob = gaussian_log_prob(a, z, log_std);
      var d_log_prob = -adv * scale;
      var policy_term = -adv * log_prob;
      if (algo == ALGO_PPO) {
        let s = ppo_surrogate(adv, log_prob, tg.w, hp.clip_coef);
        d_log_prob = scale * s.y;
        policy_term = s.x;
        ppo_terms = s.zw;
      }
      dzr = gaussian_grad_mu(a, z, log_std, d_log_prob);
      dlog_std = gaussian_grad_log_std(a, z, log_std, d_log_prob, -hp.ent_coef * scale);
      terms = vec2<f32>(policy_term, gaussian_entropy(log_std));
    } else {
      let action = row_aux[row] & 0xffu;
      let logp = log_softmax(z);
      let p = exp(logp);
      let entropy = -dot_outputs(p, logp, num_actions);
      let onehot = select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(0u, 1u, 2u, 3u) == vec4<u32>(action));
      if (algo == ALGO_PPO) {
        let s = ppo_surrogate(adv, logp[action], tg.w, hp.clip_coef);
        dzr = scale * s.y * (onehot - p) + scale * hp.ent_coef * p * (logp + entropy);
        terms = vec2<f32>(s.x, entropy);
        ppo_terms = s.zw;
      } else {
        dzr = scale * (-adv * (onehot - p) + hp.ent_coef * p * (logp + entropy));
        terms = vec2<f32>(-adv * logp[action], entropy);
      }
    }
    terms *= tg.z;
  }
  for (var k = 0u; k < num_actions; k++) { dz[act_row(i) * num_actions + k] = dzr[k]; }
  let c = term_columns();
  row_terms[i * c] = terms.x;
  row_terms[i * c + 2u] = terms.y;
  row_terms[i * c + 3u] = ppo_terms.x * tg.z;
  if (algo == ALGO_PPO) { row_terms[i * c + 4u] = ppo_terms.y * tg.z; }
  if (gaussian_policy == 1u) {
    for (var d = 0u; d < num_actions; d++) { row_terms[i * c + log_std_column() + d] = dlog_std[d]; }
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
    if (algo == ALGO_PPO) {
      let scale = row_scale(agent, tg) * agents[agent].vf_coef;
      // ½ (V − R)², or its maximum with the value clipped around the rollout's V_old.
      var d_v = err;
      var term = 0.5 * err * err;
      if (clip_vloss == 1u) {
        let c = agents[agent].clip_coef;
        let old = value_buf[row].x;
        let clipped_err = old + clamp(v[0] - old, -c, c) - tg.y;
        let pick = max_grad(err * err, clipped_err * clipped_err);
        d_v = pick.x * err + pick.y * clipped_err * clamp_grad(v[0] - old, -c, c);
        term = 0.5 * max(err * err, clipped_err * clipped_err);
      }
      dvr[0] = scale * d_v;
      squared_error = tg.z * term;
    } else {
      dvr[column] = row_scale(agent, tg) * 2.0 * agents[agent].vf_coef * err;
      squared_error = tg.z * err * err;
    }
  }
  for (var k = 0u; k < value_outputs; k++) { dv[act_row(i) * value_outputs + k] = dvr[k]; }
  row_terms[i * term_columns() + 1u] = squared_error;
}
