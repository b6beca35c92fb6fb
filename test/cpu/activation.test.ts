import { describe, expect, it } from 'vitest';
import { activationBackward, reluBackward, reluForward, tanhBackward, tanhForward } from '../../src/cpu/activation.ts';
import { rngUniform } from '../../src/rng.ts';

const fill = (n: number, seed: number, scale = 1) => Float64Array.from({ length: n }, (_, i) => scale * (2 * rngUniform(seed, 0x7e57, i, 0) - 1));

describe('relu', () => {
  it('forward clamps negatives to 0', () => {
    const out = new Float64Array(4).fill(Number.NaN);
    reluForward(out, [-2, 0, 0.5, 3], 4);
    expect(Array.from(out)).toEqual([0, 0, 0.5, 3]);
  });

  it('backward passes the gradient only where the input is > 0 (0 at the kink, as PyTorch)', () => {
    const dx = new Float64Array(4).fill(Number.NaN);
    reluBackward(dx, [1, 2, 3, 4], [-2, 0, 0.5, 3], 4);
    expect(Array.from(dx)).toEqual([0, 0, 3, 4]);
  });

  it('all-negative inputs give a zero gradient through', () => {
    const x = fill(16, 5).map((v) => -Math.abs(v) - 1e-3);
    const dx = new Float64Array(16).fill(Number.NaN);
    reluBackward(dx, fill(16, 6), x, 16);
    expect(dx.every((v) => v === 0)).toBe(true);
  });

  it('activationBackward from the output equals reluBackward from the pre-activation', () => {
    const x = fill(64, 7);
    const y = new Float64Array(64);
    reluForward(y, x, 64);
    const dy = fill(64, 8);
    const fromX = new Float64Array(64), fromY = new Float64Array(64);
    reluBackward(fromX, dy, x, 64);
    activationBackward('relu', fromY, dy, y, 64);
    expect(Array.from(fromY)).toEqual(Array.from(fromX));
  });
});

describe('tanh', () => {
  it('forward matches values known in closed form', () => {
    const out = new Float64Array(3);
    tanhForward(out, [0, Math.log(2), -Math.log(3)], 3);
    // tanh(ln a) = (a² − 1)/(a² + 1)
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(3 / 5, 15);
    expect(out[2]).toBeCloseTo(-8 / 10, 15);
  });

  it('backward from the output: dx = dy·(1 − y²)', () => {
    const dx = new Float64Array(2);
    tanhBackward(dx, [2, -3], [0.6, -0.8], 2);
    expect(dx[0]).toBeCloseTo(2 * 0.64, 15);
    expect(dx[1]).toBeCloseTo(-3 * 0.36, 15);
  });
});

describe.each(['relu', 'tanh'] as const)('%s backward vs central finite differences', (kind) => {
  it('agrees to 1e-7 relative', () => {
    const n = 40;
    // Keep inputs away from ReLU's kink so the finite difference does not straddle it.
    const x = fill(n, 9, 2).map((v) => (Math.abs(v) < 1e-3 ? 0.5 : v));
    const r = fill(n, 10);
    const forward = kind === 'relu' ? reluForward : tanhForward;
    const f = () => {
      const y = new Float64Array(n);
      forward(y, x, n);
      return y.reduce((s, v, i) => s + v * r[i], 0);
    };
    const y = new Float64Array(n);
    forward(y, x, n);
    const dx = new Float64Array(n);
    activationBackward(kind, dx, r, y, n);
    const h = 1e-6;
    for (let i = 0; i < n; i++) {
      const keep = x[i];
      x[i] = keep + h;
      const up = f();
      x[i] = keep - h;
      const down = f();
      x[i] = keep;
      expect(Math.abs((up - down) / (2 * h) - dx[i])).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(dx[i])));
    }
  });
});
