#!/usr/bin/env node
// First step of `npm test` and `npm start`: make sure the npm dependencies and a WebGPU adapter exist.
// Plain Node, no dependencies: it runs before node_modules does. Fast path (everything present): one
// child `node` that asks Dawn for an adapter, then exit 0 silently.
//
// 1. Any package from package.json missing in node_modules: `npm ci` (`npm install` without a lockfile).
// 2. Probe for an adapter in a child process (Dawn can crash or hang; a child keeps that contained).
// 3. No adapter on Debian/Ubuntu as root (or with passwordless sudo): install Mesa's software Vulkan
//    driver (lavapipe). Debian 12's own Mesa 22.3 is rejected by Dawn, so there it comes from
//    bookworm-backports, which is added to the apt sources if none mentions it. Then probe again.
// 4. Still none: one line on stderr saying what to install, exit 1.
// 5. With --chromium (`npm test` passes it; the browser demo's end-to-end test drives Chromium):
//    /usr/bin/chromium missing on Debian as root (or with passwordless sudo): `apt-get install chromium`.
//    Not fatal when that is impossible: the e2e test then fails with the same hint.
//
// Environment:
//   VERBOSE=1                     print the adapter found (otherwise the fast path prints nothing)
//   WEBGPU_RL_FORCE_NO_ADAPTER=1  testing hook: every probe reports "no adapter", so the install path
//                                 runs (idempotent: apt only reinstalls what is there) and the script
//                                 ends with the "what to install" line and exit code 1.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const PREFIX = 'webgpu-rl:';
const PROBE_TIMEOUT_MS = 30_000;
const FORCE_NO_ADAPTER = Boolean(process.env.WEBGPU_RL_FORCE_NO_ADAPTER && process.env.WEBGPU_RL_FORCE_NO_ADAPTER !== '0');
const VERBOSE = Boolean(process.env.VERBOSE && process.env.VERBOSE !== '0');
const PACKAGES = ['mesa-vulkan-drivers', 'libvulkan1'];
const WANT_CHROMIUM = process.argv.includes('--chromium');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const BACKPORTS = 'bookworm-backports';
const BACKPORTS_LINE = `deb http://deb.debian.org/debian ${BACKPORTS} main`;
const BACKPORTS_FILE = `/etc/apt/sources.list.d/${BACKPORTS}.list`;
const HINT =
  `install a Vulkan driver: on Debian 12 add "${BACKPORTS_LINE}" to the apt sources and run ` +
  `"sudo apt-get install -t ${BACKPORTS} ${PACKAGES.join(' ')}" (Mesa >= 24; bookworm's 22.3 is rejected by Dawn); ` +
  `on Ubuntu or Debian 13 "sudo apt-get install ${PACKAGES.join(' ')}"; a real GPU with its Vulkan driver also works`;

class SetupError extends Error {}

function fail(message) {
  throw new SetupError(message);
}

// ---- 1. npm dependencies ------------------------------------------------------------------------

function missingPackages() {
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  } catch (error) {
    fail(`cannot read ${join(ROOT, 'package.json')} (${error.message})`);
  }
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  return names.filter((name) => !existsSync(join(ROOT, 'node_modules', name, 'package.json')));
}

function ensureNodeModules() {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const command = existsSync(join(ROOT, 'package-lock.json')) ? 'ci' : 'install';
  console.log(`${PREFIX} ${missing.length} npm package(s) missing from node_modules (${missing.join(', ')}); running npm ${command}`);
  const result = spawnSync('npm', [command], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error || result.status !== 0) {
    fail(`npm ${command} failed (${result.error ? result.error.message : describeExit(result)}); fix the error above and run it again`);
  }
  const still = missingPackages();
  if (still.length > 0) fail(`npm ${command} finished but node_modules still lacks ${still.join(', ')}`);
}

// ---- 2. adapter probe ---------------------------------------------------------------------------

const PROBE_SCRIPT = `
const say = (o) => process.stdout.write('WEBGPU_RL_PROBE ' + JSON.stringify(o) + '\\n', () => process.exit(0));
let mod;
try { mod = await import('webgpu'); } catch (e) { say({ adapter: false, stage: 'load', error: String(e && e.message || e).split('\\n')[0] }); }
if (mod) {
  try {
    const { create, globals } = mod;
    Object.assign(globalThis, globals);
    const gpu = create([]);
    globalThis.__keepDawn = gpu; // Dawn crashes if this is collected early (PLATFORM.md)
    const a = await gpu.requestAdapter();
    if (!a) say({ adapter: false, stage: 'adapter', error: 'requestAdapter() returned null' });
    else {
      const i = a.info || {};
      say({ adapter: true, info: { vendor: i.vendor || '', architecture: i.architecture || '', device: i.device || '', description: i.description || '' } });
    }
  } catch (e) { say({ adapter: false, stage: 'adapter', error: String(e && e.message || e).split('\\n')[0] }); }
}
`;

