// The network's input rows for the layered path (networks of any depth, either policy head): each row
// the observation normalized by the agent's frozen running statistics, O floats, agent-major [G × R × O],
// what linear.wgsl's first layer reads. Prepended: the env module, rng.wgsl, env_interface.wgsl,
// train_params.wgsl, policy.wgsl. CPU reference: src/cpu/rollout.ts (networkInputs, the rollout's input).
//
//   observeEnvs   rows = the envs (R = N): s_t of every env; also its raw observation into obs_buf at
//                 row t of the rollout (slice.t = T: only the input, for V(s_T))
//   prepareRows   rows = slice.rows rows of the rollout from slice.first: the update's chunk, from obs_buf
//   prepareFinal  the same rows from row_data's final observations (the bootstrap of truncated episodes)
// Buffers: envs [G×N] EnvSlot read; obs_buf [G×T×N × OV] vec4 read-write; norm_stats read;
// x_in [G × R × O] f32 overwritten; row_data read (its first G×T×N×O floats: raw final observations).

@group(0) @binding(1) var<uniform> slice: Slice;
@group(0) @binding(2) var<storage, read> envs: array<EnvSlot>;
@group(0) @binding(3) var<storage, read_write> obs_buf: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> norm_stats: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> x_in: array<f32>;
@group(0) @binding(6) var<storage, read> row_data: array<f32>;

fn write_input(row: u32, agent: u32, raw: Obs) {
  let x = normalize_obs_of(agent, raw);
  for (var k = 0u; k < OBS_SIZE; k++) { x_in[row * OBS_SIZE + k] = x[k / 4u][k % 4u]; }
}

@compute @workgroup_size(workgroup_size)
fn observeEnvs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let slot = flat_index(wid, lid, nwg);
  let n = train.num_envs;
  if (slot >= num_agents * n) { return; }
  let agent = slot / n;
  let raw = observe(envs[slot].s);
  if (slice.t < train.n_steps) {
    let row = agent * rows_per_agent() + slice.t * n + slot % n;
    for (var k = 0u; k < OBS_VEC4S; k++) { obs_buf[row * OBS_VEC4S + k] = raw[k]; }
  }
  write_input(slot, agent, raw);
}

@compute @workgroup_size(workgroup_size)
fn prepareRows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let row = agent * rows_per_agent() + slice.first + i % slice.rows;
  var raw: Obs;
  for (var k = 0u; k < OBS_VEC4S; k++) { raw[k] = obs_buf[row * OBS_VEC4S + k]; }
  write_input(i, agent, raw);
}

@compute @workgroup_size(workgroup_size)
fn prepareFinal(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let row = agent * rows_per_agent() + slice.first + i % slice.rows;
  var raw: Obs;
  for (var k = 0u; k < OBS_VEC4S; k++) {
    var v = vec4<f32>(0.0);
    for (var lane = 0u; lane < 4u; lane++) {
      let j = 4u * k + lane;
      if (j < OBS_SIZE) { v[lane] = row_data[row * OBS_SIZE + j]; }
    }
    raw[k] = v;
  }
  write_input(i, agent, raw);
}
