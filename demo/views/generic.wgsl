// The view of an env that has none of its own (a user's module): its observation (env_observe) as OBS_SIZE
// bars rising or falling from a middle line, each scaled to the descriptor's bounds: (o - center) / half,
// clipped to ±1 (and drawn red when clipped), where view_params[k] = (center, half, 0, 0) comes from
// observationLow/High (demo/env-view.ts; a fixed half of 5 around 0 where a bound is infinite).
// World box (ViewSpec): x in [0, OBS_SIZE] (one unit a bar), y in [-1.1, 1.1].

const VIEW_QUADS: u32 = 1u + 2u * OBS_SIZE;

fn view_quad(q: u32, env: u32, slot: EnvSlot, detail: bool) -> ViewQuad {
  if (q == 0u) {
    return view_rect(vec2<f32>(0.5 * f32(OBS_SIZE), 0.0), vec2<f32>(0.5 * f32(OBS_SIZE), 0.006), vec3<f32>(0.42, 0.45, 0.52));
  }
  let k = (q - 1u) % OBS_SIZE;
  let x = f32(k) + 0.5;
  if (q <= OBS_SIZE) {
    return view_rect(vec2<f32>(x, 0.0), vec2<f32>(0.36, 1.0), vec3<f32>(0.13, 0.15, 0.2));
  }
  var o = env_observe(slot.s);
  let scale = view_params[k];
  let v = (o[k] - scale.x) / scale.y;
  let bar = clamp(v, -1.0, 1.0);
  var color = select(vec3<f32>(0.95, 0.6, 0.25), vec3<f32>(0.36, 0.56, 0.94), bar >= 0.0);
  if (abs(v) > 1.0) { color = vec3<f32>(0.95, 0.3, 0.3); }
  return view_rect(vec2<f32>(x, 0.5 * bar), vec2<f32>(0.3, 0.5 * abs(bar)), color);
}

fn view_coverage(shape: u32, f: ViewFragment) -> f32 {
  return 1.0;
}
