/**
 * One session of a sweep: the agents of one batch trained side by side to the end of their budget, each one's
 * reports written to its own folder (agents/<id>/: metrics.csv, metrics.jsonl, episodes.csv, TensorBoard
 * events), then its checkpoint, config and result row. With --save-every the session's checkpoint goes to
 * groups/<k>/ at metrics reports only, so a resumed session continues from exactly what was logged.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { agentCheckpoint, CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../src/checkpoint.ts';
import { readBuffer } from '../src/gpu/kernel.ts';
import type { GpuContext } from '../src/platform/gpu-context.ts';
import { stableJson, type SweepBatch } from '../src/sweep.ts';
import { flatRow, roundReturn, type SweepRow } from '../src/sweep-report.ts';
import { Sb3Scalars } from '../src/tensorboard.ts';
import { METRIC_SLOTS, NUM_METRICS } from '../src/trainer/gpu-trainer.ts';
import { evaluate, TrainingSession, type TrainMetrics } from '../src/trainer/train.ts';
import { writeFileAtomic } from './files.ts';
import { TensorBoardWriter } from './tensorboard.ts';

export const AGENT_METRIC_COLUMNS = [
  'globalStep', 'updates', 'wallSeconds', 'sps', 'episodicReturn', 'episodicLength', 'episodesFinished',
  'meanReturn100', 'policyLoss', 'valueLoss', 'entropy', 'explainedVariance', 'gradNorm', 'solved',
] as const;

/** One agent's view of a report: its own figures (AgentMetrics) where the session has several agents. */
type AgentReport = Omit<TrainMetrics, 'agents'> & { solved: boolean };

function agentReport(m: TrainMetrics, agent: number, solved: boolean): AgentReport {
  const { agents, ...common } = m;
  const a = agents?.[agent];
  if (!a) return { ...common, solved };
  return {
    globalStep: m.globalStep,
    updates: m.updates,
    wallSeconds: m.wallSeconds,
    sps: m.sps / agents.length,
    episodicReturn: a.episodicReturn,
    // AgentMetrics carries no episode length yet: the session reports only the mean over all agents.
    episodicLength: a.episodicLength,
    episodesFinished: a.episodesFinished,
    meanReturn100: a.meanReturn100,
    policyLoss: a.policyLoss,
    valueLoss: a.valueLoss,
    entropy: a.entropy,
    explainedVariance: a.explainedVariance,
    gradNorm: a.gradNorm,
    solved,
  };
}

/** SB3's scalars of one agent's report; ep_len_mean left out where the length is unknown. */
function agentScalars(sb3: Sb3Scalars, r: AgentReport): Record<string, number> {
  const scalars = sb3.of(r);
  if (!Number.isFinite(scalars['rollout/ep_len_mean'])) delete scalars['rollout/ep_len_mean'];
  return scalars;
}

/** An agent folder's logs, written synchronously so a kill loses nothing that a checkpoint counts on. */
class AgentLogs {
  private readonly fds: { csv: number; jsonl: number; episodes: number };
  readonly tensorboard: TensorBoardWriter;
  readonly sb3 = new Sb3Scalars();
  /** The env steps at which a report first showed the target reached, recovered from the logs on resume. */
  readonly solvedAtStep: number | null = null;

