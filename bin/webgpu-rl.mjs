#!/usr/bin/env node
// The `webgpu-rl` command. Node 20 cannot run TypeScript by itself, so tsx loads the CLI's sources.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
