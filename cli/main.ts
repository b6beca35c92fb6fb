/**
 * webgpu-rl command line: `train`, `eval`, `bench`, `info`. Every failure ends in one line on stderr:
 * exit 2 for bad input, 1 for anything else.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { benchCommand } from './bench.ts';
import { maxNumEnvs } from '../src/envs/vec-env.ts';
import { maxTrainEnvs } from '../src/trainer/gpu-trainer.ts';
import { fail, openGpu, UsageError } from './util.ts';
import { trainCommand } from './train.ts';
import { evalCommand } from './eval.ts';
import { sweepCommand } from './sweep.ts';

const USAGE = `usage: webgpu-rl <command> [options]

commands:
  train [options]     train an agent on CartPole on the GPU (webgpu-rl train --help lists every option)
  eval --checkpoint PATH [--episodes K] [--greedy] [--json]
                      mean and std return of K fresh episodes with a saved policy
  bench env|kernels|rollout|train|solve [options] [--json]
                      throughput and time-to-solve, each against its CPU reference (webgpu-rl bench --help)
  info [--json]       the WebGPU adapter, its limits, and the largest N it can run
  sweep --spec FILE [--shard K/N] [--resume] [--json] | sweep merge DIR…
                      grid and random search × seeds; shards for Slurm, Kubernetes, AWS Batch (webgpu-rl sweep --help)
`;

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

async function infoCommand(args: string[]) {
  const flags = parse(args, { json: { type: 'boolean' } });
  const ctx = await openGpu();
  const limits = ctx.device.limits;
  const info = {
    adapter: ctx.adapterName,
    maxNumEnvs: maxNumEnvs(ctx.device),
    maxTrainEnvs: { nSteps16: maxTrainEnvs(ctx.device, 16), nSteps5: maxTrainEnvs(ctx.device, 5), nSteps128: maxTrainEnvs(ctx.device, 128) },
    limits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    },
  };
  if (flags.json) console.log(JSON.stringify(info));
  else {
    console.log(`adapter: ${info.adapter}`);
    console.log(`largest N (CartPole envs, env only): ${info.maxNumEnvs}`);
    console.log(`largest N to train (--num-envs) at --n-steps 5 / 16 / 128: ${info.maxTrainEnvs.nSteps5} / ${info.maxTrainEnvs.nSteps16} / ${info.maxTrainEnvs.nSteps128}`);
    for (const [name, value] of Object.entries(info.limits)) console.log(`${name}: ${value}`);
  }
  ctx.destroy();
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'bench':
      return benchCommand(rest);
    case 'train':
      return trainCommand(rest);
    case 'eval':
      return evalCommand(rest);
    case 'info':
      return infoCommand(rest);
    case 'sweep':
      return sweepCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${command}" (commands: train, eval, bench, info, sweep; see webgpu-rl --help)`);
  }
}

main(process.argv.slice(2)).catch(fail);
