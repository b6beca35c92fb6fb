import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configTableMarkdown } from '../src/config.ts';

describe('README', () => {
  it('shows the option table generated from the config schema', () => {
    expect(readFileSync('README.md', 'utf8')).toContain(configTableMarkdown());
  });

  it('gives exactly the two quick-start commands', () => {
    const quick = readFileSync('README.md', 'utf8').split('## Quick start')[1].split('```sh')[1].split('```')[0];
    expect(quick.trim().split('\n').map((l) => l.split('#')[0].trim())).toEqual(['git clone <this repo> webgpu-rl && cd webgpu-rl', 'npm start', 'npm test']);
  });
});
