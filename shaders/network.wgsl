// Forward pass of the actor and the critic for one observation (or four), in registers: rollout,
// evaluation and the backward's recomputation. Prepended: the env module, rng.wgsl, env_interface.wgsl,
// train_params.wgsl. The including kernel declares `packed: array<vec4<f32>, PACKED_VEC4S>` in the
// uniform address space (the layout is in train_params.wgsl) and `norm_stats` (normalize.wgsl's record)
// in storage. Uniform-buffer reads of an index that is the same in every invocation are one load on
// lavapipe; the same reads from a storage buffer are a per-invocation gather and cost ~4x the whole
// forward pass (measured). CPU reference: src/cpu/actor-critic.ts.

const PACKED_VEC4S: u32 = 4096u;   // 64 KiB, WebGPU's default maxUniformBufferBindingSize: G × stride <= 4096

// Where the current agent's packed weights start; every entry point sets it before a forward pass.
var<private> packed_base: u32;

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
