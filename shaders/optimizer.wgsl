// Gradient reduction, global norm, non-finite guard and the optimizer step over the flat parameter
// buffer, each agent on its own (params [G×P]; every agent's guard and clipping are its own). Prepended: train_params.wgsl. CPU reference: src/cpu/optimizer.ts.
//   reduceGradients: grads[p] = sum over workgroups w (in order) of partials[w, p]; loss terms / W
//   gradNorm:        norm = sqrt(sum grads^2); scale = max_grad_norm > 0 ? min(1, max_grad_norm / (norm + 1e-6)) : 1;
//                    a non-finite loss term (bit 1), gradient (2) or parameter (4) sets M_NONFINITE and the
//                    step below is skipped
//   optimizerStep:   g = scale * grads[p], then PyTorch's Adam or RMSprop (operation order as torch.optim):
//     Adam:    m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2;
//              p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps),  step_size = lr / (1 - beta1^t)
//     RMSprop: v = alpha v + (1 - alpha) g^2;  p -= lr * g / (sqrt(v) + eps)
//   packWeights:     packed_out[4j .. 4j+3] = (actor.w1[:, j]), (actor.b1[j], actor.w2[j, :], 0),
//                    (critic.w1[:, j]), (critic.b1[j], critic.w2[j, :] (second 0 for V), 0);
//                    packed_out[4H] = (actor.b2, critic.b2 (second 0 for V)): what network.wgsl reads
// Buffers: net_params, opt_m, opt_v read-write (updated in place); grads overwritten; partials read;
// metrics: loss terms, M_GRAD_NORM, M_NONFINITE, M_CLIP_SCALE overwritten; packed_out overwritten.

@group(0) @binding(1) var<storage, read_write> net_params: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> opt_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> opt_v: array<f32>;
@group(0) @binding(5) var<storage, read> partials: array<f32>;
@group(0) @binding(6) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(7) var<storage, read_write> packed_out: array<vec4<f32>>;

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
    let norm = sqrt(red[0].x);
    var flag = 0u;
    if (is_nonfinite(metrics[metric(agent, M_POLICY_LOSS)]) || is_nonfinite(metrics[metric(agent, M_VALUE_LOSS)]) ||
        is_nonfinite(metrics[metric(agent, M_ENTROPY)])) { flag |= 1u; }
    if (is_nonfinite(norm)) { flag |= 2u; }
    if (is_nonfinite(red[0].y)) { flag |= 4u; }
    var scale = 1.0;
    if (train.max_grad_norm > 0.0 && flag == 0u) { scale = min(1.0, train.max_grad_norm / (norm + 1e-6)); }
    metrics[metric(agent, M_GRAD_NORM)] = norm;
    metrics[metric(agent, M_NONFINITE)] = f32(flag);
    metrics[metric(agent, M_CLIP_SCALE)] = scale;
    if (flag != 0u && metrics[metric(agent, M_FIRST_NONFINITE_UPDATE)] == 0.0) {
      metrics[metric(agent, M_FIRST_NONFINITE_UPDATE)] = f32(train.update + 1u);
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
  let g = grads[p] * metrics[metric(agent, M_CLIP_SCALE)];
  if (train.optimizer == 0u) {
    let m = opt_m[p] + train.one_minus_beta1 * (g - opt_m[p]);
    let v = opt_v[p] * train.beta2 + train.one_minus_beta2 * g * g;
    opt_m[p] = m;
    opt_v[p] = v;
    net_params[p] -= train.step_size * (m / (sqrt(v) / train.bias_correction2_sqrt + train.eps));
  } else {
    let v = opt_v[p] * train.beta2 + train.one_minus_beta2 * g * g;
    opt_v[p] = v;
    net_params[p] -= train.step_size * (g / (sqrt(v) + train.eps));
  }
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
  let out = agent * (4u * h + 1u);       // and packed weights
  let v2 = value_outputs == 2u;
  if (j == h) {
    packed_out[out + 4u * h] = vec4<f32>(net_params[q + off_actor_b2], net_params[q + off_actor_b2 + 1u],
                                         net_params[q + off_critic_b2], select(0.0, net_params[q + off_critic_b2 + 1u], v2));
    return;
  }
  packed_out[out + 4u * j] = vec4<f32>(net_params[q + off_actor_w1 + j], net_params[q + off_actor_w1 + h + j],
                                       net_params[q + off_actor_w1 + 2u * h + j], net_params[q + off_actor_w1 + 3u * h + j]);
  packed_out[out + 4u * j + 1u] = vec4<f32>(net_params[q + off_actor_b1 + j], net_params[q + off_actor_w2 + 2u * j],
                                            net_params[q + off_actor_w2 + 2u * j + 1u], 0.0);
  packed_out[out + 4u * j + 2u] = vec4<f32>(net_params[q + off_critic_w1 + j], net_params[q + off_critic_w1 + h + j],
                                            net_params[q + off_critic_w1 + 2u * h + j], net_params[q + off_critic_w1 + 3u * h + j]);
  let w2c = q + off_critic_w2 + j * value_outputs;
  packed_out[out + 4u * j + 3u] = vec4<f32>(net_params[q + off_critic_b1 + j], net_params[w2c],
                                            select(0.0, net_params[w2c + 1u], v2), 0.0);
}
