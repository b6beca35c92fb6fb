// Pendulum's view (demo/views/view.wgsl draws the cell and the progress bar), after Gymnasium's renderer:
// the rod (rod_length long, round ends) from the pivot at angle θ, θ = 0 straight up and positive
// counter-clockwise, the axle as a dark disc. θ is stored unwrapped; sin and cos take it reduced
// (angle_normalize, the env module's: WGSL's f32 sin/cos are only specified on [-π, π]). Where the page
// knows the last torque (a random policy it drives itself; a training run's actions stay in the trainer)
// an arc around the axle shows it: its length in proportion to |u| / max_torque, in the direction it turns the rod.
// World box (ViewSpec, demo/env-view.ts): x, y in ±1.35.

const VIEW_QUADS: u32 = 5u;

const PENDULUM_VIEW_TORQUE: u32 = 16u;
const PENDULUM_VIEW_ARC_RADIUS: f32 = 0.42;
const PENDULUM_VIEW_ARC_HALF: f32 = 0.035;
const PENDULUM_VIEW_ARC_MAX: f32 = 2.6;   // radians of arc at |u| = max_torque

fn view_quad(q: u32, env: u32, slot: EnvSlot, detail: bool) -> ViewQuad {
  let th = angle_normalize(slot.s.theta);
  let dir = vec2<f32>(-sin(th), cos(th));
  let tip = rod_length * dir;
  let u = clamp(view_last_action(env, 0u), -max_torque, max_torque) / max_torque;
  let upright = smoothstep(0.5, 0.05, abs(th));
  let color = vec3<f32>(0.06, 0.06, 0.08);
  let arc_color = vec3<f32>(0.95, 0.55, 0.2);
  // The arc starts at the rod's angle (φ = th + π/2 from +x) and sweeps by u·ARC_MAX.
  let start = th + 1.5707964;
  let end = start + u * PENDULUM_VIEW_ARC_MAX;
  switch q {
    case 0u: {
      // Upright target: a faint tick straight above the pivot.
      return view_segment(vec2<f32>(0.0, rod_length - 0.05), vec2<f32>(0.0, rod_length + 0.12), 0.01, vec3<f32>(0.4, 0.44, 0.5));
    }
    case 1u: {
      if (view.actions_known == 0u || abs(u) < 0.02) { return view_none(); }
      let r = PENDULUM_VIEW_ARC_RADIUS + PENDULUM_VIEW_ARC_HALF;
      return ViewQuad(vec2<f32>(0.0), vec2<f32>(1.0, 0.0), vec2<f32>(r), arc_color, PENDULUM_VIEW_TORQUE, vec4<f32>(min(start, end), max(start, end), 0.0, 0.0));
    }
    case 2u: {
      if (view.actions_known == 0u || abs(u) < 0.02) { return view_none(); }
      let radial = vec2<f32>(cos(end), sin(end));
      let tangent = sign(u) * vec2<f32>(-radial.y, radial.x);
      return view_arrowhead(PENDULUM_VIEW_ARC_RADIUS * radial + tangent * 0.08, tangent, 0.1, 0.07, arc_color);
    }
    case 3u: { return view_rod(vec2<f32>(0.0), tip, 0.1, mix(vec3<f32>(0.8, 0.3, 0.3), vec3<f32>(0.48, 0.85, 0.56), upright)); }
    case 4u: { return view_disc(vec2<f32>(0.0), 0.05, color); }
    default: { return view_none(); }
  }
}

// The torque arc: a ring around the pivot between the angles data.x and data.y (radians, counter-clockwise from +x).
fn view_coverage(shape: u32, f: ViewFragment) -> f32 {
  let ring = abs(length(f.world) - PENDULUM_VIEW_ARC_RADIUS) - PENDULUM_VIEW_ARC_HALF;
  // The fragment's angle, turned into [data.x, data.x + 2π).
  let turn = 6.2831855;
  let phi = atan2(f.world.y, f.world.x);
  let rel = phi - f.data.x - turn * floor((phi - f.data.x) / turn);
  let inside = rel <= f.data.y - f.data.x;
  return select(0.0, view_edge(ring / f.px), inside);
}
