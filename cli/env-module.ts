/**
 * `--env-module PATH`: a user's env written in WGSL (README "Your own env"), read from disk with its
 * descriptor (the header comment, or PATH's .json beside it), registered under its id before any config
 * is validated, and compiled against the interface before any other GPU work. Every problem is one line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { BUILTIN_ENV_IDS, EnvError, registerEnv } from '../src/envs/registry.ts';
import type { EnvSpec } from '../src/envs/types.ts';
import { checkEnvModule, descriptorPath, parseEnvModule } from '../src/envs/user-module.ts';
import type { GpuContext } from '../src/platform/gpu-context.ts';
import { UsageError } from './util.ts';

export const ENV_MODULE_FLAG_DOC = "a user's env module (.wgsl, descriptor in its header or in the .json beside it): registered under its id, which --env then defaults to";

/** Reads, parses and registers the module at `path`; returns its spec. */
export function loadEnvModule(path: string): EnvSpec {
  let code: string;
  try {
    code = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--env-module: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const side = descriptorPath(path);
  try {
    return registerEnv(parseEnvModule(code, path, existsSync(side) ? readFileSync(side, 'utf8') : null));
  } catch (error) {
    if (error instanceof EnvError) throw new UsageError(error.message);
    throw error;
  }
}

/** Has the compiler check a user's module against the interface and its descriptor (built-ins pass as they are). */
export async function checkUserEnv(ctx: GpuContext, spec: EnvSpec): Promise<void> {
  if (BUILTIN_ENV_IDS.includes(spec.id)) return;
  try {
    await checkEnvModule(ctx, spec);
  } catch (error) {
    if (error instanceof EnvError) throw new UsageError(error.message);
    throw error;
  }
}
