// Diagonal Gaussian policy head (continuous actions, Box(D), D = num_actions <= 4): functions only, no
// bindings, nothing written or accumulated here. Prepended: rng.wgsl (RNG_STREAM_GAUSSIAN), then
// train_params.wgsl or any module declaring `override num_actions: u32`. CPU reference: src/cpu/gaussian.ts.
//
// A row's mean mu, its action a and the parameter log_std (log sigma, state-independent, initialised to 0)
// are vec4s whose lanes >= num_actions are unused: those lanes are never read into a result (select, not
// a multiply, so NaN or Inf there cannot leak) and come back 0.
//   z_d      = (a_d - mu_d) / sigma_d,  sigma_d = exp(log_std_d)
//   log pi   = sum_d (-z_d^2 / 2 - log_std_d - log(2 pi) / 2)
//   H        = sum_d (log_std_d + (1 + log(2 pi)) / 2)
// Backward, given the upstream d_log_prob (and d_entropy) of the row:
//   dmu_d      = d_log_prob (a_d - mu_d) / sigma_d^2
//   dlog_std_d = d_log_prob (z_d^2 - 1) + d_entropy     (the caller sums it over the rows)
// Sampling: a = mu + sigma eps, eps_d = sqrt(-2 ln(1 - u1_d)) cos(2 pi u2_d) (Box-Muller), with
//   u1_d = rng_uniform(seed, RNG_STREAM_GAUSSIAN + 2d, env, counter), u2_d = … + 2d + 1 …;
// 1 - u1 in [2^-24, 1] is exact in f32 (never log 0, |eps| <= 5.77). The cosine is evaluated as
// -cos(pi (2 u2 - 1)): the same value, with the argument in [-pi, pi), where WGSL bounds cos's error
// (2 u2 - 1 is exact). The sample is stored unclipped; the env sees it clipped to the Box.

const GAUSSIAN_HALF_LOG_2PI: f32 = 0.918938533204672742;
const GAUSSIAN_PI: f32 = 3.14159265358979323846;

// true in the lanes that hold an action dimension: an override expression, folded at pipeline creation.
fn gaussian_live() -> vec4<bool> {
  return vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(num_actions);
}

fn gaussian_sum_live(v: vec4<f32>) -> f32 {
  let x = select(vec4<f32>(0.0), v, gaussian_live());
  return (x.x + x.y) + (x.z + x.w);
}

fn gaussian_box_muller(u1: f32, u2: f32) -> f32 {
  return -sqrt(-2.0 * log(1.0 - u1)) * cos(GAUSSIAN_PI * (2.0 * u2 - 1.0));
}

// eps ~ N(0, I) in the live lanes (0 elsewhere; their uniforms are not drawn).
fn gaussian_epsilon(seed: u32, env: u32, counter: u32) -> vec4<f32> {
  var eps = vec4<f32>(0.0);
  for (var d = 0u; d < min(num_actions, 4u); d++) {
    let u1 = rng_uniform(vec4<u32>(seed, RNG_STREAM_GAUSSIAN + 2u * d, env, counter));
    let u2 = rng_uniform(vec4<u32>(seed, RNG_STREAM_GAUSSIAN + 2u * d + 1u, env, counter));
    eps[d] = gaussian_box_muller(u1, u2);
  }
  return eps;
}

// The unclipped action mu + sigma eps of (seed, env, counter); lanes >= num_actions are 0.
fn gaussian_sample(mu: vec4<f32>, log_std: vec4<f32>, seed: u32, env: u32, counter: u32) -> vec4<f32> {
  let a = mu + exp(log_std) * gaussian_epsilon(seed, env, counter);
  return select(vec4<f32>(0.0), a, gaussian_live());
}

fn gaussian_log_prob(a: vec4<f32>, mu: vec4<f32>, log_std: vec4<f32>) -> f32 {
  let z = (a - mu) * exp(-log_std);
  return gaussian_sum_live(-0.5 * z * z - log_std - GAUSSIAN_HALF_LOG_2PI);
}

fn gaussian_entropy(log_std: vec4<f32>) -> f32 {
  return gaussian_sum_live(log_std + (0.5 + GAUSSIAN_HALF_LOG_2PI));
}

// d_log_prob * d log pi / d mu, per lane (0 in unused lanes).
fn gaussian_grad_mu(a: vec4<f32>, mu: vec4<f32>, log_std: vec4<f32>, d_log_prob: f32) -> vec4<f32> {
  let g = d_log_prob * (a - mu) * exp(-2.0 * log_std);
  return select(vec4<f32>(0.0), g, gaussian_live());
}

// This row's share of dLoss/dlog_std: d_log_prob (z^2 - 1) + d_entropy per lane (0 in unused lanes).
fn gaussian_grad_log_std(a: vec4<f32>, mu: vec4<f32>, log_std: vec4<f32>, d_log_prob: f32, d_entropy: f32) -> vec4<f32> {
  let z = (a - mu) * exp(-log_std);
  return select(vec4<f32>(0.0), d_log_prob * (z * z - 1.0) + d_entropy, gaussian_live());
}
