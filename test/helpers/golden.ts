import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GoldenRow {
  state: number[];
  action: number;
  f64: number[];
  obs32: number[];
  f32a: number[];
  terminated: boolean;
  terminatedF32a: boolean;
  reward: number;
}

/** Gymnasium's own single-step transitions, from ../shared/data/cartpole (see its README). */
export function loadGolden(integrator: 'euler' | 'semi_implicit_euler'): GoldenRow[] {
  const path = fileURLToPath(new URL(`../../../shared/data/cartpole/transitions_${integrator}.csv`, import.meta.url));
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`golden file ${path} has no column ${name}`);
    return i;
  };
  const pick = (cells: string[], names: string[]) => names.map((n) => Number(cells[col(n)]));
  const comps = ['x', 'x_dot', 'theta', 'theta_dot'];
  return lines.slice(1).map((line) => {
    const c = line.split(',');
    return {
      state: pick(c, comps),
      action: Number(c[col('action')]),
      f64: pick(c, comps.map((n) => `n${n}_f64`)),
      obs32: pick(c, comps.map((n) => `n${n}_obs32`)),
      f32a: pick(c, comps.map((n) => `n${n}_f32a`)),
      terminated: c[col('terminated')] === '1',
      terminatedF32a: c[col('terminated_f32a')] === '1',
      reward: Number(c[col('reward')]),
    };
  });
}

/** One row of ../shared/data/classic_control/<id>.csv (see its README): Gymnasium 1.4's own single step. */
export interface ClassicRow {
  /** Internal state before the step, Gymnasium's env.state order. */
  state: number[];
  /** The action: an index (Discrete) or one float (Box, possibly outside the bounds). */
  action: number;
  /** Internal state after the step. */
  next: number[];
  obs: number[];
  reward: number;
  terminated: boolean;
}

export function loadClassicControl(id: 'Acrobot-v1' | 'MountainCar-v0' | 'MountainCarContinuous-v0' | 'Pendulum-v1'): ClassicRow[] {
  const path = fileURLToPath(new URL(`../../../shared/data/classic_control/${id}.csv`, import.meta.url));
  // These files have CRLF line ends.
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const cols = (prefix: RegExp) => header.map((h, i) => [h, i] as const).filter(([h]) => prefix.test(h)).map(([, i]) => i);
  const [s, next, obs] = [cols(/^s\d+$/), cols(/^next_s\d+$/), cols(/^obs\d+$/)];
  const at = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`golden file ${path} has no column ${name}`);
    return i;
  };
  const [action, reward, terminated] = [at('action'), at('reward'), at('terminated')];
  return lines.slice(1).map((line) => {
    const c = line.split(',').map(Number);
    return { state: s.map((i) => c[i]), action: c[action], next: next.map((i) => c[i]), obs: obs.map((i) => c[i]), reward: c[reward], terminated: c[terminated] === 1 };
  });
}
