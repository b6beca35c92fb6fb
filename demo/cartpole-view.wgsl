// Draws CartPoles straight from the trainer's env slots (src/trainer/gpu-trainer.ts, `buffers.envs`):
// one instance per cell, 10 quads of 6 vertices each, no vertex buffers, no readback.
// Geometry follows Gymnasium's CartPole renderer in world units: cart 0.4 × 0.24, pole 2·half_length
// long and 0.08 wide, pivot a quarter of the cart's height above its centre, track at the cart's
// bottom, x limits at ±x_limit.
//
// Bindings:
//   view  View              the canvas, the grid, and (list mode) which env each cell shows
//   envs  [N] EnvSlot       read: x, x_dot, theta, theta_dot, steps this episode, episode, return, pad
//
// Quads, drawn in order (later on top): 0 cell background, 1 track, 2-3 x limits, 4 episode progress
// (steps / time limit), 5-6 theta limits (list mode only), 7 cart, 8 pole, 9 pivot.

struct EnvSlot {
  s: vec4<f32>,
  elapsed: u32,
  episode: u32,
  episode_return: f32,
  pad: u32,
}

struct View {
  canvas_px: vec2<f32>,
  grid: vec2<u32>,        // columns, rows
  picks: vec4<u32>,       // list mode: the env shown in cell i
  list_mode: u32,         // 0: cell i shows env i; 1: cell i shows env picks[i]
  max_steps: f32,
  x_limit: f32,
  theta_limit: f32,
  half_length: f32,
}

@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> envs: array<EnvSlot>;

// The world box each cell shows: x in ±(x_limit + 0.35), y from below the progress bar to above the pole.
const BOX_Y = vec2<f32>(-0.42, 1.22);
const CART_HALF = vec2<f32>(0.2, 0.12);
const PIVOT_Y = 0.06;
const TRACK_Y = -0.12;
const BAR_Y = -0.3;

struct Quad {
  center: vec2<f32>,   // world units (pixels for the background)
  half: vec2<f32>,
  angle: f32,          // radians, counter-clockwise
  color: vec3<f32>,
}

struct VertexOut {
  @builtin(position) position: vec4<f32>,
  @location(0) color: vec3<f32>,
}

fn rotate(v: vec2<f32>, angle: f32) -> vec2<f32> {
  let c = cos(angle);
  let s = sin(angle);
  return vec2<f32>(v.x * c - v.y * s, v.x * s + v.y * c);
}

// A thin quad from the pivot along angle `theta` from upright (positive theta leans towards +x).
fn rod(pivot: vec2<f32>, theta: f32, half_width: f32, color: vec3<f32>) -> Quad {
  let dir = vec2<f32>(sin(theta), cos(theta));
  return Quad(pivot + dir * view.half_length, vec2<f32>(half_width, view.half_length), -theta, color);
}

fn cart_quad(q: u32, slot: EnvSlot) -> Quad {
  let x = slot.s.x;
  let theta = slot.s.z;
  let pivot = vec2<f32>(x, PIVOT_Y);
  let lim = view.x_limit;
  let none = Quad(vec2<f32>(0.0), vec2<f32>(0.0), 0.0, vec3<f32>(0.0));
  switch q {
    case 1u: { return Quad(vec2<f32>(0.0, TRACK_Y), vec2<f32>(lim + 0.25, 0.008), 0.0, vec3<f32>(0.42, 0.45, 0.52)); }
    case 2u: { return Quad(vec2<f32>(-lim, TRACK_Y), vec2<f32>(0.012, 0.07), 0.0, vec3<f32>(0.72, 0.3, 0.3)); }
    case 3u: { return Quad(vec2<f32>(lim, TRACK_Y), vec2<f32>(0.012, 0.07), 0.0, vec3<f32>(0.72, 0.3, 0.3)); }
    case 4u: {
      let progress = clamp(f32(slot.elapsed) / view.max_steps, 0.0, 1.0);
      return Quad(vec2<f32>(-lim + lim * progress, BAR_Y), vec2<f32>(lim * progress, 0.04), 0.0, vec3<f32>(0.22, 0.58, 0.9));
    }
    case 5u, 6u: {
      if (view.list_mode == 0u) { return none; }
      let side = select(1.0, -1.0, q == 5u);
      return rod(pivot, side * view.theta_limit, 0.005, vec3<f32>(0.4, 0.22, 0.24));
    }
    case 7u: {
      let danger = smoothstep(0.6, 1.0, abs(x) / lim);
      return Quad(vec2<f32>(x, 0.0), CART_HALF, 0.0, mix(vec3<f32>(0.86, 0.88, 0.92), vec3<f32>(0.95, 0.55, 0.2), danger));
    }
    case 8u: {
      let danger = smoothstep(0.4, 1.0, abs(theta) / view.theta_limit);
      return rod(pivot, theta, 0.04, mix(vec3<f32>(0.8, 0.6, 0.4), vec3<f32>(0.95, 0.2, 0.2), danger));
    }
    case 9u: { return Quad(pivot, vec2<f32>(0.03, 0.03), -theta, vec3<f32>(0.5, 0.5, 0.8)); }
    default: { return none; }
  }
}

@vertex
fn cartpoleVertex(@builtin(vertex_index) vertex: u32, @builtin(instance_index) cell: u32) -> VertexOut {
  var corners = array<vec2<f32>, 6>(
    vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
    vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0),
  );
  let env = select(cell, view.picks[min(cell, 3u)], view.list_mode == 1u);
  let slot = envs[env];
  let q = vertex / 6u;
  let corner = corners[vertex % 6u];

  let cell_px = view.canvas_px / vec2<f32>(view.grid);
  let col = cell % view.grid.x;
  let row = cell / view.grid.x;
  let cell_center = vec2<f32>(f32(col) + 0.5, f32(view.grid.y - row) - 0.5) * cell_px;   // y up
  let box = vec2<f32>(2.0 * (view.x_limit + 0.35), BOX_Y.y - BOX_Y.x);
  let scale = min(cell_px.x / box.x, cell_px.y / box.y) * 0.94;

  var p: vec2<f32>;
  var color: vec3<f32>;
  if (q == 0u) {
    // The background is sized in pixels so neighbouring cells keep a one-pixel gap.
    p = cell_center + corner * max(cell_px * 0.5 - vec2<f32>(0.5), vec2<f32>(0.0));
    color = vec3<f32>(0.1, 0.12, 0.16);
  } else {
    let quad = cart_quad(q, slot);
    // Thin parts stay at least one pixel wide however small the cell; empty quads stay empty.
    let half_px = select(vec2<f32>(0.0), max(quad.half * scale, vec2<f32>(0.5)), quad.half > vec2<f32>(0.0));
    let box_center = vec2<f32>(0.0, 0.5 * (BOX_Y.x + BOX_Y.y));
    p = cell_center + (quad.center - box_center) * scale + rotate(corner * half_px, quad.angle);
    color = quad.color;
  }
  var out: VertexOut;
  out.position = vec4<f32>(p / view.canvas_px * 2.0 - 1.0, 0.0, 1.0);
  out.color = color;
  return out;
}

@fragment
fn cartpoleFragment(in: VertexOut) -> @location(0) vec4<f32> {
  return vec4<f32>(in.color, 1.0);
}
