// Gradient reduction, global norm, non-finite guard and the optimizer step over the flat parameter
// buffer, each agent on its own (params [G×P]; every agent's guard and clipping are its own). Prepended: the env module, rng.wgsl, env_interface.wgsl, train_params.wgsl. CPU reference: src/cpu/optimizer.ts.
//   reduceGradients: grads[p] = sum over workgroups w (in order) of partials[w, p]; loss terms / W
//   gradNorm:        norm = sqrt(sum grads^2); scale = max_grad_norm > 0 ? min(1, max_grad_norm / (norm + 1e-6)) : 1;
//                    a non-finite loss term (bit 1), gradient (2) or parameter (4) sets M_NONFINITE and the
//                    step below is skipped
//   optimizerStep:   g = scale * grads[p], then PyTorch's Adam or RMSprop (operation order as torch.optim):
//     Adam:    m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2;
//              p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps),  step_size = lr / (1 - beta1^t)
//     RMSprop: v = alpha v + (1 - alpha) g^2;  p -= lr * g / (sqrt(v) + eps)
//   packWeights:     the weights repacked per hidden unit, in the layout of train_params.wgsl: what
//                    network.wgsl reads
// Buffers: net_params, opt_m, opt_v read-write (updated in place); grads overwritten; partials read;
// metrics: loss terms, M_GRAD_NORM, M_NONFINITE, M_CLIP_SCALE overwritten; packed_out overwritten.

@group(0) @binding(1) var<storage, read_write> net_params: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> opt_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> opt_v: array<f32>;
@group(0) @binding(5) var<storage, read> partials: array<f32>;
@group(0) @binding(6) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(7) var<storage, read_write> packed_out: array<vec4<f32>>;
@group(0) @binding(8) var<uniform> agents: array<AgentParams, MAX_AGENTS>;

@compute @workgroup_size(workgroup_size)
fn reduceGradients(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                   @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  let per_agent = num_params + 3u;
  if (i >= num_agents * per_agent) { return; }
  let agent = i / per_agent;
  let p = i % per_agent;
  let stride = num_params + 4u;
  let first = agent * train.num_groups * stride;
  var sum = 0.0;
  for (var w = 0u; w < train.num_groups; w++) { sum += partials[first + w * stride + p]; }
  if (p < num_params) {
    grads[agent * num_params + p] = sum;
  } else {
    metrics[metric(agent, M_POLICY_LOSS + p - num_params)] = sum / max(metrics[metric(agent, M_WEIGHT_SUM)], 1.0);
  }
}

// 1 − βᵗ from 1 − β (exact in f32, unlike β = 0.999), to f32 rounding: PyTorch's bias corrections in f64
// give the same f32 step. ln β = log1p(−ε) and 1 − eˣ = −expm1(x) by their series where they would cancel.
fn one_minus_pow(one_minus_beta: f32, t: f32) -> f32 {
  let e = one_minus_beta;
  var log_beta = log(1.0 - e);
  if (e < 0.01) { log_beta = -e * (1.0 + e * (0.5 + e * (1.0 / 3.0 + e * 0.25))); }
  let x = t * log_beta;
  if (x > -0.1) { return -x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x / 720.0))))); }
  return 1.0 - exp(x);
}

const NORM_THREADS: u32 = 256u;
var<workgroup> red: array<vec2<f32>, NORM_THREADS>;

// One workgroup per agent.
@compute @workgroup_size(NORM_THREADS)
fn gradNorm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let agent = wid.x;
  let first = agent * num_params;
  // (gradient, parameter) sums of squares: a NaN or Inf anywhere makes its sum non-finite. Parameters
  // are checked too because clamp/max inside the forward pass swallow NaN, hiding a bad weight.
  var ss = vec2<f32>(0.0);
  for (var p = first + lid.x; p < first + num_params; p += NORM_THREADS) { ss += vec2<f32>(grads[p] * grads[p], net_params[p] * net_params[p]); }
  red[lid.x] = ss;
  workgroupBarrier();
  for (var stride = NORM_THREADS / 2u; stride > 0u; stride >>= 1u) {
    if (lid.x < stride) { red[lid.x] += red[lid.x + stride]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    // PPO: an agent whose target KL stopped this update takes no more steps (CleanRL breaks its epoch loop).
    if (algo == ALGO_PPO && metrics[metric(agent, M_KL_STOPPED)] != 0.0) { return; }
    let norm = sqrt(red[0].x);
    var flag = 0u;
    if (is_nonfinite(metrics[metric(agent, M_POLICY_LOSS)]) || is_nonfinite(metrics[metric(agent, M_VALUE_LOSS)]) ||
        is_nonfinite(metrics[metric(agent, M_ENTROPY)])) { flag |= 1u; }
    if (is_nonfinite(norm)) { flag |= 2u; }
    if (is_nonfinite(red[0].y)) { flag |= 4u; }
    var scale = 1.0;
    let max_norm = agents[agent].max_grad_norm;
    if (max_norm > 0.0 && flag == 0u) { scale = min(1.0, max_norm / (norm + 1e-6)); }
    metrics[metric(agent, M_GRAD_NORM)] = norm;
    metrics[metric(agent, M_NONFINITE)] = f32(flag);
    metrics[metric(agent, M_CLIP_SCALE)] = scale;
    if (flag != 0u && metrics[metric(agent, M_FIRST_NONFINITE_UPDATE)] == 0.0) {
      metrics[metric(agent, M_FIRST_NONFINITE_UPDATE)] = f32(train.update + 1u);
    }
    if (algo == ALGO_PPO) {
      // PPO steps several times per update, fewer when the target KL stops it: Adam's t counts on the GPU
      // (a skipped non-finite step counts, as for the other algorithms) and the bias corrections follow it.
      let t = metrics[metric(agent, M_ADAM_STEPS)] + 1.0;
      metrics[metric(agent, M_ADAM_STEPS)] = t;
      let hp = agents[agent];
      var step_size = hp.step_size;
      var bc2_sqrt = 1.0;
      if (train.optimizer == 0u) {
        step_size = hp.step_size / one_minus_pow(hp.one_minus_beta1, t);
        bc2_sqrt = sqrt(one_minus_pow(hp.one_minus_beta2, t));
      }
      metrics[metric(agent, M_STEP_SIZE)] = step_size;
      metrics[metric(agent, M_BIAS_CORRECTION2_SQRT)] = bc2_sqrt;
    }
  }
}

