// Forward pass of the actor and the critic for one observation, in registers (rollout, evaluation and
// the backward's recomputation). Prepended: train_params.wgsl. The including kernel declares
// `packed: array<vec4<f32>, PACKED_VEC4S>` in the uniform address space: the weights repacked per hidden
// unit by optimizer.wgsl's packWeights (layout there). Uniform-buffer reads of an index that is the
// same in every invocation are one load on lavapipe; the same reads from a storage buffer are a
// per-invocation gather and cost ~4x the whole forward pass (measured).
// CPU reference: src/cpu/actor-critic.ts.

const PACKED_VEC4S: u32 = 4096u;   // 64 KiB, WebGPU's default maxUniformBufferBindingSize: G × (4H + 1) <= 4096

// Where the current agent's packed weights start; every entry point sets it before a forward pass.
var<private> packed_base: u32;

fn packed_stride() -> u32 { return 4u * hidden_size + 1u; }

// Two actions (CartPole) as a vec2: private arrays indexed in loops spill to memory on lavapipe.
fn actor_logits(x: vec4<f32>) -> vec2<f32> {
  var z = vec2<f32>(0.0);
  for (var j = 0u; j < hidden_size; j++) {
    let rest = packed[packed_base + 4u * j + 1u];   // (b1, w2[j, 0], w2[j, 1], 0)
    z += activate(rest.x + dot(x, packed[packed_base + 4u * j])) * rest.yz;
  }
  return z + packed[packed_base + 4u * hidden_size].xy;
}

// V(x) in .x, or Q(x, 0) and Q(x, 1) for a Q-critic (value_outputs = 2; for V the .y lane stays 0).
fn critic_values(x: vec4<f32>) -> vec2<f32> {
  var v = vec2<f32>(0.0);
  for (var j = 0u; j < hidden_size; j++) {
    let rest = packed[packed_base + 4u * j + 3u];
    v += activate(rest.x + dot(x, packed[packed_base + 4u * j + 2u])) * rest.yz;
  }
  return v + packed[packed_base + 4u * hidden_size].zw;
}

// log-softmax by log-sum-exp: finite for any finite logits (log(softmax) is not: log(0) differs by backend).
fn log_softmax(z: vec2<f32>) -> vec2<f32> {
  let m = max(z.x, z.y);
  return z - (m + log(exp(z.x - m) + exp(z.y - m)));
}

// The value that bootstraps a return from observation x: V(x), or for a Q-critic the expected
// Q under the current policy, sum_a pi(a|x) Q(x, a) (expected SARSA at rollout cuts and time limits).
fn state_value(x: vec4<f32>) -> f32 {
  let v = critic_values(x);
  if (value_outputs == 1u) { return v.x; }
  return dot(exp(log_softmax(actor_logits(x))), v);
}

// The same forward passes for four observations at once (the columns of x): each packed weight read
// serves four envs. Results as mat2x4: [0] = first output of the four envs, [1] = second.
fn actor_logits4(x: mat4x4<f32>) -> mat2x4<f32> {
  var z0 = vec4<f32>(0.0);
  var z1 = vec4<f32>(0.0);
  for (var j = 0u; j < hidden_size; j++) {
    let rest = packed[packed_base + 4u * j + 1u];
    let h = activate4(rest.x + packed[packed_base + 4u * j] * x);
    z0 += h * rest.y;
    z1 += h * rest.z;
  }
  let b = packed[packed_base + 4u * hidden_size];
  return mat2x4<f32>(z0 + b.x, z1 + b.y);
}

fn critic_values4(x: mat4x4<f32>) -> mat2x4<f32> {
  var v0 = vec4<f32>(0.0);
  var v1 = vec4<f32>(0.0);
  for (var j = 0u; j < hidden_size; j++) {
    let rest = packed[packed_base + 4u * j + 3u];
    let h = activate4(rest.x + packed[packed_base + 4u * j + 2u] * x);
    v0 += h * rest.y;
    v1 += h * rest.z;
  }
  let b = packed[packed_base + 4u * hidden_size];
  return mat2x4<f32>(v0 + b.z, v1 + b.w);
}

fn state_values4(x: mat4x4<f32>) -> vec4<f32> {
  let v = critic_values4(x);
  if (value_outputs == 1u) { return v[0]; }
  let z = actor_logits4(x);
  let m = max(z[0], z[1]);
  let lse = m + log(exp(z[0] - m) + exp(z[1] - m));
  return exp(z[0] - lse) * v[0] + exp(z[1] - lse) * v[1];
}
