/**
 * A sweep folder's shared outputs, rebuilt from its agents' result rows: results.csv, results.jsonl,
 * summary.md and the plots. The same code runs at the end of a sweep, of a shard, and in
 * `webgpu-rl sweep merge DIR…`, which is why a merged sweep writes a one-machine run's bytes.
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SWEEP_FORMAT, type SweepSpec } from '../src/sweep.ts';
import type { Shard } from '../src/sweep-shard.ts';
import { rankConfigurations, resultsCsv, resultsJsonl, rowFromFlat, summaryMarkdown, type SweepRow } from '../src/sweep-report.ts';
import { writeFileAtomic } from './files.ts';
import { writeSweepPlots } from './sweep-plots.ts';
import { UsageError } from './util.ts';

/** sweep.json: what a folder holds, for --resume and merge. */
export interface SweepMeta {
  format: typeof SWEEP_FORMAT;
  hash: string;
  /** null: the whole sweep (one machine, or merged). */
  shard: Shard | null;
  /** Swept fields, in the spec's order; those plotted on a log axis. */
  fields: string[];
  logFields: string[];
  /** What every agent shares, for summary.md. */
  description: string;
  configurations: number;
  groups: number;
  /** Every agent's id in the canonical order, and this folder's. */
  allAgents: string[];
  agents: string[];
  spec: SweepSpec;
}

export function readMeta(dir: string): SweepMeta {
  const path = join(dir, 'sweep.json');
  let meta: SweepMeta;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `${dir} is not a sweep folder (no sweep.json)` : `${path}: ${code ?? 'not valid JSON'}`);
  }
  if (meta?.format !== SWEEP_FORMAT) throw new UsageError(`${path}: format "${String(meta?.format)}", expected "${SWEEP_FORMAT}"`);
  return meta;
}

export function agentDone(dir: string, id: string): boolean {
  return existsSync(join(dir, 'agents', id, 'result.json'));
}

function readRow(dir: string, id: string, fields: string[]): SweepRow {
  return rowFromFlat(JSON.parse(readFileSync(join(dir, 'agents', id, 'result.json'), 'utf8')), fields);
}

export interface SweepSummary {
  agents: number;
  configurations: number;
  groups: number;
  solved: number;
  best: { configuration: string; values: Record<string, unknown>; medianFinalMeanReturn100: number; solved: string; medianStepsToTarget: number | null } | null;
}

/** Writes results, summary and plots from the rows of the folder's agents (every one must be finished). */
export async function finishSweep(dir: string, meta: SweepMeta, plots: boolean): Promise<SweepSummary> {
  const rows = meta.agents.map((id) => readRow(dir, id, meta.fields));
  writeFileAtomic(join(dir, 'results.csv'), resultsCsv(rows, meta.fields));
  writeFileAtomic(join(dir, 'results.jsonl'), resultsJsonl(rows));
  writeFileAtomic(join(dir, 'summary.md'), summaryMarkdown(rows, meta.fields, { hash: meta.hash, base: meta.description }));
  if (plots) await writeSweepPlots(dir, rows, meta.fields, meta.logFields);
  const best = rankConfigurations(rows)[0];
  return {
    agents: rows.length,
    configurations: new Set(rows.map((r) => r.configuration)).size,
    groups: meta.groups,
    solved: rows.filter((r) => r.solved).length,
    best: best
      ? { configuration: best.name, values: best.values, medianFinalMeanReturn100: best.medianFinalMeanReturn100, solved: `${best.solved}/${best.seeds}`, medianStepsToTarget: best.medianStepsToTarget }
      : null,
  };
}

export const MERGE_USAGE = `usage: webgpu-rl sweep merge DIR… [--out DIR] [--json] [--no-plots]
  DIR…         the shard folders of one sweep (every shard K/N once, each finished)
  --out DIR    the merged sweep folder (default: merged/ beside the first DIR)
  --json       print one JSON summary as the last stdout line
  --no-plots   skip the SVG/PNG plots
`;

