// The Gaussian head's half of layered_act.wgsl: a Box env's action a = μ + σ·ε (policy_gaussian.wgsl),
// stored unclipped (the log-probability is of the sample) and clipped to the Box before the env sees it.
// The env module gives the conversion to its action type: fn env_box_action(a: vec4<f32>) -> EnvAction.
// net_params [G × P] read: log_std. Follows layered_act.wgsl.

@group(0) @binding(10) var<storage, read> net_params: array<f32>;

// The Box's bounds per dimension (lanes beyond D unused), from the env's descriptor.
override action_low0: f32 = -1.0;
override action_low1: f32 = -1.0;
override action_low2: f32 = -1.0;
override action_low3: f32 = -1.0;
override action_high0: f32 = 1.0;
override action_high1: f32 = 1.0;
override action_high2: f32 = 1.0;
override action_high3: f32 = 1.0;
override off_log_std: u32 = 0u;

fn log_std_of(agent: u32) -> vec4<f32> {
  var l = vec4<f32>(0.0);
  for (var d = 0u; d < num_actions; d++) { l[d] = net_params[agent * num_params + off_log_std + d]; }
  return l;
}

fn clip_to_box(a: vec4<f32>) -> vec4<f32> {
  return clamp(a, vec4<f32>(action_low0, action_low1, action_low2, action_low3), vec4<f32>(action_high0, action_high1, action_high2, action_high3));
}

@compute @workgroup_size(workgroup_size)
fn rolloutAct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let e = slice_env(i);
  let row = rollout_row(e);
  let a = gaussian_sample(actor_row(i), log_std_of(e.agent), agents[e.agent].seed, e.env, train.update * train.n_steps + slice.t);
  let actions_base = row_data_actions();
  for (var d = 0u; d < num_actions; d++) { row_data[actions_base + row * num_actions + d] = a[d]; }
  var s = envs[e.slot];
  finish_step(e, &s, advance_env(&s, env_box_action(clip_to_box(a))), 0u, critic_row(i).x);
  envs[e.slot] = s;
}

// One step of the evaluation episodes of the slice: the mean (greedy) or a sample keyed apart from training.
@compute @workgroup_size(workgroup_size)
fn evaluateAct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let e = slice_env(i);
  var s = envs[e.slot];
  if (s.c.episode != 0u) { return; }
  var a = actor_row(i);
  if (train.greedy == 0u) {
    a = gaussian_sample(a, log_std_of(e.agent), agents[e.agent].seed, e.env, slice.t);
  }
  if (done_bits(advance_env(&s, env_box_action(clip_to_box(a))), s.c) != 0u || slice.t + 1u >= max_episode_steps) {
    value_buf[e.slot] = vec4<f32>(s.c.episode_return, f32(s.c.elapsed), 0.0, 0.0);
    s.c.episode = 1u;
  }
  envs[e.slot] = s;
}