  constructor(readonly dir: string, upTo: number | null) {
    mkdirSync(dir, { recursive: true });
    const csv = join(dir, 'metrics.csv');
    const jsonl = join(dir, 'metrics.jsonl');
    const episodes = join(dir, 'episodes.csv');
    // A fresh session starts the files over; a resumed one keeps the rows up to its checkpoint's update.
    const keep = (path: string, header: string | null, update: (line: string) => number) => {
      const lines = upTo !== null && existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0) : [];
      const body = (header !== null ? lines.slice(1) : lines).filter((l) => update(l) <= (upTo ?? -1));
      writeFileAtomic(path, [...(header !== null ? [header] : []), ...body].map((l) => `${l}\n`).join(''));
      return body;
    };
    keep(csv, AGENT_METRIC_COLUMNS.join(','), (l) => Number(l.split(',')[1]));
    // NaN went into the JSON as null; it comes back as NaN, as TensorBoard got it.
    const parse = (l: string) => JSON.parse(l, (_, v) => (v === null ? Number.NaN : v)) as AgentReport;
    const reports = keep(jsonl, null, (l) => parse(l).updates).map(parse);
    keep(episodes, 'update,agent,return', (l) => Number(l.split(',')[0]));
    this.solvedAtStep = reports.find((r) => r.solved)?.globalStep ?? null;
    this.fds = { csv: openSync(csv, 'a'), jsonl: openSync(jsonl, 'a'), episodes: openSync(episodes, 'a') };
    // TensorBoard: the kept reports written again into one fresh file, which also brings Sb3Scalars' window back.
    for (const f of readdirSync(dir)) if (f.startsWith('events.out.tfevents.')) rmSync(join(dir, f));
    this.tensorboard = new TensorBoardWriter(dir);
    for (const r of reports) this.tensorboard.scalars(r.globalStep, agentScalars(this.sb3, r));
  }

  write(r: AgentReport, returns: number[]): void {
    const cell = (v: number | boolean) => (typeof v === 'boolean' ? String(v) : Number.isFinite(v) ? String(v) : '');
    writeSync(this.fds.csv, `${AGENT_METRIC_COLUMNS.map((k) => cell(r[k])).join(',')}\n`);
    writeSync(this.fds.jsonl, `${JSON.stringify(r)}\n`);
    if (returns.length > 0) writeSync(this.fds.episodes, returns.map((x) => `${r.updates},0,${x}\n`).join(''));
    this.tensorboard.scalars(r.globalStep, agentScalars(this.sb3, r));
  }

  sync(): void {
    for (const fd of Object.values(this.fds)) fsyncSync(fd);
  }

  close(): void {
    this.sync();
    for (const fd of Object.values(this.fds)) closeSync(fd);
    this.tensorboard.close();
  }
}

export interface BatchRun {
  ctx: GpuContext;
  outDir: string;
  batch: SweepBatch;
  resume: boolean;
  saveEvery: number;
  log(line: string): void;
  interrupted(): boolean;
  /** Before training (0, or where a resumed session starts), then after each report: the env steps each agent has taken. */
  onProgress(agentSteps: number): void;
}

/** Per agent, the first update skipped for a non-finite value (the GPU's sticky metric); null: none. */
async function firstNonFinite(session: TrainingSession): Promise<(number | null)[]> {
  const g = session.config.numAgents;
  const metrics = new Float32Array(await readBuffer(session.ctx, session.trainer.buffers.metrics, g * NUM_METRICS * 4));
  return Array.from({ length: g }, (_, a) => {
    const first = metrics[a * NUM_METRICS + METRIC_SLOTS.firstNonFiniteUpdate];
    return first > 0 ? first - 1 : null;
  });
}

/** The session's saved checkpoint, if it is this batch's (the same agents and config); otherwise null. */
function savedCheckpoint(path: string, batch: SweepBatch, log: (line: string) => void): Checkpoint | null {
  if (!existsSync(path)) return null;
  try {
    const ckpt = decodeCheckpoint(readFileSync(path));
    if (stableJson(ckpt.config) === stableJson(batch.config)) return ckpt;
    log(`  ${path} holds other agents' session: this one starts over`);
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    log(`  ${path}: ${error.message}; this session starts over`);
  }
  return null;
}

