// CartPole-v0/v1 (Gymnasium's CartPoleEnv) as an env module: the interface is shaders/env_interface.wgsl.
// Dynamics in Gymnasium's exact evaluation order, in f32, both integrators; constants are `override`s
// set from the descriptor (src/envs/cartpole.ts, which also holds the f64/f32 CPU reference).
// Reward 1 on every step, the terminating one too; terminated when |x| > x_threshold or
// |theta| > theta_threshold (strict, on the new state); reset U(-0.05, 0.05)^4.

const OBS_SIZE: u32 = 4u;

struct EnvState {
  x: f32,
  x_dot: f32,
  theta: f32,
  theta_dot: f32,
}

alias EnvAction = u32;   // 0: push left, 1: push right

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

fn env_reset(seed: u32, env: u32, episode: u32) -> EnvState {
  // (u - 0.5) is exact and the product rounds once: no fused multiply-add can change the bits.
  return EnvState((reset_uniform(seed, env, episode, 0u) - 0.5) * 0.1, (reset_uniform(seed, env, episode, 1u) - 0.5) * 0.1,
                  (reset_uniform(seed, env, episode, 2u) - 0.5) * 0.1, (reset_uniform(seed, env, episode, 3u) - 0.5) * 0.1);
}

fn env_step(s: EnvState, action: EnvAction) -> EnvStep {
  let force = select(-force_mag, force_mag, action == 1u);
  let cos_theta = cos(s.theta);
  let sin_theta = sin(s.theta);
  let temp = (force + pole_mass_length * (s.theta_dot * s.theta_dot) * sin_theta) / total_mass;
  let theta_acc = (gravity * sin_theta - cos_theta * temp) /
                  (half_length * (4.0 / 3.0 - mass_pole * (cos_theta * cos_theta) / total_mass));
  let x_acc = temp - pole_mass_length * theta_acc * cos_theta / total_mass;
  var next: EnvState;
  if (semi_implicit == 1u) {
    let x_dot = s.x_dot + tau * x_acc;
    let theta_dot = s.theta_dot + tau * theta_acc;
    next = EnvState(s.x + tau * x_dot, x_dot, s.theta + tau * theta_dot, theta_dot);
  } else {
    next = EnvState(s.x + tau * s.x_dot, s.x_dot + tau * x_acc, s.theta + tau * s.theta_dot, s.theta_dot + tau * theta_acc);
  }
  let terminated = next.x < -x_threshold || next.x > x_threshold || next.theta < -theta_threshold || next.theta > theta_threshold;
  return EnvStep(next, 1.0, terminated);
}

fn env_observe(s: EnvState) -> array<f32, OBS_SIZE> {
  return array<f32, OBS_SIZE>(s.x, s.x_dot, s.theta, s.theta_dot);
}

fn env_random_action(seed: u32, env: u32, step: u32) -> EnvAction {
  return random_discrete(seed, env, step, 2u);
}
