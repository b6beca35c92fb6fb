/**
 * The browser demo end to end: build it (vite, into a subfolder, to prove the relative paths), serve
 * it, drive Debian's Chromium headless (WebGPU on SwiftShader) with playwright-core, and check that it
 * trains, checkpoints both ways with the CLI (a browser checkpoint evaluates in `webgpu-rl eval`, a
 * CLI-trained policy plays in the page), watches, takes its settings from the controls, trains another
 * env picked in the env selector (Acrobot-v1), trains and draws every built-in env (the Box ones with a
 * Gaussian policy), loads a user's env module from a file (examples/catch/catch.wgsl) and trains it,
 * refuses a broken one with one line, trains Pendulum-v1 with a two-layer network set in the net-arch
 * control (which refuses a bad one with the CLI's line), shows an env it cannot train (Discrete(5)) under a
 * random policy saying why, and reports a missing WebGPU; no console error, page error or uncaptured
 * WebGPU error may occur at any point.
 * Writes test-output/demo.png (CartPole-v1, the README's) and test-output/demo-<env>.png for every env.
 *
 * Chromium comes from `npm test`'s setup (scripts/setup.mjs --chromium installs Debian's package);
 * CHROMIUM_PATH points elsewhere. It is never downloaded, and a missing one fails rather than skips.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/checkpoint.ts';
import { BUILTIN_ENV_IDS } from '../../src/envs/registry.ts';
import { serveDirectory, type StaticServer } from './static-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'test-output', 'demo.png');
const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  // Without these three, headless Chromium gives WebGPU a SwiftShader adapter but cannot present a
  // WebGPU canvas ("Could not find SharedImageBackingFactory"): the device is lost on the first frame.
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/**
 * 64 envs × 8 steps, 8 updates per frame: on SwiftShader (2 cores) the mean return passed 100 after
 * ~12 s and the run solved in ~40 s; a random policy averages ~22.
 */
const TRAIN_QUERY = 'autostart=1&num-envs=64&speed=8';
const RETURN_TARGET = 100;
const TRAIN_BUDGET_MS = 90_000;
/**
 * Acrobot-v1 from the env selector, 64 envs × 8 steps, 8 updates per frame. A random policy scores about
 * −500 (the time limit); the first episodes to finish are the lucky short ones, so the mean is only read
 * once 100 episodes are in. On lavapipe the mean of the last 100 passed −200 after ~80 updates (~40k env
 * steps); on SwiftShader (2 busy cores) after 88-96 updates, 8-15 s from the switch.
 */
const ACROBOT_TARGET = -200;
const ACROBOT_BUDGET_MS = 60_000;
/** Catch-v0 (examples/catch): random −0.6, perfect +1; the mean of 100 passed 0 after ~50 updates of 64 × 8 on lavapipe. */
const CATCH_TARGET = 0;
const CATCH_BUDGET_MS = 60_000;
const CATCH_MODULE = join(ROOT, 'examples/catch/catch.wgsl');
/**
 * Pendulum-v1 (Gaussian policy, layered path) with --net-arch 32,32, 64 envs × 8 steps: its episodes all
 * last 200 steps, so the first returns arrive after 25 updates; on SwiftShader ~10 s from the switch.
 */
const PENDULUM_BUDGET_MS = 60_000;

const screenshotOf = (env: string) => join(ROOT, 'test-output', `demo-${env}.png`);

interface Stats {
  envSteps: number;
  updates: number;
  episodes: number;
  meanReturn: number;
  state: string;
}

async function readStats(page: Page): Promise<Stats> {
  return page.evaluate(() => {
    const value = (id: string) => Number((document.getElementById(`stat-${id}`) as HTMLElement).dataset.value);
    return {
      envSteps: value('env-steps'),
      updates: value('updates'),
      episodes: value('episodes'),
      meanReturn: value('mean-return'),
      state: (document.getElementById('status') as HTMLElement).dataset.state ?? '',
    };
  });
}

