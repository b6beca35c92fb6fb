// Counter-based random numbers shared by every kernel: a pure hash of a 4-word key, so any invocation
// can draw its own number without state and the host can reproduce it bit for bit.
// Key = (seed, stream, index, counter); stream separates purposes (reset lanes, actions, init).
// TypeScript twin (must stay bit-identical, tested): src/rng.ts.

const RNG_STREAM_RESET: u32 = 0x100u;   // + lane 0..3: the four components of a reset state
const RNG_STREAM_ACTION: u32 = 0x200u;  // categorical sampling of actions
const RNG_STREAM_RANDOM_POLICY: u32 = 0x300u; // uniform random actions (env benchmark)
const RNG_STREAM_INIT: u32 = 0x400u;    // + tensor index: parameter initialisation (src/cpu/init.ts)
const RNG_STREAM_EVAL_ACTION: u32 = 0x500u; // actions of evaluation episodes
// + 2d (u1), + 2d + 1 (u2): Box-Muller uniforms of dimension d of a Gaussian policy's action
// (policy_gaussian.wgsl), keyed (seed, stream, env, counter) like RNG_STREAM_ACTION; 0x700..0x707 for D <= 4.
const RNG_STREAM_GAUSSIAN: u32 = 0x700u;

// "lowbias32" integer finalizer (C. Wellons): a bijection on u32 with very low avalanche bias.
fn rng_mix(x_in: u32) -> u32 {
  var x = x_in;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

fn rng_u32(key: vec4<u32>) -> u32 {
  var h = rng_mix(key.x + 0x9e3779b9u);
  h = rng_mix(h ^ (key.y + 0x7f4a7c15u));
  h = rng_mix(h ^ (key.z + 0xf39cc060u));
  return rng_mix(h ^ (key.w + 0x5ced8d35u));
}

// Uniform on [0, 1) with 24 random bits: exact in f32, so the TS twin reproduces it bit for bit.
fn rng_uniform(key: vec4<u32>) -> f32 {
  return f32(rng_u32(key) >> 8u) * (1.0 / 16777216.0);
}