export async function runBatch(run: BatchRun): Promise<{ rows: SweepRow[]; wallSeconds: number; interrupted: boolean }> {
  const { ctx, batch } = run;
  const start = performance.now();
  const groupDir = join(run.outDir, 'groups', String(batch.index).padStart(3, '0'));
  const checkpointPath = join(groupDir, 'checkpoint.safetensors');
  const progressPath = join(groupDir, 'progress.json');
  const restoreFrom = run.resume ? savedCheckpoint(checkpointPath, batch, run.log) : null;
  // The sticky non-finite update does not survive a restore (the metrics buffer starts clear): it is saved beside.
  let savedNonFinite: (number | null)[] = batch.agents.map(() => null);
  if (restoreFrom && existsSync(progressPath)) {
    const progress = JSON.parse(readFileSync(progressPath, 'utf8')) as { update: number; nonFiniteUpdate: (number | null)[] };
    if (progress.update === restoreFrom.update) savedNonFinite = progress.nonFiniteUpdate;
  }
  if (restoreFrom) run.log(`  resumed at update ${restoreFrom.update}`);
  const logs = batch.agents.map((a) => new AgentLogs(join(run.outDir, 'agents', a.id), restoreFrom?.update ?? null));

  const session = new TrainingSession(ctx, batch.config, {
    onMetrics(m, newReturns) {
      logs.forEach((agentLog, i) => {
        const solved = agentLog.solvedAtStep !== null || (m.agents?.[i]?.solved ?? session.solvedAtStep[i] !== null);
        agentLog.write(agentReport(m, i, solved), newReturns[i] ?? []);
      });
      run.onProgress(m.globalStep);
    },
  });
  if (restoreFrom) session.restore(restoreFrom);
  else session.initialize();
  run.onProgress(session.envSteps);

  const save = async () => {
    const ckpt = await session.checkpoint();
    const nonFinite = (await firstNonFinite(session)).map((x, a) => savedNonFinite[a] ?? x);
    for (const l of logs) l.sync();
    mkdirSync(groupDir, { recursive: true });
    writeFileAtomic(checkpointPath, encodeCheckpoint(ckpt));
    writeFileAtomic(progressPath, `${JSON.stringify({ update: ckpt.update, nonFiniteUpdate: nonFinite })}\n`);
  };

  // Every agent trains to the end of its budget: a non-finite agent's updates are skipped on the GPU and
  // the others go on (a lone `train` would stop there; its parameters would be the same).
  let lastSave = session.update;
  while (session.update < session.maxUpdates) {
    const u = session.update;
    const reports = (u + 1) % batch.config.metricsEvery === 0 || u === session.maxUpdates - 1;
    await session.step();
    if (!reports || session.update >= session.maxUpdates) continue;
    const stop = run.interrupted();
    if (stop || (run.saveEvery > 0 && session.update - lastSave >= run.saveEvery)) {
      await save();
      lastSave = session.update;
    }
    if (stop) {
      for (const l of logs) l.close();
      session.destroy();
      return { rows: [], wallSeconds: (performance.now() - start) / 1000, interrupted: true };
    }
  }
  const ckpt = await session.checkpoint();
  const nonFinite = (await firstNonFinite(session)).map((x, a) => savedNonFinite[a] ?? x);
  const evalEpisodes = batch.config.evalEpisodes;
  const evaluation = evalEpisodes > 0 ? await evaluate(ctx, session.trainer, evalEpisodes, false) : null;
  ctx.throwIfErrors();
  const wallSeconds = (performance.now() - start) / 1000;
  const rows = batch.agents.map((agent, i): SweepRow => {
    const stepsToTarget = logs[i].solvedAtStep ?? session.solvedAtStep[i];
    const target = session.agentTargets[i];
    return {
      id: agent.id,
      configuration: agent.configuration,
      values: agent.values,
      seed: agent.seed,
      target: Number.isFinite(target) ? target : null,
      solved: stepsToTarget !== null,
      stepsToTarget,
      finalMeanReturn100: roundReturn(session.agentMeanReturn100(i)),
      evalMeanReturn: evaluation ? roundReturn(evaluation.perAgent[i].meanReturn) : null,
      nonFiniteUpdate: nonFinite[i],
      envSteps: session.envSteps,
    };
  });
  batch.agents.forEach((agent, i) => {
    const dir = logs[i].dir;
    logs[i].close();
    const own = agentCheckpoint(ckpt, i);
    writeFileAtomic(join(dir, 'checkpoint.safetensors'), encodeCheckpoint(own));
    writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(own.config, null, 2)}\n`);
    const summary = { ...flatRow(rows[i]), session: batch.index, agentsInSession: batch.agents.length, sessionWallSeconds: Number(wallSeconds.toFixed(3)) };
    writeFileAtomic(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    // Written last: its presence marks the agent finished (--resume skips it, merge reads it).
    writeFileAtomic(join(dir, 'result.json'), `${JSON.stringify(flatRow(rows[i]))}\n`);
  });
  session.destroy();
  rmSync(groupDir, { recursive: true, force: true });
  return { rows, wallSeconds, interrupted: false };
}
