// CartPole's view (demo/views/view.wgsl draws the cell and the progress bar): Gymnasium's renderer in world
// units, from the env module's own constants. Cart 0.4 × 0.24 on the track at its bottom, pole
// 2·half_length long and 0.08 wide from a pivot a quarter of the cart's height above its center, positive
// theta leaning towards +x; red ticks at ±x_threshold; in the detail strip, faint lines at ±theta_threshold.
// Cart and pole turn red near their limits. World box (ViewSpec, demo/env-view.ts): x in ±(x_threshold +
// 0.35), y in [-0.2, 2·half_length + 0.22].

const VIEW_QUADS: u32 = 8u;

const CART_HALF = vec2<f32>(0.2, 0.12);
const PIVOT_Y: f32 = 0.06;
const TRACK_Y: f32 = -0.12;

fn cartpole_pole_tip(pivot: vec2<f32>, theta: f32, length: f32) -> vec2<f32> {
  return pivot + length * vec2<f32>(sin(theta), cos(theta));
}

fn view_quad(q: u32, env: u32, slot: EnvSlot, detail: bool) -> ViewQuad {
  let x = slot.s.x;
  let theta = slot.s.theta;
  let pivot = vec2<f32>(x, PIVOT_Y);
  let lim = x_threshold;
  let pole = 2.0 * half_length;
  switch q {
    case 0u: { return view_rect(vec2<f32>(0.0, TRACK_Y), vec2<f32>(lim + 0.25, 0.008), vec3<f32>(0.42, 0.45, 0.52)); }
    case 1u, 2u: {
      let side = select(1.0, -1.0, q == 1u);
      return view_rect(vec2<f32>(side * lim, TRACK_Y), vec2<f32>(0.012, 0.07), vec3<f32>(0.72, 0.3, 0.3));
    }
    case 3u, 4u: {
      if (!detail) { return view_none(); }
      let side = select(1.0, -1.0, q == 3u);
      return view_segment(pivot, cartpole_pole_tip(pivot, side * theta_threshold, pole), 0.005, vec3<f32>(0.4, 0.22, 0.24));
    }
    case 5u: {
      let danger = smoothstep(0.6, 1.0, abs(x) / lim);
      return view_rect(vec2<f32>(x, 0.0), CART_HALF, mix(vec3<f32>(0.86, 0.88, 0.92), vec3<f32>(0.95, 0.55, 0.2), danger));
    }
    case 6u: {
      let danger = smoothstep(0.4, 1.0, abs(theta) / theta_threshold);
      return view_segment(pivot, cartpole_pole_tip(pivot, theta, pole), 0.04, mix(vec3<f32>(0.8, 0.6, 0.4), vec3<f32>(0.95, 0.2, 0.2), danger));
    }
    case 7u: { return view_disc(pivot, 0.035, vec3<f32>(0.5, 0.5, 0.8)); }
    default: { return view_none(); }
  }
}

fn view_coverage(shape: u32, f: ViewFragment) -> f32 {
  return 1.0;
}