function describeExit(result) {
  if (result.error?.code === 'ETIMEDOUT') return `timed out after ${PROBE_TIMEOUT_MS / 1000} s`;
  if (result.error) return result.error.message;
  return result.signal ? `killed by ${result.signal}` : `exit code ${result.status}`;
}

/** @returns {{adapter: boolean, stage?: string, error?: string, info?: Record<string, string>}} */
function probe() {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE_SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR || tmpdir() },
    encoding: 'utf8',
    timeout: PROBE_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = (result.stdout ?? '').split('\n').find((l) => l.startsWith('WEBGPU_RL_PROBE '));
  let report;
  if (line) {
    try {
      report = JSON.parse(line.slice('WEBGPU_RL_PROBE '.length));
    } catch {
      /* fall through */
    }
  }
  if (!report) {
    // First line that is a message, not a warning or a stack frame: never print a trace.
    const stderr = (result.stderr ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.includes('artificially reduced') && !/^(\d+:|at\s|-{3,}|Native stack|JS stack|Node\.js v)/.test(l));
    const detail = stderr.length > 0 ? `: ${stderr[0].slice(0, 200)}` : '';
    report = { adapter: false, stage: 'crash', error: `adapter probe ${describeExit(result)}${detail}` };
  }
  if (FORCE_NO_ADAPTER && report.adapter) {
    report = { adapter: false, stage: 'adapter', error: 'forced by WEBGPU_RL_FORCE_NO_ADAPTER' };
  }
  return report;
}

function adapterName(info) {
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((p) => p);
  return parts.length > 0 ? [...new Set(parts)].join(' / ') : 'unknown adapter';
}

// ---- 3. installing lavapipe ---------------------------------------------------------------------

