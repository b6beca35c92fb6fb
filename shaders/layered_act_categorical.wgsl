// The categorical head's half of layered_act.wgsl: a Discrete env's action from the logits, which are
// also stored per row (logits_out [G×T×N × A], as the fused rollout stores them). Follows it.

@group(0) @binding(10) var<storage, read_write> logits_out: array<f32>;

@compute @workgroup_size(workgroup_size)
fn rolloutAct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let e = slice_env(i);
  let z = actor_row(i);
  let v = critic_row(i);
  let row = rollout_row(e);
  for (var k = 0u; k < num_actions; k++) { logits_out[row * num_actions + k] = z[k]; }
  let u = rng_uniform(vec4<u32>(agents[e.agent].seed, RNG_STREAM_ACTION, e.env, train.update * train.n_steps + slice.t));
  let action = sample_action(log_softmax(z), u);
  var value = v.x;
  if (value_outputs > 1u) { value = v[action]; }
  var s = envs[e.slot];
  finish_step(e, &s, advance_env(&s, action), action, value);
  envs[e.slot] = s;
}

// One step of the evaluation episodes of the slice (slice.t = the step): greedy or sampled; an ended
// episode writes (return, length) to value_buf[slot] and stays ended (its episode counter 1).
@compute @workgroup_size(workgroup_size)
fn evaluateAct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let e = slice_env(i);
  var s = envs[e.slot];
  if (s.c.episode != 0u) { return; }
  let z = actor_row(i);
  var action = greedy_action(z);
  if (train.greedy == 0u) {
    action = sample_action(log_softmax(z), rng_uniform(vec4<u32>(agents[e.agent].seed, RNG_STREAM_EVAL_ACTION, e.env, slice.t)));
  }
  if (done_bits(advance_env(&s, action), s.c) != 0u || slice.t + 1u >= max_episode_steps) {
    value_buf[e.slot] = vec4<f32>(s.c.episode_return, f32(s.c.elapsed), 0.0, 0.0);
    s.c.episode = 1u;
  }
  envs[e.slot] = s;
}
