// The env views' skeleton: draws every env of the grid (or the few the detail strip follows) straight from
// the env slots the trainer steps (src/trainer/gpu-trainer.ts, `buffers.envs`), with no readback. Appended
// last to  <env module> + rng + env_interface + <view module> + this file  (demo/env-view.ts), so a view
// sees EnvSlot / EnvState, env_observe and the env's `override` constants, set from its descriptor as in
// every kernel. A view module (demo/views/<name>.wgsl) declares:
//   const VIEW_QUADS: u32                                     quads it draws per cell (ViewSpec.quads agrees)
//   fn view_quad(q: u32, env: u32, slot: EnvSlot, detail: bool) -> ViewQuad    quad q < VIEW_QUADS, world units
//   fn view_coverage(shape: u32, f: ViewFragment) -> f32      coverage of its own shapes (>= VIEW_CUSTOM)
// `detail` is set in the detail strip (large cells), where a view may draw more.
//
// Bindings:
//   view          View             the canvas, the grid, the world box of a cell, list mode's picks
//   view_envs     [N] EnvSlot      read: each env's state and counters
//   view_params   [K] vec4         read: the view's own data (the generic view: each observation's scale)
//   view_actions  [N × D] f32      read: each env's last action, where view.actions_known is 1
//
// One instance per cell, (2 + VIEW_QUADS) × 6 vertices: quad 0 is the cell's background, 1 the episode's
// progress (steps taken / the time limit, under the world box), then the view's quads in order (later on
// top). Shapes are drawn in the quad's own pixel frame: rectangles as they are (the 4× MSAA smooths their
// edges), discs, capsules and triangles by a signed distance in pixels, blended by coverage.

struct View {
  canvas_px: vec2<f32>,
  grid: vec2<u32>,         // columns, rows
  picks: vec4<u32>,        // list mode: the env shown in cell i
  world: vec4<f32>,        // the world box a cell shows: x0, y0, x1, y1 (the progress bar goes below it)
  list_mode: u32,          // 0: cell i shows env i; 1: cell i shows env picks[i]
  actions_known: u32,      // 1: view_actions holds every env's last action
  action_dim: u32,         // D: floats per action in view_actions
  _pad: u32,
}

@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> view_envs: array<EnvSlot>;
@group(0) @binding(2) var<storage, read> view_params: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> view_actions: array<f32>;

const VIEW_RECT: u32 = 0u;
const VIEW_DISC: u32 = 1u;       // the disc inscribed in the quad
const VIEW_CAPSULE: u32 = 2u;    // a rectangle with round ends along its axis
const VIEW_TRIANGLE: u32 = 3u;   // base across the quad's back end, tip at its front end (along the axis)
const VIEW_CUSTOM: u32 = 16u;    // and above: the view module's view_coverage

// The progress bar's strip under the world box, as fractions of the box's height.
const VIEW_BAR_STRIP: f32 = 0.12;
const VIEW_BAR_Y: f32 = 0.065;
const VIEW_BAR_HALF: f32 = 0.022;

struct ViewQuad {
  center: vec2<f32>,   // world units
  axis: vec2<f32>,     // unit vector along the quad's length (its local x)
  half: vec2<f32>,     // half extents along the axis and across it, world units
  color: vec3<f32>,
  shape: u32,
  data: vec4<f32>,     // handed to view_coverage for custom shapes
}

// What a custom shape's coverage is computed from, per fragment.
struct ViewFragment {
  world: vec2<f32>,    // world units
  local: vec2<f32>,    // pixels from the quad's center, along its axis and across
  half_px: vec2<f32>,  // the quad's half extents in pixels
  px: f32,             // world units per pixel
  data: vec4<f32>,     // ViewQuad.data
}

fn view_none() -> ViewQuad {
  return ViewQuad(vec2<f32>(0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0), vec3<f32>(0.0), VIEW_RECT, vec4<f32>(0.0));
}

fn view_shape(center: vec2<f32>, axis: vec2<f32>, half: vec2<f32>, color: vec3<f32>, shape: u32) -> ViewQuad {
  return ViewQuad(center, axis, half, color, shape, vec4<f32>(0.0));
}

// An axis-aligned rectangle.
fn view_rect(center: vec2<f32>, half: vec2<f32>, color: vec3<f32>) -> ViewQuad {
  return view_shape(center, vec2<f32>(1.0, 0.0), half, color, VIEW_RECT);
}

// A rectangle turned counter-clockwise by `angle` (radians).
fn view_box(center: vec2<f32>, half: vec2<f32>, angle: f32, color: vec3<f32>) -> ViewQuad {
  return view_shape(center, vec2<f32>(cos(angle), sin(angle)), half, color, VIEW_RECT);
}

fn view_disc(center: vec2<f32>, radius: f32, color: vec3<f32>) -> ViewQuad {
  return view_shape(center, vec2<f32>(1.0, 0.0), vec2<f32>(radius), color, VIEW_DISC);
}

fn view_axis(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let d = b - a;
  return select(vec2<f32>(1.0, 0.0), d / length(d), dot(d, d) > 0.0);
}

// A line from a to b, `half_width` to each side, square ends.
fn view_segment(a: vec2<f32>, b: vec2<f32>, half_width: f32, color: vec3<f32>) -> ViewQuad {
  return view_shape(0.5 * (a + b), view_axis(a, b), vec2<f32>(0.5 * length(b - a), half_width), color, VIEW_RECT);
}

// A rod from a to b, `half_width` to each side, round ends centered on a and b.
fn view_rod(a: vec2<f32>, b: vec2<f32>, half_width: f32, color: vec3<f32>) -> ViewQuad {
  return view_shape(0.5 * (a + b), view_axis(a, b), vec2<f32>(0.5 * length(b - a) + half_width, half_width), color, VIEW_CAPSULE);
}

