// The running statistics applied (VecNormalize), shared by every kernel that reads observations or
// rewards with them: the fused rollout and backward, the layered path's observe kernel. normalize.wgsl
// updates the statistics. Prepended: train_params.wgsl (and before it the env module, rng.wgsl,
// env_interface.wgsl). The including kernel declares `norm_stats` (normalize.wgsl's record) in storage.
// CPU reference: src/cpu/normalize.ts.

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
