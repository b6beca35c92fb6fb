// Forward pass of the one-layer actor and critic for one observation (or four), in registers: the fused
// rollout, evaluation and the backward's recomputation. Prepended: the env module, rng.wgsl,
// env_interface.wgsl, train_params.wgsl, policy.wgsl. The including kernel declares
// `packed: array<vec4<f32>, PACKED_VEC4S>` in the uniform address space (the layout is in train_params.wgsl). Uniform-buffer reads of an index that is the same in every invocation are one load on
// lavapipe; the same reads from a storage buffer are a per-invocation gather and cost ~4x the whole
// forward pass (measured). CPU reference: src/cpu/actor-critic.ts.

const PACKED_VEC4S: u32 = 4096u;   // 64 KiB, WebGPU's default maxUniformBufferBindingSize: G × stride <= 4096

// Where the current agent's packed weights start; every entry point sets it before a forward pass.
var<private> packed_base: u32;

// w2[j, ·] of a unit as a vec4 over the outputs, from its rest rows (b1, w2_0, w2_1, w2_2) [, (w2_3, …)].
fn output_row(rest: u32, rows: u32) -> vec4<f32> {
  let r = packed[rest];
  var w = vec4<f32>(r.yzw, 0.0);
  if (rows == 2u) { w.w = packed[rest + 1u].x; }
  return w;
}

fn unit_pre(x: Obs, unit: u32, b1: f32) -> f32 {
  var pre = b1;
  for (var k = 0u; k < OBS_VEC4S; k++) { pre += dot(x[k], packed[unit + k]); }
  return pre;
}

// One network's outputs (A logits, or V / Q values) for one observation. `first` is unit 0's block of
// that network, `rows` its rest rows per unit; all four are constants where the callers below inline it.
fn network_outputs(x: Obs, first: u32, rows: u32, outputs: u32, bias: vec4<f32>) -> vec4<f32> {
  var o = vec4<f32>(0.0);
  for (var j = 0u; j < hidden_size; j++) {
    let u = first + j * unit_vec4s;
    let rest = u + OBS_VEC4S;
    o = axpy_outputs(o, activate(unit_pre(x, u, packed[rest].x)), output_row(rest, rows), outputs);
  }
  return o + bias;
}

// Logits in the first A lanes.
fn actor_logits(x: Obs) -> vec4<f32> {
  return network_outputs(x, actor_unit(packed_base, 0u), actor_rows, num_actions, packed[output_biases(packed_base)]);
}

// V(x) in .x, or Q(x, ·) in the first A lanes for a Q-critic.
fn critic_values(x: Obs) -> vec4<f32> {
  return network_outputs(x, critic_unit(packed_base, 0u), critic_rows, value_outputs, packed[output_biases(packed_base) + 1u]);
}

// The value that bootstraps a return from observation x: V(x), or for a Q-critic the expected
// Q under the current policy, sum_a pi(a|x) Q(x, a) (expected SARSA at rollout cuts and time limits).
fn state_value(x: Obs) -> f32 {
  let v = critic_values(x);
  if (value_outputs == 1u) { return v.x; }
  return dot_outputs(exp(log_softmax(actor_logits(x))), v, num_actions);
}

// Four observations as matrices whose columns are the envs (one matrix per vec4 of the observation).
alias Obs4 = array<mat4x4<f32>, OBS_VEC4S>;

fn obs4(x0: Obs, x1: Obs, x2: Obs, x3: Obs) -> Obs4 {
  var m: Obs4;
  for (var k = 0u; k < OBS_VEC4S; k++) { m[k] = mat4x4<f32>(x0[k], x1[k], x2[k], x3[k]); }
  return m;
}

fn unit_pre4(x: Obs4, unit: u32, b1: f32) -> vec4<f32> {
  var pre = vec4<f32>(b1);
  for (var k = 0u; k < OBS_VEC4S; k++) { pre += packed[unit + k] * x[k]; }
  return pre;
}

// The forward passes for four observations at once: each packed weight read serves four envs.
// Results as mat4x4 with one column per output (lanes: the four envs).
fn network_outputs4(x: Obs4, first: u32, rows: u32, outputs: u32, bias: vec4<f32>) -> mat4x4<f32> {
  var o0 = vec4<f32>(0.0);
  var o1 = vec4<f32>(0.0);
  var o2 = vec4<f32>(0.0);
  var o3 = vec4<f32>(0.0);
  for (var j = 0u; j < hidden_size; j++) {
    let u = first + j * unit_vec4s;
    let rest = u + OBS_VEC4S;
    let w = output_row(rest, rows);
    let h = activate4(unit_pre4(x, u, packed[rest].x));
    o0 += h * w.x;
    if (outputs > 1u) { o1 += h * w.y; }
    if (outputs > 2u) { o2 += h * w.z; }
    if (outputs > 3u) { o3 += h * w.w; }
  }
  return mat4x4<f32>(o0 + bias.x, o1 + bias.y, o2 + bias.z, o3 + bias.w);
}

fn actor_logits4(x: Obs4) -> mat4x4<f32> {
  return network_outputs4(x, actor_unit(packed_base, 0u), actor_rows, num_actions, packed[output_biases(packed_base)]);
}

fn critic_values4(x: Obs4) -> mat4x4<f32> {
  return network_outputs4(x, critic_unit(packed_base, 0u), critic_rows, value_outputs, packed[output_biases(packed_base) + 1u]);
}

// Env e's outputs (column e of the transposed result) as a vec4 over outputs.
fn env_outputs(m: mat4x4<f32>, e: u32) -> vec4<f32> {
  return vec4<f32>(m[0][e], m[1][e], m[2][e], m[3][e]);
}

fn state_values4(x: Obs4) -> vec4<f32> {
  let v = critic_values4(x);
  if (value_outputs == 1u) { return v[0]; }
  let z = actor_logits4(x);
  var out = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    out[e] = dot_outputs(exp(log_softmax(env_outputs(z, e))), env_outputs(v, e), num_actions);
  }
  return out;
}
