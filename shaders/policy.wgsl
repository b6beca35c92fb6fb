// The categorical head's parts that every network path shares (the fused one-layer kernels and the
// layered ones): log-softmax, sampling and greedy choice. Prepended: train_params.wgsl (and before it the
// env module, rng.wgsl, env_interface.wgsl). CPU references: src/cpu/policy-head.ts, src/cpu/rollout.ts.

// Logit of a lane beyond the env's actions: exp() underflows to exactly 0 and the value stays finite, so
// 0 · log p is 0 (with −inf it would be NaN).
const LOGIT_PAD: f32 = -3.0e38;

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

