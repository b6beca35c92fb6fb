// The parts of the policy and its input that every network path shares (the fused one-layer kernels and
// the layered ones): the input normalization by the running statistics, the categorical head's
// log-softmax, sampling and greedy choice. Prepended: train_params.wgsl (and before it the env module,
// rng.wgsl, env_interface.wgsl). The including kernel declares `norm_stats` (normalize.wgsl's record) in
// storage when it normalizes. CPU references: src/cpu/normalize.ts, src/cpu/policy-head.ts, src/cpu/rollout.ts.

// Logit of a lane beyond the env's actions: exp() underflows to exactly 0 and the value stays finite, so
// 0 · log p is 0 (with −inf it would be NaN).
const LOGIT_PAD: f32 = -3.0e38;

// The running observation statistics of `agent` applied: (x − mean) / sqrt(var + eps), clipped, as
// VecNormalize. Padded lanes stay 0 (their mean is 0).
fn normalize_obs_of(agent: u32, x: Obs) -> Obs {
  if (normalize_obs == 0u) { return x; }
  let base = agent * norm_stride();
  var y: Obs;
  for (var k = 0u; k < OBS_VEC4S; k++) {
    let mean = norm_stats[base + k];
    let var_ = norm_stats[base + OBS_VEC4S + k];
    y[k] = clamp((x[k] - mean) / sqrt(var_ + NORM_EPS), vec4<f32>(-NORM_CLIP), vec4<f32>(NORM_CLIP));
  }
  return y;
}

// A reward scaled by the running variance of the discounted return, clipped (VecNormalize; no mean shift).
fn normalize_reward_of(agent: u32, r: f32) -> f32 {
  if (normalize_reward == 0u) { return r; }
  let ret = norm_stats[agent * norm_stride() + 2u * OBS_VEC4S];
  return clamp(r / sqrt(ret.y + NORM_EPS), -NORM_CLIP, NORM_CLIP);
}

// log-softmax over the A live lanes by log-sum-exp: finite for any finite logits (log(softmax) is not:
// log(0) differs by backend). Lanes beyond A come out near LOGIT_PAD, with probability exactly 0.
fn log_softmax(z: vec4<f32>) -> vec4<f32> {
  let live = vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(num_actions);
  let zm = select(vec4<f32>(LOGIT_PAD), z, live);
  var m = max(zm.x, zm.y);
  if (num_actions > 2u) { m = max(m, zm.z); }
  if (num_actions > 3u) { m = max(m, zm.w); }
  var sum = exp(zm.x - m) + exp(zm.y - m);
  if (num_actions > 2u) { sum += exp(zm.z - m); }
  if (num_actions > 3u) { sum += exp(zm.w - m); }
  return zm - (m + log(sum));
}

// Inverse CDF of the categorical distribution at u in [0, 1): the first a < A − 1 with u < Σ_{k≤a} p_k.
fn sample_action(logp: vec4<f32>, u: f32) -> u32 {
  var cdf = exp(logp.x);
  if (u < cdf) { return 0u; }
  if (num_actions > 2u) {
    cdf += exp(logp.y);
    if (u < cdf) { return 1u; }
  }
  if (num_actions > 3u) {
    cdf += exp(logp.z);
    if (u < cdf) { return 2u; }
  }
  return num_actions - 1u;
}

// The first action with the largest logit.
fn greedy_action(z: vec4<f32>) -> u32 {
  var best = 0u;
  for (var a = 1u; a < num_actions; a++) {
    if (z[a] > z[best]) { best = a; }
  }
  return best;
}