/** `sweep merge DIR…`: checks the shards belong together and are complete, then writes a whole sweep's folder. */
export async function mergeCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(MERGE_USAGE);
    return;
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { out: { type: 'string' }, json: { type: 'boolean' }, 'no-plots': { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see webgpu-rl sweep merge --help)`);
  }
  const start = performance.now();
  const dirs = parsed.positionals.map((d) => resolve(d));
  if (dirs.length === 0) throw new UsageError('sweep merge needs the shard folders: webgpu-rl sweep merge DIR… [--out DIR]');
  const metas = dirs.map(readMeta);
  const first = metas[0];
  const count = first.shard?.count ?? 1;
  const byIndex = new Map<number, string>();
  metas.forEach((meta, i) => {
    if (meta.hash !== first.hash) throw new UsageError(`${dirs[i]} is a shard of another sweep (hash ${meta.hash}; ${dirs[0]} has ${first.hash})`);
    const shard = meta.shard ?? { index: 0, count: 1 };
    if (shard.count !== count) throw new UsageError(`${dirs[i]} is shard ${shard.index}/${shard.count}; ${dirs[0]} is one of ${count} shards`);
    const twice = byIndex.get(shard.index);
    if (twice) throw new UsageError(`shard ${shard.index}/${count} is given twice: ${twice} and ${dirs[i]}`);
    byIndex.set(shard.index, dirs[i]);
  });
  const missing = Array.from({ length: count }, (_, k) => k).filter((k) => !byIndex.has(k));
  if (missing.length > 0) throw new UsageError(`shard ${missing[0]}/${count} is missing (given: ${[...byIndex.keys()].sort((a, b) => a - b).map((k) => `${k}/${count}`).join(', ')})`);
  metas.forEach((meta, i) => {
    const unfinished = meta.agents.filter((id) => !agentDone(dirs[i], id));
    if (unfinished.length > 0) {
      const shard = meta.shard ?? { index: 0, count: 1 };
      throw new UsageError(`${dirs[i]} (shard ${shard.index}/${count}) is unfinished: ${meta.agents.length - unfinished.length} of ${meta.agents.length} agents have results; continue it with --resume`);
    }
  });
  const owner = new Map<string, string>();
  metas.forEach((meta, i) => {
    for (const id of meta.agents) {
      if (owner.has(id)) throw new UsageError(`agent ${id} is in both ${owner.get(id)} and ${dirs[i]}`);
      owner.set(id, dirs[i]);
    }
  });
  const absent = first.allAgents.filter((id) => !owner.has(id));
  if (absent.length > 0 || owner.size !== first.allAgents.length) throw new UsageError(`the shards hold ${owner.size} of the sweep's ${first.allAgents.length} agents (missing ${absent[0] ?? '?'})`);

  const out = resolve(typeof parsed.values.out === 'string' ? parsed.values.out : join(dirname(dirs[0]), 'merged'));
  if (dirs.includes(out)) throw new UsageError(`--out ${out} is one of the shard folders; merge into another folder`);
  if (existsSync(join(out, 'sweep.json'))) {
    const there = readMeta(out);
    if (there.hash !== first.hash || there.shard !== null) throw new UsageError(`--out ${out} already holds another sweep; choose another folder`);
  }
  mkdirSync(join(out, 'agents'), { recursive: true });
  for (const id of first.allAgents) cpSync(join(owner.get(id)!, 'agents', id), join(out, 'agents', id), { recursive: true, force: true });
  const meta: SweepMeta = { ...first, shard: null, agents: first.allAgents };
  writeFileAtomic(join(out, 'sweep.json'), `${JSON.stringify(meta, null, 2)}\n`);
  const summary = await finishSweep(out, meta, !parsed.values['no-plots']);
  const line = { ...summary, shards: count, outDir: out, wallSeconds: Number(((performance.now() - start) / 1000).toFixed(3)) };
  if (parsed.values.json) console.log(JSON.stringify(line));
  else {
    process.stderr.write(`merged ${count} shards: ${summary.agents} agents, ${summary.solved} reached their target\n`);
    console.log(`sweep folder: ${out} (summary.md, results.csv)`);
  }
}