function osRelease() {
  try {
    const fields = {};
    for (const line of readFileSync('/etc/os-release', 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) fields[m[1]] = m[2].replace(/^["']|["']$/g, '');
    }
    return fields;
  } catch {
    return null;
  }
}

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

/** [] when root, ['sudo', '-n'] with passwordless sudo, null when neither. */
function privilegePrefix() {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return [];
  if (!onPath('sudo')) return null;
  const result = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0 ? ['sudo', '-n'] : null;
}

/** Whether an apt source that apt actually reads (not commented out) mentions bookworm-backports. */
function hasBackportsSource() {
  const files = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  try {
    for (const name of readdirSync('/etc/apt/sources.list.d')) {
      if (name.endsWith('.list') || name.endsWith('.sources')) files.push(join('/etc/apt/sources.list.d', name));
    }
  } catch {
    /* no directory */
  }
  const word = new RegExp(`(^|[\\s:])${BACKPORTS}($|\\s)`);
  return files.some((file) => {
    try {
      return readFileSync(file, 'utf8')
        .split('\n')
        .some((line) => !line.trim().startsWith('#') && word.test(line));
    } catch {
      return false;
    }
  });
}

function run(prefix, argv, input, quiet = false) {
  const [cmd, ...args] = [...prefix, ...argv];
  console.log(`${PREFIX} $ ${[cmd, ...args].join(' ')}`);
  const result = spawnSync(cmd, args, {
    stdio: [input === undefined ? 'ignore' : 'pipe', quiet ? 'ignore' : 'inherit', 'inherit'],
    input,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.error || result.status !== 0 ? describeExit(result) : null;
}

/** Tries to install lavapipe; returns null on success, or why it did not (for the final message). */
function installLavapipe() {
  const os = osRelease();
  const ids = [os?.ID, ...(os?.ID_LIKE ?? '').split(/\s+/)].filter(Boolean);
  if (process.platform !== 'linux' || !ids.some((id) => id === 'debian' || id === 'ubuntu')) {
    return 'not Debian or Ubuntu, so nothing was installed automatically';
  }
  if (!onPath('apt-get')) return 'apt-get not found, so nothing was installed automatically';
  const prefix = privilegePrefix();
  if (!prefix) return 'not root and no passwordless sudo, so nothing was installed automatically';

  const bookworm = os.ID === 'debian' && os.VERSION_CODENAME === 'bookworm';
  const aptEnv = ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-o', 'DPkg::Lock::Timeout=300'];
  console.log(
    `${PREFIX} no WebGPU adapter; installing Mesa's software Vulkan driver (lavapipe): ${PACKAGES.join(' ')}` +
      (bookworm ? ` from ${BACKPORTS} (Dawn needs Mesa >= 24; Debian 12 ships 22.3)` : ` from the default apt suites`),
  );
  if (bookworm && !hasBackportsSource()) {
    console.log(`${PREFIX} adding "${BACKPORTS_LINE}" as ${BACKPORTS_FILE}`);
    if (prefix.length === 0) {
      try {
        writeFileSync(BACKPORTS_FILE, `${BACKPORTS_LINE}\n`);
      } catch (error) {
        return `could not write ${BACKPORTS_FILE} (${error.message})`;
      }
    } else {
      const why = run(prefix, ['tee', BACKPORTS_FILE], `${BACKPORTS_LINE}\n`, true);
      if (why) return `could not write ${BACKPORTS_FILE} (${why})`;
    }
  }
  // A failing third-party source makes `apt-get update` exit non-zero even when Debian's own indexes
  // were fetched, so only the install's result counts.
  const updateFailure = run(prefix, [...aptEnv, 'update']);
  if (updateFailure) console.log(`${PREFIX} apt-get update reported a problem (${updateFailure}); trying the install anyway`);
  const installFailure = run(prefix, [...aptEnv, 'install', '-y', ...(bookworm ? ['-t', BACKPORTS] : []), ...PACKAGES]);
  if (installFailure) return `apt-get install failed (${installFailure})`;
  return null;
}

// ---- 5. Chromium for the demo's end-to-end test -------------------------------------------------

/** Installs Debian's chromium when it is missing; returns null when it is there, else why not. */
function ensureChromium() {
  if (existsSync(CHROMIUM)) return null;
  if (process.env.CHROMIUM_PATH) return 'CHROMIUM_PATH names it, so nothing was installed automatically';
  const os = osRelease();
  if (process.platform !== 'linux' || os?.ID !== 'debian') return 'not Debian (Ubuntu ships chromium only as a snap), so nothing was installed automatically';
  if (!onPath('apt-get')) return 'apt-get not found, so nothing was installed automatically';
  const prefix = privilegePrefix();
  if (!prefix) return 'not root and no passwordless sudo, so nothing was installed automatically';
  console.log(`${PREFIX} ${CHROMIUM} not found; installing Debian's chromium (the browser demo's end-to-end test runs it headless with WebGPU)`);
  const aptEnv = ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-o', 'DPkg::Lock::Timeout=300'];
  const updateFailure = run(prefix, [...aptEnv, 'update'], undefined, true);
  if (updateFailure) console.log(`${PREFIX} apt-get update reported a problem (${updateFailure}); trying the install anyway`);
  const installFailure = run(prefix, [...aptEnv, 'install', '-y', '--no-install-recommends', 'chromium'], undefined, !VERBOSE);
  if (installFailure) return `apt-get install chromium failed (${installFailure})`;
  return existsSync(CHROMIUM) ? null : `apt-get installed chromium but ${CHROMIUM} does not exist`;
}

// ---- main ---------------------------------------------------------------------------------------

function main() {
  ensureNodeModules();
  if (WANT_CHROMIUM) {
    const why = ensureChromium();
    // Not fatal: every other test still runs; test/e2e/demo.test.ts fails with this hint instead.
    if (why) console.error(`${PREFIX} no Chromium at ${CHROMIUM} (${why}): install Debian's "chromium" package or set CHROMIUM_PATH; the demo's end-to-end test needs it`);
  }
  let report = probe();
  if (report.adapter) {
    if (VERBOSE) console.log(`${PREFIX} WebGPU adapter: ${adapterName(report.info)}`);
    return 0;
  }
  if (report.stage === 'load') {
    // The webgpu package itself does not load (e.g. GLIBCXX too old): no driver will fix that.
    fail(`the webgpu npm package failed to load (${report.error}); it needs a newer libstdc++ or a clean "npm ci"`);
  }
  const installProblem = installLavapipe();
  if (installProblem === null) {
    report = probe();
    if (report.adapter) {
      console.log(`${PREFIX} WebGPU adapter: ${adapterName(report.info)}`);
      return 0;
    }
  }
  fail(`no WebGPU adapter (${[report.error, installProblem].filter(Boolean).join('; ')}): ${HINT}`);
}

try {
  process.exitCode = main();
} catch (error) {
  const message = error instanceof SetupError ? error.message : `setup failed: ${error?.message ?? error}`;
  console.error(`${PREFIX} ${message.replace(/\s*\n\s*/g, ' ')}`);
  process.exitCode = 1;
}
