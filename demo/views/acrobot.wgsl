// Acrobot's view (demo/views/view.wgsl draws the cell and the progress bar), after Gymnasium's renderer:
// two links hanging from the pivot, the first link_length_1 long and the second 1 (Gymnasium's
// LINK_LENGTH_2, which the dynamics never use), θ1 measured from straight down and θ2 relative to the first
// link, joints drawn as discs; the target line at height 1 above the pivot: the episode ends when the tip
// rises above it (-cos θ1 - cos(θ1 + θ2) > 1). The tip warms from blue to yellow as it nears the line.
// World box (ViewSpec, demo/env-view.ts): x, y in ±2.2, as Gymnasium's.

const VIEW_QUADS: u32 = 6u;

const ACROBOT_VIEW_LINK_2: f32 = 1.0;
const ACROBOT_VIEW_BOUND: f32 = 2.2;

fn view_quad(q: u32, env: u32, slot: EnvSlot, detail: bool) -> ViewQuad {
  let t1 = slot.s.theta1;
  let t12 = slot.s.theta1 + slot.s.theta2;
  let pivot = vec2<f32>(0.0);
  let elbow = link_length_1 * vec2<f32>(sin(t1), -cos(t1));
  let tip = elbow + ACROBOT_VIEW_LINK_2 * vec2<f32>(sin(t12), -cos(t12));
  let link = vec3<f32>(0.0, 0.72, 0.76);
  let joint = vec3<f32>(0.86, 0.82, 0.25);
  switch q {
    case 0u: { return view_segment(vec2<f32>(-ACROBOT_VIEW_BOUND, 1.0), vec2<f32>(ACROBOT_VIEW_BOUND, 1.0), 0.015, vec3<f32>(0.55, 0.58, 0.64)); }
    case 1u: { return view_rod(pivot, elbow, 0.07, link); }
    case 2u: { return view_rod(elbow, tip, 0.07, link); }
    case 3u: { return view_disc(pivot, 0.1, joint); }
    case 4u: { return view_disc(elbow, 0.1, joint); }
    case 5u: {
      // Height of the tip, -2 (hanging) .. 1 (the line): the marker warms as it climbs.
      let climb = smoothstep(-1.0, 1.0, tip.y);
      return view_disc(tip, 0.08, mix(vec3<f32>(0.35, 0.45, 0.9), vec3<f32>(1.0, 0.85, 0.2), climb));
    }
    default: { return view_none(); }
  }
}

fn view_coverage(shape: u32, f: ViewFragment) -> f32 {
  return 1.0;
}
