// MountainCar-v0 (Gymnasium's MountainCarEnv) as an env module: the interface is shaders/env_interface.wgsl.
// Dynamics in Gymnasium's exact evaluation order, in f32; constants are `override`s set from the
// descriptor (src/envs/mountain_car.ts, which also holds the f64/f32 CPU reference):
//   velocity += (action - 1)·force + cos(3·position)·(-gravity), clipped to ±max_speed;
//   position += velocity, clipped to [min_position, max_position]; a car at the left wall moving left stops.
// Reward -1 on every step, the terminating one too; terminated when position >= goal_position and
// velocity >= goal_velocity (on the new state). Reset: position U(-0.6, -0.4), velocity 0.

const OBS_SIZE: u32 = 2u;

struct EnvState {
  position: f32,
  velocity: f32,
}

alias EnvAction = u32;   // 0: push left, 1: no push, 2: push right

override min_position: f32 = -1.2;
override max_position: f32 = 0.6;
override max_speed: f32 = 0.07;
override goal_position: f32 = 0.5;
override goal_velocity: f32 = 0.0;
override force: f32 = 0.001;
override gravity: f32 = 0.0025;

fn env_reset(seed: u32, env: u32, episode: u32) -> EnvState {
  // u - 0.5 is exact; the product and the subtraction round once each unless the compiler fuses them
  // (then one rounding: at most one ulp apart; test/envs/mountain_car.test.ts measures which).
  return EnvState((reset_uniform(seed, env, episode, 0u) - 0.5) * 0.2 - 0.5, 0.0);
}

fn env_step(s: EnvState, action: EnvAction) -> EnvStep {
  let push = f32(i32(action) - 1) * force;   // exactly -force, 0 or force
  let velocity = clamp(s.velocity + (push + cos(3.0 * s.position) * (-gravity)), -max_speed, max_speed);
  let position = clamp(s.position + velocity, min_position, max_position);
  let stopped = select(velocity, 0.0, position == min_position && velocity < 0.0);
  let terminated = position >= goal_position && stopped >= goal_velocity;
  return EnvStep(EnvState(position, stopped), -1.0, terminated);
}

fn env_observe(s: EnvState) -> array<f32, OBS_SIZE> {
  return array<f32, OBS_SIZE>(s.position, s.velocity);
}

fn env_random_action(seed: u32, env: u32, step: u32) -> EnvAction {
  return random_discrete(seed, env, step, 3u);
}
