// Forward pass of the actor and the critic for one observation, in registers (rollout, evaluation and
// the backward's recomputation). Prepended: train_params.wgsl. The including kernel declares
// `net_params: array<f32>` (read or read_write storage) laid out as src/model/layout.ts says.
// CPU reference: src/cpu/actor-critic.ts.

fn hidden_pre(x: vec4<f32>, w1: u32, b1: u32, j: u32) -> f32 {
  let h = hidden_size;
  return net_params[b1 + j] + x.x * net_params[w1 + j] + x.y * net_params[w1 + h + j]
       + x.z * net_params[w1 + 2u * h + j] + x.w * net_params[w1 + 3u * h + j];
}

fn actor_logits(x: vec4<f32>) -> array<f32, MAX_ACTIONS> {
  var z: array<f32, MAX_ACTIONS>;
  for (var j = 0u; j < hidden_size; j++) {
    let h = activate(hidden_pre(x, off_actor_w1, off_actor_b1, j));
    for (var a = 0u; a < num_actions; a++) { z[a] += h * net_params[off_actor_w2 + j * num_actions + a]; }
  }
  for (var a = 0u; a < num_actions; a++) { z[a] += net_params[off_actor_b2 + a]; }
  return z;
}

fn critic_values(x: vec4<f32>) -> array<f32, MAX_ACTIONS> {
  var v: array<f32, MAX_ACTIONS>;
  for (var j = 0u; j < hidden_size; j++) {
    let h = activate(hidden_pre(x, off_critic_w1, off_critic_b1, j));
    for (var k = 0u; k < value_outputs; k++) { v[k] += h * net_params[off_critic_w2 + j * value_outputs + k]; }
  }
  for (var k = 0u; k < value_outputs; k++) { v[k] += net_params[off_critic_b2 + k]; }
  return v;
}

// log-softmax by log-sum-exp: finite for any finite logits (log(softmax) is not: log(0) differs by backend).
fn log_softmax(z: array<f32, MAX_ACTIONS>) -> array<f32, MAX_ACTIONS> {
  var m = z[0];
  for (var a = 1u; a < num_actions; a++) { m = max(m, z[a]); }
  var s = 0.0;
  for (var a = 0u; a < num_actions; a++) { s += exp(z[a] - m); }
  let lse = m + log(s);
  var out: array<f32, MAX_ACTIONS>;
  for (var a = 0u; a < num_actions; a++) { out[a] = z[a] - lse; }
  return out;
}

// The value that bootstraps a return from observation x: V(x), or for a Q-critic the expected
// Q under the current policy, sum_a pi(a|x) Q(x, a) (expected SARSA at rollout cuts and time limits).
fn state_value(x: vec4<f32>) -> f32 {
  let v = critic_values(x);
  if (value_outputs == 1u) { return v[0]; }
  let logp = log_softmax(actor_logits(x));
  var e = 0.0;
  for (var a = 0u; a < num_actions; a++) { e += exp(logp[a]) * v[a]; }
  return e;
}

