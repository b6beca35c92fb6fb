// CartPole dynamics shared by every kernel that steps envs (shaders/cartpole.wgsl, the trainer's rollout):
// Gymnasium's CartPoleEnv.step in its exact evaluation order, in f32, constants as `override`s set from
// src/env/cartpole-params.ts. Pure functions; EpisodeStats is the layout of the includers' stats buffers. Prepended: shaders/rng.wgsl.
// CPU reference: src/cpu/cartpole.ts.

override gravity: f32 = 9.8;
override mass_pole: f32 = 0.1;
override total_mass: f32 = 1.1;
override pole_mass_length: f32 = 0.05;
override half_length: f32 = 0.5;
override force_mag: f32 = 10.0;
override tau: f32 = 0.02;
override semi_implicit: u32 = 0u;
override theta_threshold: f32 = 0.20943951023931953;
override x_threshold: f32 = 2.4;
override max_episode_steps: u32 = 500u;

struct EnvCounters {
  elapsed: u32,
  episode: u32,
  episode_return: f32,
  _pad: u32,
}

// Returns the new state; `terminated` is judged on it with Gymnasium's strict comparisons.
fn cartpole_dynamics(s: vec4<f32>, action: u32) -> vec4<f32> {
  let force = select(-force_mag, force_mag, action == 1u);
  let cos_theta = cos(s.z);
  let sin_theta = sin(s.z);
  let temp = (force + pole_mass_length * (s.w * s.w) * sin_theta) / total_mass;
  let theta_acc = (gravity * sin_theta - cos_theta * temp) /
                  (half_length * (4.0 / 3.0 - mass_pole * (cos_theta * cos_theta) / total_mass));
  let x_acc = temp - pole_mass_length * theta_acc * cos_theta / total_mass;
  if (semi_implicit == 1u) {
    let x_dot = s.y + tau * x_acc;
    let theta_dot = s.w + tau * theta_acc;
    return vec4<f32>(s.x + tau * x_dot, x_dot, s.z + tau * theta_dot, theta_dot);
  }
  return vec4<f32>(s.x + tau * s.y, s.y + tau * x_acc, s.z + tau * s.w, s.w + tau * theta_acc);
}

fn is_terminal(s: vec4<f32>) -> bool {
  return s.x < -x_threshold || s.x > x_threshold || s.z < -theta_threshold || s.z > theta_threshold;
}

fn reset_state(seed: u32, env: u32, episode: u32) -> vec4<f32> {
  var s: vec4<f32>;
  for (var lane = 0u; lane < 4u; lane++) {
    // (u - 0.5) is exact and the product rounds once: no fused multiply-add can change the bits.
    s[lane] = (rng_uniform(vec4<u32>(seed, RNG_STREAM_RESET + lane, env, episode)) - 0.5) * 0.1;
  }
  return s;
}


// One env step: new state in *s, counters advanced. Returns bit 0 terminated, bit 1 truncated;
// the caller resets (same-step autoreset) and records the episode.
fn step_env(s: ptr<function, vec4<f32>>, c: ptr<function, EnvCounters>, action: u32) -> u32 {
  *s = cartpole_dynamics(*s, action);
  (*c).elapsed += 1u;
  (*c).episode_return += 1.0;
  let terminated = is_terminal(*s);
  let truncated = (*c).elapsed >= max_episode_steps;
  return select(0u, 1u, terminated) | select(0u, 2u, truncated);
}

const STATS_RING: u32 = 256u;

struct EpisodeStats {
  finished: atomic<u32>,          // episodes finished since the host last cleared this buffer
  length_sum: atomic<u32>,
  _pad0: u32,
  _pad1: u32,
  // Returns of finished episodes, slot = finish order mod STATS_RING. When more than STATS_RING
  // finish between two reads the ring keeps an arbitrary subset of them.
  recent_returns: array<f32, STATS_RING>,
}
