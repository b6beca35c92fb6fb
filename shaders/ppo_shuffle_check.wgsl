// Test-only kernel: writes ppo_permute(seed, update, epoch, batch, i) for every i < batch, so
// test/kernels/ppo-shuffle.test.ts can compare it bit for bit with ppoPermutation in src/cpu/ppo.ts.
// Prepended: shaders/rng.wgsl, shaders/ppo_shuffle.wgsl.
override workgroup_size: u32 = 64u;

struct ShuffleKey {
  seed: u32,
  update: u32,
  epoch: u32,
  batch: u32,
}

@group(0) @binding(0) var<uniform> key: ShuffleKey;
@group(0) @binding(1) var<storage, read_write> perm: array<u32>;  // [batch]

@compute @workgroup_size(workgroup_size)
fn ppoShuffleCheck(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                   @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * workgroup_size + lid.x;
  if (i >= key.batch) { return; }
  perm[i] = ppo_permute(key.seed, key.update, key.epoch, key.batch, i);
}
