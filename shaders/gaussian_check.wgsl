// Test-only kernel: evaluates every function of policy_gaussian.wgsl for a list of cases, so
// test/kernels/gaussian.test.ts can compare them with src/cpu/gaussian.ts. Prepended: rng.wgsl,
// policy_gaussian.wgsl. Declares the num_actions override that train_params.wgsl declares in the trainer.
override workgroup_size: u32 = 64u;
override num_actions: u32 = 4u;

struct GaussianCase {
  a: vec4<f32>,
  mu: vec4<f32>,
  log_std: vec4<f32>,
  key: vec4<u32>,        // (seed, env, counter, unused)
  upstream: vec4<f32>,   // (d_log_prob, d_entropy, u1, u2): u1, u2 for gaussian_box_muller alone
}

struct GaussianResult {
  eps: vec4<f32>,
  sample: vec4<f32>,
  grad_mu: vec4<f32>,
  grad_log_std: vec4<f32>,
  scalars: vec4<f32>,    // (log_prob, entropy, gaussian_box_muller(u1, u2), 0)
}

@group(0) @binding(0) var<storage, read> cases: array<GaussianCase>;
@group(0) @binding(1) var<storage, read_write> results: array<GaussianResult>;

@compute @workgroup_size(workgroup_size)
fn gaussianCheck(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * workgroup_size + lid.x;
  if (i >= arrayLength(&cases)) { return; }
  let c = cases[i];
  var r = GaussianResult(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  r.eps = gaussian_epsilon(c.key.x, c.key.y, c.key.z);
  r.sample = gaussian_sample(c.mu, c.log_std, c.key.x, c.key.y, c.key.z);
  r.grad_mu = gaussian_grad_mu(c.a, c.mu, c.log_std, c.upstream.x);
  r.grad_log_std = gaussian_grad_log_std(c.a, c.mu, c.log_std, c.upstream.x, c.upstream.y);
  r.scalars = vec4<f32>(gaussian_log_prob(c.a, c.mu, c.log_std), gaussian_entropy(c.log_std),
                        gaussian_box_muller(c.upstream.z, c.upstream.w), 0.0);
  results[i] = r;
}