@compute @workgroup_size(workgroup_size)
fn optimizerStep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = flat_index(wid, lid, nwg);
  if (p >= num_agents * num_params) { return; }
  let agent = p / num_params;
  if (metrics[metric(agent, M_NONFINITE)] != 0.0) { return; }
  if (algo == ALGO_PPO && metrics[metric(agent, M_KL_STOPPED)] != 0.0) { return; }
  let g = grads[p] * metrics[metric(agent, M_CLIP_SCALE)];
  let hp = agents[agent];
  var step_size = hp.step_size;
  var bc2_sqrt = hp.bias_correction2_sqrt;
  if (algo == ALGO_PPO) {
    step_size = metrics[metric(agent, M_STEP_SIZE)];
    bc2_sqrt = metrics[metric(agent, M_BIAS_CORRECTION2_SQRT)];
  }
  if (train.optimizer == 0u) {
    let m = opt_m[p] + hp.one_minus_beta1 * (g - opt_m[p]);
    let v = opt_v[p] * hp.beta2 + hp.one_minus_beta2 * g * g;
    opt_m[p] = m;
    opt_v[p] = v;
    net_params[p] -= step_size * (m / (sqrt(v) / bc2_sqrt + hp.eps));
  } else {
    let v = opt_v[p] * hp.beta2 + hp.one_minus_beta2 * g * g;
    opt_v[p] = v;
    net_params[p] -= step_size * (g / (sqrt(v) + hp.eps));
  }
}

// One unit's block of the packed weights: w1[:, j] in OBS_VEC4S vec4s (zero-padded), then
// (b1[j], w2[j, 0..2]) and, for 4 outputs, (w2[j, 3], 0, 0, 0).
fn pack_unit(dst: u32, w1: u32, b1: u32, w2: u32, outputs: u32, rows: u32, j: u32) {
  for (var k = 0u; k < OBS_VEC4S; k++) {
    var v = vec4<f32>(0.0);
    for (var lane = 0u; lane < 4u; lane++) {
      let i = 4u * k + lane;
      if (i < OBS_SIZE) { v[lane] = net_params[w1 + i * hidden_size + j]; }
    }
    packed_out[dst + k] = v;
  }
  var rest = vec4<f32>(net_params[b1 + j], 0.0, 0.0, 0.0);
  for (var o = 0u; o < min(outputs, 3u); o++) { rest[o + 1u] = net_params[w2 + j * outputs + o]; }
  packed_out[dst + OBS_VEC4S] = rest;
  if (rows == 2u) { packed_out[dst + OBS_VEC4S + 1u] = vec4<f32>(net_params[w2 + j * outputs + 3u], 0.0, 0.0, 0.0); }
}

// An output bias vector in its first `outputs` lanes.
fn bias_lanes(first: u32, outputs: u32) -> vec4<f32> {
  var b = vec4<f32>(0.0);
  for (var o = 0u; o < outputs; o++) { b[o] = net_params[first + o]; }
  return b;
}

// One invocation per hidden unit (and one more for the output biases) of each agent.
@compute @workgroup_size(workgroup_size)
fn packWeights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  let h = hidden_size;
  if (i >= num_agents * (h + 1u)) { return; }
  let agent = i / (h + 1u);
  let j = i % (h + 1u);
  let q = agent * num_params;            // this agent's parameters
  let out = agent * packed_stride();     // and packed weights
  if (j == h) {
    packed_out[output_biases(out)] = bias_lanes(q + off_actor_b2, num_actions);
    packed_out[output_biases(out) + 1u] = bias_lanes(q + off_critic_b2, value_outputs);
    return;
  }
  pack_unit(actor_unit(out, j), q + off_actor_w1, q + off_actor_b1, q + off_actor_w2, num_actions, actor_rows, j);
  pack_unit(critic_unit(out, j), q + off_critic_w1, q + off_critic_b1, q + off_critic_w2, value_outputs, critic_rows, j);
}
