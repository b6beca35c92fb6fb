// MountainCar's view, for MountainCar-v0 and MountainCarContinuous-v0 alike (demo/views/view.wgsl draws
// the cell and the progress bar), after Gymnasium's renderer: the hill y = sin(3x)·0.45 + 0.55 on
// [min_position, max_position], the goal flag at goal_position (0.5, or 0.45 for the continuous env), the
// car (0.12 × 0.06, 0.03 above the ground, on two wheels) tilted with the slope under it. The hill is one
// quad whose fragments test y < hill(x) (a custom shape: smooth at any size); its crest line is another.
// Where the page knows the last action (the continuous env under a random policy the page drives; a
// training run's actions stay in the trainer), an arrow on the car shows the push. World box (ViewSpec,
// demo/env-view.ts): x in [min_position - 0.04, max_position + 0.04], y in [0, 1.22].

const VIEW_QUADS: u32 = 9u;

const MOUNTAIN_VIEW_HILL: u32 = 16u;
const MOUNTAIN_VIEW_CREST: u32 = 17u;
const MOUNTAIN_VIEW_CAR_HALF = vec2<f32>(0.06, 0.03);
const MOUNTAIN_VIEW_CLEARANCE: f32 = 0.03;
const MOUNTAIN_VIEW_WHEEL: f32 = 0.024;
const MOUNTAIN_VIEW_FLAG: f32 = 0.15;

fn mountain_view_height(x: f32) -> f32 {
  return sin(3.0 * x) * 0.45 + 0.55;
}

// The hill's slope angle at x (radians, counter-clockwise).
fn mountain_view_angle(x: f32) -> f32 {
  return atan(1.35 * cos(3.0 * x));
}

fn view_quad(q: u32, env: u32, slot: EnvSlot, detail: bool) -> ViewQuad {
  let x = slot.s.position;
  let ground = vec2<f32>(x, mountain_view_height(x));
  let angle = mountain_view_angle(x);
  let along = vec2<f32>(cos(angle), sin(angle));
  let up = vec2<f32>(-along.y, along.x);
  let flag_base = vec2<f32>(goal_position, mountain_view_height(goal_position));
  let hill_half = vec2<f32>(0.5 * (max_position - min_position), 0.5);
  let hill_center = vec2<f32>(0.5 * (min_position + max_position), 0.5);
  switch q {
    case 0u: { return view_shape(hill_center, vec2<f32>(1.0, 0.0), hill_half, vec3<f32>(0.2, 0.24, 0.2), MOUNTAIN_VIEW_HILL); }
    case 1u: { return view_shape(hill_center, vec2<f32>(1.0, 0.0), hill_half + vec2<f32>(0.0, 0.02), vec3<f32>(0.55, 0.62, 0.5), MOUNTAIN_VIEW_CREST); }
    case 2u: { return view_segment(flag_base, flag_base + vec2<f32>(0.0, MOUNTAIN_VIEW_FLAG), 0.006, vec3<f32>(0.8, 0.8, 0.82)); }
    case 3u: {
      let top = flag_base + vec2<f32>(0.0, MOUNTAIN_VIEW_FLAG);
      return view_arrowhead(top + vec2<f32>(0.075, -0.015), vec2<f32>(1.0, 0.0), 0.075, 0.015, vec3<f32>(0.86, 0.82, 0.25));
    }
    case 4u: {
      let center = ground + up * (MOUNTAIN_VIEW_CLEARANCE + MOUNTAIN_VIEW_CAR_HALF.y);
      let near_goal = smoothstep(goal_position - 0.3, goal_position, x);
      return view_box(center, MOUNTAIN_VIEW_CAR_HALF, angle, mix(vec3<f32>(0.86, 0.88, 0.92), vec3<f32>(0.48, 0.85, 0.56), near_goal));
    }
    case 5u, 6u: {
      let side = select(1.0, -1.0, q == 5u);
      return view_disc(ground + up * MOUNTAIN_VIEW_CLEARANCE + along * (side * 0.5 * MOUNTAIN_VIEW_CAR_HALF.x), MOUNTAIN_VIEW_WHEEL, vec3<f32>(0.45, 0.47, 0.52));
    }
    case 7u, 8u: {
      // The last push (continuous env under a random policy): a shaft and a head along the slope.
      if (view.actions_known == 0u) { return view_none(); }
      let push = clamp(view_last_action(env, 0u), -1.0, 1.0);
      let start = ground + up * (MOUNTAIN_VIEW_CLEARANCE + 2.0 * MOUNTAIN_VIEW_CAR_HALF.y + 0.04);
      let end = start + along * (0.14 * push);
      let color = vec3<f32>(0.95, 0.55, 0.2);
      if (abs(push) < 0.05) { return view_none(); }
      if (q == 7u) { return view_segment(start, end, 0.008, color); }
      return view_arrowhead(end + along * (0.03 * sign(push)), along * sign(push), 0.035, 0.022, color);
    }
    default: { return view_none(); }
  }
}

// The hill: below the curve (MOUNTAIN_VIEW_HILL), or a band along it (MOUNTAIN_VIEW_CREST); distances in
// pixels measured across the curve.
fn view_coverage(shape: u32, f: ViewFragment) -> f32 {
  let slope = 1.35 * cos(3.0 * f.world.x);
  let above = (f.world.y - mountain_view_height(f.world.x)) / sqrt(1.0 + slope * slope) / f.px;
  if (shape == MOUNTAIN_VIEW_HILL) { return view_edge(above); }
  return view_edge(abs(above) - 1.0);
}
