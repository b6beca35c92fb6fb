/* webgpu-rl env
{
  "id": "Catch-v0",
  "summary": "A ball falls down a 5 x 10 grid; move the paddle on the bottom row under it (+1 caught, -1 missed)",
  "observationSize": 3,
  "observationLow": [-1, -1, -1],
  "observationHigh": [1, 1, 1],
  "actionSpace": { "type": "Discrete", "n": 3 },
  "stateNames": ["ball_x", "ball_y", "paddle_x"],
  "maxEpisodeSteps": 100,
  "rewardThreshold": 0.8,
  "constants": { "columns": 5, "rows": 10 }
}
*/
// Catch, bsuite's simplest credit-assignment test, as an env module: the interface is shaders/env_interface.wgsl
// (walked through in README.md beside this file). A ball starts in a random column of the top row and falls
// one row per step; the paddle starts in the middle of the bottom row and moves left, stays or moves right.
// When the ball reaches the bottom row the episode terminates with reward +1 if the paddle is under it and
// -1 otherwise; every other step pays 0. An episode takes rows - 1 steps: a uniform random policy scores
// about -0.6, a perfect one +1. Positions are whole numbers held in f32 (exact), so the rules have no rounding.

const OBS_SIZE: u32 = 3u;

struct EnvState {
  ball_x: f32,     // column of the ball, 0 .. columns - 1
  ball_y: f32,     // row of the ball, 0 (top) .. rows - 1 (the paddle's row)
  paddle_x: f32,   // column of the paddle
}

alias EnvAction = u32;   // 0: left, 1: stay, 2: right

// The grid, set by name from the descriptor's "constants" (maxEpisodeSteps must stay above rows - 1).
override columns: f32 = 5.0;
override rows: f32 = 10.0;

fn env_reset(seed: u32, env: u32, episode: u32) -> EnvState {
  // reset_uniform lane 0: the same draw as rngUniform(seed, RNG_STREAM_RESET + 0, env, episode) in src/rng.ts.
  let column = min(floor(reset_uniform(seed, env, episode, 0u) * columns), columns - 1.0);
  return EnvState(column, 0.0, floor(columns / 2.0));
}

fn env_step(s: EnvState, action: EnvAction) -> EnvStep {
  let paddle_x = clamp(s.paddle_x + f32(action) - 1.0, 0.0, columns - 1.0);
  let ball_y = s.ball_y + 1.0;
  let landed = ball_y >= rows - 1.0;
  let reward = select(0.0, select(-1.0, 1.0, paddle_x == s.ball_x), landed);
  return EnvStep(EnvState(s.ball_x, ball_y, paddle_x), reward, landed);
}

// Each coordinate scaled to [-1, 1].
fn env_observe(s: EnvState) -> array<f32, OBS_SIZE> {
  let x_scale = 2.0 / (columns - 1.0);
  return array<f32, OBS_SIZE>(s.ball_x * x_scale - 1.0, s.ball_y * (2.0 / (rows - 1.0)) - 1.0, s.paddle_x * x_scale - 1.0);
}

fn env_random_action(seed: u32, env: u32, step: u32) -> EnvAction {
  return random_discrete(seed, env, step, 3u);
}