// A triangle with its tip at `tip`, pointing along `axis`, `length` long and `half_width` to each side at its base.
fn view_arrowhead(tip: vec2<f32>, axis: vec2<f32>, length: f32, half_width: f32, color: vec3<f32>) -> ViewQuad {
  return view_shape(tip - axis * (0.5 * length), axis, vec2<f32>(0.5 * length, half_width), color, VIEW_TRIANGLE);
}

// Env `env`'s last action, component k (0 where the page does not know it: check view.actions_known).
fn view_last_action(env: u32, k: u32) -> f32 {
  if (view.actions_known == 0u) { return 0.0; }
  return view_actions[env * view.action_dim + k];
}

struct ViewVertex {
  @builtin(position) position: vec4<f32>,
  @location(0) color: vec3<f32>,
  @location(1) @interpolate(flat) shape: u32,
  @location(2) world: vec2<f32>,
  @location(3) local: vec2<f32>,
  @location(4) @interpolate(flat) half_px: vec2<f32>,
  @location(5) @interpolate(flat) px: f32,
  @location(6) @interpolate(flat) data: vec4<f32>,
}

// The skeleton's own quads: the progress bar under the world box (quad 1).
fn view_progress(slot: EnvSlot) -> ViewQuad {
  let w = view.world;
  let height = w.w - w.y;
  let progress = clamp(f32(slot.c.elapsed) / f32(max_episode_steps), 0.0, 1.0);
  let half_x = 0.5 * (w.z - w.x) * progress;
  return view_rect(vec2<f32>(w.x + half_x, w.y - VIEW_BAR_Y * height), vec2<f32>(half_x, VIEW_BAR_HALF * height), vec3<f32>(0.22, 0.58, 0.9));
}

@vertex
fn viewVertex(@builtin(vertex_index) vertex: u32, @builtin(instance_index) cell: u32) -> ViewVertex {
  var corners = array<vec2<f32>, 6>(
    vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
    vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0),
  );
  let env = select(cell, view.picks[min(cell, 3u)], view.list_mode == 1u);
  let slot = view_envs[env];
  let q = vertex / 6u;
  let corner = corners[vertex % 6u];

  let cell_px = view.canvas_px / vec2<f32>(view.grid);
  let col = cell % view.grid.x;
  let row = cell / view.grid.x;
  let cell_center = vec2<f32>(f32(col) + 0.5, f32(view.grid.y - row) - 0.5) * cell_px;   // y up
  // The world box and the progress strip under it, centered in the cell and as large as fits.
  let w = view.world;
  let bottom = w.y - VIEW_BAR_STRIP * (w.w - w.y);
  let box = vec2<f32>(w.z - w.x, w.w - bottom);
  let box_center = 0.5 * vec2<f32>(w.x + w.z, bottom + w.w);
  let scale = min(cell_px.x / box.x, cell_px.y / box.y) * 0.94;

  var out: ViewVertex;
  var p: vec2<f32>;
  if (q == 0u) {
    // The background is sized in pixels so neighbouring cells keep a one-pixel gap.
    let half_px = max(cell_px * 0.5 - vec2<f32>(0.5), vec2<f32>(0.0));
    p = cell_center + corner * half_px;
    out.color = vec3<f32>(0.1, 0.12, 0.16);
    out.shape = VIEW_RECT;
    out.local = corner * half_px;
    out.half_px = half_px;
    out.data = vec4<f32>(0.0);
  } else {
    var quad = view_none();
    if (q == 1u) { quad = view_progress(slot); } else { quad = view_quad(q - 2u, env, slot, view.list_mode == 1u); }
    // Thin parts stay at least one pixel wide however small the cell; empty quads stay empty.
    let half_px = select(vec2<f32>(0.0), max(quad.half * scale, vec2<f32>(0.5)), quad.half > vec2<f32>(0.0));
    let local = corner * half_px;
    let across = vec2<f32>(-quad.axis.y, quad.axis.x);
    p = cell_center + (quad.center - box_center) * scale + local.x * quad.axis + local.y * across;
    out.color = quad.color;
    out.shape = quad.shape;
    out.local = local;
    out.half_px = half_px;
    out.data = quad.data;
  }
  out.position = vec4<f32>(p / view.canvas_px * 2.0 - 1.0, 0.0, 1.0);
  out.world = box_center + (p - cell_center) / scale;
  out.px = 1.0 / scale;
  return out;
}

// Coverage from a signed distance in pixels (negative inside): a one-pixel ramp at the edge.
fn view_edge(distance_px: f32) -> f32 {
  return clamp(0.5 - distance_px, 0.0, 1.0);
}

@fragment
fn viewFragment(in: ViewVertex) -> @location(0) vec4<f32> {
  let l = in.local;
  let h = in.half_px;
  var coverage = 1.0;
  switch in.shape {
    case VIEW_RECT: { coverage = 1.0; }
    case VIEW_DISC: { coverage = view_edge(length(l) - min(h.x, h.y)); }
    case VIEW_CAPSULE: { coverage = view_edge(length(vec2<f32>(max(abs(l.x) - (h.x - h.y), 0.0), l.y)) - h.y); }
    case VIEW_TRIANGLE: {
      // Edges: the base at x = -h.x, and the two sides from the base's ends to the tip (h.x, 0).
      let slope = h.y / (2.0 * h.x);
      let side = (abs(l.y) - slope * (h.x - l.x)) / sqrt(1.0 + slope * slope);
      coverage = view_edge(max(side, -h.x - l.x));
    }
    default: { coverage = view_coverage(in.shape, ViewFragment(in.world, l, h, in.px, in.data)); }
  }
  if (coverage <= 0.0) { discard; }
  return vec4<f32>(in.color, coverage);
}
