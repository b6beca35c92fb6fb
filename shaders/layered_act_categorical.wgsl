// The categorical head's half of layered_act.wgsl: a Discrete env's action from the logits. Follows it.

@compute @workgroup_size(workgroup_size)
fn rolloutAct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let slot = flat_index(wid, lid, nwg);
  let n = train.num_envs;
  if (slot >= num_agents * n) { return; }
  let agent = slot / n;
  let env = slot % n;
  let z = actor_row(slot);
  let v = critic_row(slot);
  let u = rng_uniform(vec4<u32>(agents[agent].seed, RNG_STREAM_ACTION, env, train.update * train.n_steps + slice.t));
  let action = sample_action(log_softmax(z), u);
  var value = v.x;
  if (value_outputs > 1u) { value = v[action]; }
  var s = envs[slot];
  finish_step(agent, env, &s, advance_env(&s, action), action, value);
  envs[slot] = s;
}

// One step of every evaluation episode (slice.t = the step): greedy or sampled; an ended episode writes
// (return, length) to value_buf[i] and stays ended (its episode counter 1).
@compute @workgroup_size(workgroup_size)
fn evaluateAct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * train.num_envs) { return; }
  var s = envs[i];
  if (s.c.episode != 0u) { return; }
  let agent = i / train.num_envs;
  let z = actor_row(i);
  var action = greedy_action(z);
  if (train.greedy == 0u) {
    action = sample_action(log_softmax(z), rng_uniform(vec4<u32>(agents[agent].seed, RNG_STREAM_EVAL_ACTION, i % train.num_envs, slice.t)));
  }
  if (done_bits(advance_env(&s, action), s.c) != 0u || slice.t + 1u >= max_episode_steps) {
    value_buf[i] = vec4<f32>(s.c.episode_return, f32(s.c.elapsed), 0.0, 0.0);
    s.c.episode = 1u;
  }
  envs[i] = s;
}
