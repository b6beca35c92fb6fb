/** Shared CLI plumbing: one-line errors with the right exit code, tables, GPU context creation. */
import { ConfigError } from '../src/config.ts';
import { EnvError } from '../src/envs/registry.ts';
import { NoAdapterError, type GpuContext } from '../src/platform/gpu-context.ts';
import { createNodeGpuContext } from '../src/platform/node.ts';

/** A user mistake (bad flag or value): one line on stderr, exit code 2. */
export class UsageError extends Error {}

export function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`webgpu-rl: ${message.split('\n')[0]}\n`);
  process.exit(error instanceof UsageError || error instanceof RangeError || error instanceof EnvError || error instanceof ConfigError ? 2 : 1);
}

export async function openGpu(): Promise<GpuContext> {
  try {
    return await createNodeGpuContext();
  } catch (error) {
    if (error instanceof NoAdapterError) fail(error);
    throw error;
  }
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e9) return `${(perSecond / 1e9).toFixed(2)} G`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(1);
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`, ...rows.map(line)].join('\n');
}

export function parseIntList(flag: string, text: string): number[] {
  const values = text.split(',').map((part) => {
    const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(part.trim());
    if (!match) throw new UsageError(`--${flag}: "${part}" is not a positive size (e.g. 4096, 64k, 1M)`);
    const scale = { '': 1, k: 1024, K: 1024, m: 1048576, M: 1048576 }[match[2]] ?? 1;
    const value = Math.round(Number(match[1]) * scale);
    if (value < 1) throw new UsageError(`--${flag}: sizes must be at least 1, got ${part}`);
    return value;
  });
  return values;
}
