// Test-only kernel: draws rng_u32 and rng_uniform for a list of keys, so test/kernels/rng.test.ts can
// compare them bit for bit with src/rng.ts. Prepended: shaders/rng.wgsl.
override workgroup_size: u32 = 64u;

@group(0) @binding(0) var<storage, read> keys: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> draws: array<vec2<u32>>;  // (rng_u32, bits of rng_uniform)

@compute @workgroup_size(workgroup_size)
fn rngCheck(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * workgroup_size + lid.x;
  if (i >= arrayLength(&keys)) { return; }
  draws[i] = vec2<u32>(rng_u32(keys[i]), bitcast<u32>(rng_uniform(keys[i])));
}