/** Every problem the page has shown or logged so far: console errors, page errors, WebGPU errors, an error status. */
function watchProblems(page: Page): () => Promise<string[]> {
  const logged: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') logged.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => logged.push(`page error: ${error.message}`));
  return async () => {
    const shown = await page.evaluate(() => {
      const found: string[] = [];
      const gpu = document.getElementById('gpu-errors') as HTMLElement;
      if (!gpu.hidden) found.push(`#gpu-errors: ${gpu.textContent}`);
      const status = document.getElementById('status') as HTMLElement;
      if (status.dataset.state === 'error') found.push(`#status: ${status.textContent}`);
      return found;
    });
    return [...logged, ...shown];
  };
}

/** Runs the webgpu-rl CLI (Node, Dawn); returns stdout or throws with its output. */
function cli(args: string[]): string {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/webgpu-rl.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`webgpu-rl ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

async function waitFor<T>(what: string, budgetMs: number, poll: () => Promise<T>, done: (value: T) => boolean, problems: () => Promise<string[]>): Promise<T> {
  const deadline = Date.now() + budgetMs;
  let value = await poll();
  while (!done(value)) {
    expect(await problems()).toEqual([]);
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${budgetMs / 1000} s (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    value = await poll();
  }
  return value;
}

describe('browser demo in headless Chromium (WebGPU on SwiftShader)', () => {
  let siteDir = '';
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let problems: () => Promise<string[]>;
  let pageUrl = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: run "npm test" (its setup installs Debian's chromium as root) or "apt-get install chromium", or set CHROMIUM_PATH`);
    }
    siteDir = mkdtempSync(join(tmpdir(), 'webgpu-rl-demo-'));
    const build = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'demo/vite.config.ts', '--outDir', join(siteDir, 'nested/demo'), '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`vite build failed (${build.status ?? build.signal}):\n${build.stdout}${build.stderr}`);
    server = await serveDirectory(siteDir);
    pageUrl = `${server.url}nested/demo/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 1150 } });
    problems = watchProblems(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (siteDir) rmSync(siteDir, { recursive: true, force: true });
  });

  it('trains: the env-steps counter grows and the mean return rises well above a random policy', async () => {
    await page.goto(`${pageUrl}?${TRAIN_QUERY}`);
    const first = await waitFor('first episodes', 60_000, () => readStats(page), (s) => Number.isFinite(s.meanReturn), problems);
    expect(first.state).toBe('training');
    expect(first.meanReturn).toBeLessThan(50);
    const later = await waitFor('env steps growing', 30_000, () => readStats(page), (s) => s.envSteps > first.envSteps, problems);
    expect(later.updates).toBeGreaterThan(first.updates);
    const trained = await waitFor(`mean return ≥ ${RETURN_TARGET}`, TRAIN_BUDGET_MS, () => readStats(page), (s) => s.meanReturn >= RETURN_TARGET, problems);
    expect(trained.meanReturn).toBeGreaterThan(3 * first.meanReturn);
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    copyFileSync(SCREENSHOT, screenshotOf('CartPole-v1'));
    expect(await problems()).toEqual([]);
  }, 200_000);

  it('downloads a checkpoint in the CLI format and loads it back', async () => {
    const downloading = page.waitForEvent('download');
    await page.click('#download');
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^CartPole-v1__a2c__1__update\d+\.safetensors$/);
    const path = join(siteDir, 'checkpoint.safetensors');
    await download.saveAs(path);
    const ckpt = decodeCheckpoint(new Uint8Array(readFileSync(path)));
    expect(ckpt.config.numEnvs).toBe(64);
    expect(ckpt.update).toBeGreaterThan(0);
    expect(ckpt.envSteps).toBe(ckpt.update * 64 * ckpt.config.nSteps);
    expect(ckpt.params.every(Number.isFinite)).toBe(true);
    expect(ckpt.envSlots?.length).toBe(64 * 8);

    const evaluated = cli(['eval', '--checkpoint', path, '--episodes', '20', '--json']);
    expect(JSON.parse(evaluated.split('\n').filter(Boolean).at(-1)!).meanReturn).toBeGreaterThan(50);

    await page.setInputFiles('#upload', path);
    const loaded = await waitFor('checkpoint loaded', 30_000, () => readStats(page), (s) => s.state === 'paused', problems);
    expect(loaded.envSteps).toBe(ckpt.envSteps);
    expect(loaded.meanReturn).toBeGreaterThan(50); // the last 100 returns travel with the checkpoint
    expect(await page.textContent('#status')).toContain('Loaded checkpoint.safetensors');
    expect(await problems()).toEqual([]);
  }, 60_000);

  it('watches the loaded policy: the carts move, nothing learns', async () => {
    const before = await readStats(page);
    await page.click('#watch');
    await waitFor('watch mode', 30_000, () => readStats(page), (s) => s.state === 'watching', problems);
    const detail = page.locator('#detail');
    const shot = await detail.screenshot();
    const moved = await waitFor('carts moving', 30_000, () => detail.screenshot(), (next) => !next.equals(shot), problems);
    expect(moved.length).toBeGreaterThan(0);
    const after = await readStats(page);
    expect(after.updates).toBe(before.updates);
    await page.click('#watch');
    await waitFor('watch mode left', 30_000, () => readStats(page), (s) => s.state === 'paused', problems);
    expect(await problems()).toEqual([]);
  }, 90_000);

  it('watches a policy the CLI trained headless', async () => {
    const runDir = join(siteDir, 'cli-run');
    cli(['train', '--out', runDir, '--eval-episodes', '0', '--no-plots', '--json']);
    await page.setInputFiles('#upload', join(runDir, 'checkpoint.safetensors'));
    await waitFor('CLI checkpoint loaded', 30_000, () => page.textContent('#grid-caption'), (text) => Boolean(text?.includes('All 16 environments')), problems);
    expect((await readStats(page)).meanReturn).toBeGreaterThan(400);
    await page.selectOption('#speed', '64');
    await page.click('#watch');
    const watched = await waitFor(
      'episodes watched',
      60_000,
      () => page.textContent('#status'),
      (text) => /episodes watched: \d/.test(text ?? ''),
      problems,
    );
    expect(Number(/episodes watched: (\d+(?:\.\d+)?)/.exec(watched!)![1])).toBeGreaterThan(400);
    await page.click('#watch');
    await waitFor('watch mode left', 30_000, () => readStats(page), (s) => s.state === 'paused', problems);
    await page.selectOption('#speed', '8');
    expect(await problems()).toEqual([]);
  }, 120_000);

  it("controls: a bad value is refused with the CLI flag's message; Reset applies a good one", async () => {
    const numEnvs = page.locator('#config-num-envs');
    await numEnvs.fill('lots');
    await numEnvs.dispatchEvent('change');
    expect(await page.textContent('.field-error')).toContain('--num-envs must be a finite number');
    await page.click('#reset');
    await waitFor('refusal', 30_000, () => page.textContent('#status'), (text) => Boolean(text?.startsWith('Not applied: --num-envs')), problems);
    await numEnvs.fill('32');
    await numEnvs.dispatchEvent('change');
    expect(await page.isVisible('#reset-hint')).toBe(true);
    await page.click('#reset');
    const reset = await waitFor('reset', 10_000, () => readStats(page), (s) => s.state === 'ready', problems);
    expect(reset.envSteps).toBe(0);
    expect(await page.textContent('#grid-caption')).toContain('All 32 environments');
    expect(new URL(page.url()).searchParams.get('num-envs')).toBe('32');
    await page.click('#start');
    await waitFor('training again', 30_000, () => readStats(page), (s) => s.state === 'training' && s.envSteps > 0, problems);
    expect(await problems()).toEqual([]);
  }, 60_000);

  it('the env selector trains Acrobot-v1: its mean return rises from about −500', async () => {
    const numEnvs = page.locator('#config-num-envs');
    await numEnvs.fill('64');
    await numEnvs.dispatchEvent('change');
    const started = Date.now();
    // A new env resets the session at once with that env's defaults, and training goes on (it was training).
    await page.selectOption('#config-env', 'Acrobot-v1');
    await waitFor('Acrobot session', 30_000, () => page.textContent('#grid-caption'), (text) => Boolean(text?.includes('All 64 environments (Acrobot-v1)')), problems);
    expect(new URL(page.url()).searchParams.get('env')).toBe('Acrobot-v1');
    expect(await page.textContent('#detail-caption')).toContain('target height');
    const trained = await waitFor(
      `mean return ≥ ${ACROBOT_TARGET} over 100 episodes`,
      ACROBOT_BUDGET_MS,
      () => readStats(page),
      (s) => s.episodes >= 100 && s.meanReturn >= ACROBOT_TARGET,
      problems,
    );
    console.log(`Acrobot-v1: mean return ${trained.meanReturn} after ${trained.updates} updates, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Click to follow: the grid's middle cell replaces the first env of the detail strip.
    const box = (await page.locator('#grid').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const followed = Number(/env (\d+)/.exec((await page.textContent('#detail-labels span')) ?? '')?.[1]);
    expect(followed).toBeGreaterThan(0);
    expect(followed).toBeLessThan(64);
    await page.screenshot({ path: screenshotOf('Acrobot-v1'), fullPage: true });
    expect(await problems()).toEqual([]);
  }, 120_000);

  it('trains and draws every built-in env, the Box ones with a Gaussian policy', async () => {
    // CartPole-v1 and Acrobot-v1 were drawn above, Pendulum-v1 trains below with a network of its own.
    for (const env of BUILTIN_ENV_IDS.filter((id) => !['Acrobot-v1', 'CartPole-v1', 'Pendulum-v1'].includes(id))) {
      const started = Date.now();
      await page.selectOption('#config-env', env);
      await waitFor(`${env} shown`, 30_000, () => page.textContent('#grid-caption'), (text) => Boolean(text?.includes(`(${env})`)), problems);
      await waitFor(`${env} training`, 30_000, () => readStats(page), (s) => s.state === 'training' && s.updates > 0, problems);
      // The envs move: two shots of the grid differ.
      const grid = page.locator('#grid');
      const shot = await grid.screenshot();
      await waitFor(`${env} moving`, 20_000, () => grid.screenshot(), (next) => !next.equals(shot), problems);
      await page.screenshot({ path: screenshotOf(env), fullPage: true });
      console.log(`${env}: trained and drawn in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    expect(await problems()).toEqual([]);
  }, 120_000);

  it("loads a user's env module from a file, trains it, and checkpoints it; refuses a broken module with one line", async () => {
    const bad = join(siteDir, 'catch-bad.wgsl');
    writeFileSync(bad, readFileSync(CATCH_MODULE, 'utf8').replace('"observationSize": 3', '"observationSize": 4').replace('[-1, -1, -1]', '[-1, -1, -1, -1]').replace('[1, 1, 1]', '[1, 1, 1, 1]'));
    await page.setInputFiles('#env-module', bad);
    const refused = await waitFor('refusal', 30_000, () => page.textContent('#status'), (text) => Boolean(text?.startsWith('Env module not loaded')), problems);
    expect(refused).toContain('catch-bad.wgsl does not match its descriptor: OBS_SIZE is 3 in the module, observationSize 4 in the descriptor');
    expect(await page.locator('#config-env option[value="Catch-v0"]').count()).toBe(0);

    await page.setInputFiles('#env-module', CATCH_MODULE);
    await waitFor('module loaded', 30_000, () => page.textContent('#status'), (text) => Boolean(text?.startsWith('Loaded catch.wgsl: Catch-v0')), problems);
    expect(await page.inputValue('#config-env')).toBe('Catch-v0');
    // The form's other settings carry over (64 envs, set for Acrobot-v1 above).
    expect(await page.textContent('#grid-caption')).toContain('All 64 environments (Catch-v0)');
    await page.click('#start');
    const trained = await waitFor(
      `Catch mean return > ${CATCH_TARGET}`,
      CATCH_BUDGET_MS,
      () => readStats(page),
      (s) => s.episodes >= 100 && s.meanReturn > CATCH_TARGET,
      problems,
    );
    console.log(`Catch-v0: mean return ${trained.meanReturn} after ${trained.updates} updates`);
    await page.screenshot({ path: screenshotOf('Catch-v0'), fullPage: true });

    // The checkpoint carries the module: decoding it registers Catch-v0 here too, and the page takes it back.
    await page.click('#start'); // pause
    const downloading = page.waitForEvent('download');
    await page.click('#download');
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^Catch-v0__a2c__1__update\d+\.safetensors$/);
    const path = join(siteDir, 'catch.safetensors');
    await download.saveAs(path);
    const ckpt = decodeCheckpoint(new Uint8Array(readFileSync(path)));
    expect(ckpt.config.env).toBe('Catch-v0');
    expect(ckpt.envSlots?.length).toBe(64 * (3 + 4));
    await page.click('#reset');
    await page.setInputFiles('#upload', path);
    const loaded = await waitFor('Catch checkpoint loaded', 30_000, () => readStats(page), (s) => s.state === 'paused', problems);
    expect(loaded.envSteps).toBe(ckpt.envSteps);
    // The page shows the checkpoint's own returns (training went on past the target until the pause took effect,
    // so the mean may have dipped: compare with what was saved, not with the target).
    const saved = ckpt.recentReturns[0];
    expect(loaded.meanReturn).toBeCloseTo(saved.reduce((a, b) => a + b, 0) / saved.length, 4);
    expect(await problems()).toEqual([]);
  }, 150_000);

  it("trains Pendulum-v1 with --net-arch 32,32 from the controls; a bad net-arch gets the CLI's one line", async () => {
    const arch = page.locator('#config-net-arch');
    await arch.fill('32,,32');
    await arch.dispatchEvent('change');
    const cliRun = spawnSync(process.execPath, [join(ROOT, 'bin/webgpu-rl.mjs'), 'train', '--env', 'Pendulum-v1', '--net-arch', '32,,32'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(cliRun.status).toBe(2);
    const cliLine = cliRun.stderr.trim().replace(/^webgpu-rl: /, '');
    expect(cliLine).toContain('--net-arch');
    expect(await page.textContent('.field-error')).toBe(cliLine);
    await page.click('#reset');
    await waitFor('refusal', 30_000, () => page.textContent('#status'), (text) => text === `Not applied: ${cliLine}`, problems);

    await arch.fill('32,32');
    await arch.dispatchEvent('change');
    const started = Date.now();
    // The net-arch set here differs from every env's default, so it carries over to the env picked next.
    await page.selectOption('#config-env', 'Pendulum-v1');
    await waitFor('Pendulum session', 30_000, () => page.textContent('#grid-caption'), (text) => Boolean(text?.includes('(Pendulum-v1)')), problems);
    const url = new URL(page.url()).searchParams;
    expect([url.get('env'), url.get('net-arch')]).toEqual(['Pendulum-v1', '32,32']);
    if ((await readStats(page)).state !== 'training') await page.click('#start');
    // Every episode is 200 steps; a random Gaussian policy scores about −1,200 (−16.3 at worst per step).
    const trained = await waitFor('Pendulum returns', PENDULUM_BUDGET_MS, () => readStats(page), (s) => s.episodes >= 64 && Number.isFinite(s.meanReturn), problems);
    expect(trained.meanReturn).toBeLessThan(0);
    expect(trained.meanReturn).toBeGreaterThan(-3300);
    const smoothed = Number(await page.textContent('#chart-returns .u-legend .u-series:nth-child(3) .u-value'));
    expect(smoothed).toBeLessThan(0);
    expect(smoothed).toBeGreaterThan(-3300);
    console.log(`Pendulum-v1 (32,32): mean return ${trained.meanReturn} after ${trained.updates} updates, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await page.screenshot({ path: screenshotOf('Pendulum-v1'), fullPage: true });
    expect(await problems()).toEqual([]);
  }, 120_000);

  it("selects PPO with its settings from the schema: a minibatch count that does not split the batch gets the CLI's line; PPO trains", async () => {
    await page.selectOption('#config-env', 'CartPole-v1');
    await page.selectOption('#config-algo', 'ppo');
    // Fields at their defaults follow the algorithm: PPO's rollout length, its epochs and minibatches.
    expect(await page.inputValue('#config-n-steps')).toBe('32');
    expect(await page.inputValue('#config-update-epochs')).toBe('4');
    const minibatches = page.locator('#config-num-minibatches');
    // PPO's own settings sit under "more settings".
    await page.locator('details:has(#config-num-minibatches)').evaluate((details) => ((details as HTMLDetailsElement).open = true));
    await minibatches.fill('3');
    await minibatches.dispatchEvent('change');
    await page.click('#reset');
    await waitFor('refusal', 30_000, () => page.textContent('#status'), (text) => /^Not applied: --num-minibatches 3 does not divide the batch of --num-envs \d+ × --n-steps 32/.test(text ?? ''), problems);
    await minibatches.fill('4');
    await minibatches.dispatchEvent('change');
    await page.click('#reset');
    // The applied settings go to the URL (a link reproduces the run); the new session trains with PPO.
    await waitFor('PPO session', 30_000, async () => new URL(page.url()).searchParams.get('algo'), (algo) => algo === 'ppo', problems);
    if ((await readStats(page)).state !== 'training') await page.click('#start');
    await waitFor('PPO training', 60_000, () => readStats(page), (s) => s.state === 'training' && s.updates >= 3, problems);
    expect(await problems()).toEqual([]);
  }, 120_000);

  it('shows an env it cannot train (Discrete(5), a user module) under a random policy, saying why', async () => {
    const five = join(siteDir, 'catch5.wgsl');
    writeFileSync(five, readFileSync(CATCH_MODULE, 'utf8').replace('"id": "Catch-v0"', '"id": "Catch5-v0"').replace('"n": 3', '"n": 5'));
    await page.setInputFiles('#env-module', five);
    const status = await waitFor('module loaded', 30_000, () => page.textContent('#status'), (text) => Boolean(text?.startsWith('Loaded catch5.wgsl: Catch5-v0')), problems);
    expect(status).toContain('--env Catch5-v0 has Discrete(5) actions');
    expect(status).toContain('random policy');
    const stats = await readStats(page);
    expect([stats.state, stats.envSteps]).toEqual(['preview', 0]);
    expect(await page.isDisabled('#start')).toBe(true);
    const grid = page.locator('#grid');
    const shot = await grid.screenshot();
    await waitFor('Catch5-v0 moving', 20_000, () => grid.screenshot(), (next) => !next.equals(shot), problems);
    expect(await problems()).toEqual([]);
  }, 60_000);

  it('says which browsers and settings provide WebGPU when there is none', async () => {
    const noGpu = await browser.newPage();
    const noGpuProblems = watchProblems(noGpu);
    await noGpu.addInitScript(() => delete (Navigator.prototype as { gpu?: unknown }).gpu);
    await noGpu.goto(pageUrl);
    await noGpu.waitForSelector('#no-webgpu:not([hidden])', { timeout: 30_000 });
    const message = await noGpu.textContent('#no-webgpu');
    expect(message).toContain('needs WebGPU');
    expect(message).toMatch(/Chrome/);
    expect(message).toMatch(/Safari/);
    expect(message).toMatch(/Firefox/);
    expect(await noGpu.isHidden('#app')).toBe(true);
    expect(await noGpuProblems()).toEqual([]);
    await noGpu.close();
  }, 60_000);
});
