/**
 * Draws any env from its env-slot buffer with a WebGPU render pipeline: the buffer the trainer steps
 * (`trainer.buffers.envs`) or a vector env's (`VecEnv.buffers.slots`) is bound read-only to the vertex
 * stage, so drawing never reads anything back. The shader of an env is its own WGSL module, rng and the
 * env interface (so the view sees EnvSlot, EnvState, env_observe and the env's override constants, set
 * from its descriptor as in every kernel), then its view module (demo/views/<name>.wgsl) and the shared
 * skeleton (demo/views/view.wgsl: cells, background, progress bar, shapes). A user's env without a view
 * of its own gets the generic one: its observation as bars.
 *
 * One EnvViewPipelines per device (a pipeline per env, made once); each canvas (the grid, the detail
 * strip) is an EnvView with its own uniform.
 */
import type { EnvSpec, GpuContext } from '../src/browser.ts';
import { shaderCode } from '../src/gpu/kernel.ts';
import { envConstants, envModulePart } from '../src/envs/vec-env.ts';

const viewSources = import.meta.glob('./views/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

function viewSource(name: string): string {
  const text = viewSources[`./views/${name}.wgsl`];
  if (text === undefined) throw new Error(`view demo/views/${name}.wgsl not bundled`);
  return text;
}

/** The view uniform of demo/views/view.wgsl (struct View). */
const VIEW_BYTES = 64;
/** Drawn cells are capped: beyond this many the grid shows the first ones (cells would be < 1 px tall anyway). */
export const MAX_GRID_CELLS = 4096;
const SAMPLES = 4;
/** The skeleton's quads before the view's: the cell background and the progress bar. */
const SKELETON_QUADS = 2;
/** Height of the progress strip under the world box, as a fraction of its height (VIEW_BAR_STRIP). */
const BAR_STRIP = 0.12;
/** The generic view's scale of an observation with an infinite bound: ±5 fills the bar. */
const UNBOUNDED_HALF = 5;

/** How an env is drawn: its view module, quads per cell, the world box a cell shows, a caption. */
export interface ViewSpec {
  /** demo/views/<name>.wgsl */
  name: string;
  /** VIEW_QUADS of the module. */
  quads: number;
  /** x0, y0, x1, y1 in world units (the progress bar goes below). */
  world: [number, number, number, number];
  /** For the detail strip's caption. */
  caption: string;
  /** The view's own data (view_params): vec4s. */
  params?: Float32Array;
}

const constant = (spec: EnvSpec, name: string, fallback: number) => spec.constants[name] ?? fallback;

/** Views by env module stem: built-in envs. */
const VIEWS: Record<string, (spec: EnvSpec) => ViewSpec> = {
  'envs/cartpole': (spec) => {
    const lim = constant(spec, 'x_threshold', 2.4);
    const degrees = (constant(spec, 'theta_threshold', (12 * Math.PI) / 180) * 180) / Math.PI;
    return {
      name: 'cartpole',
      quads: 8,
      world: [-(lim + 0.35), -0.2, lim + 0.35, 2 * constant(spec, 'half_length', 0.5) + 0.22],
      caption: `Blue bar: steps this episode out of the time limit. Red ticks: the track limits (±${lim}). Faint lines: the pole-angle limits (±${+degrees.toFixed(1)}°). Carts and poles turn red near a limit.`,
    };
  },
  'envs/acrobot': () => ({
    name: 'acrobot',
    quads: 6,
    world: [-2.2, -2.2, 2.2, 2.2],
    caption: 'Blue bar: steps this episode out of the time limit. Grey line: the target height; the episode ends when the tip swings above it. The tip warms from blue to yellow as it climbs.',
  }),
  'envs/mountain_car': mountainCarView,
  'envs/mountain_car_continuous': mountainCarView,
  'envs/pendulum': () => ({
    name: 'pendulum',
    quads: 5,
    world: [-1.35, -1.35, 1.35, 1.35],
    caption: 'Blue bar: steps this episode out of the time limit. The rod turns green near upright (the tick above the axle). Orange arc, where known: the last torque.',
  }),
};

function mountainCarView(spec: EnvSpec): ViewSpec {
  const goal = constant(spec, 'goal_position', 0.5);
  return {
    name: 'mountain_car',
    quads: 9,
    world: [constant(spec, 'min_position', -1.2) - 0.04, 0, constant(spec, 'max_position', 0.6) + 0.04, 1.22],
    caption: `Blue bar: steps this episode out of the time limit. The flag marks the goal (x = ${goal}); cars turn green near it. Orange arrow, where known: the last push.`,
  };
}

/** The generic view: the observation as bars scaled by the descriptor's bounds (±5 where unbounded). */
function genericView(spec: EnvSpec): ViewSpec {
  const o = spec.observationSize;
  const params = new Float32Array(4 * o);
  for (let k = 0; k < o; k++) {
    const [lo, hi] = [spec.observationLow[k], spec.observationHigh[k]];
    const bounded = Number.isFinite(lo) && Number.isFinite(hi) && hi > lo;
    params[4 * k] = bounded ? (lo + hi) / 2 : 0;
    params[4 * k + 1] = bounded ? (hi - lo) / 2 : UNBOUNDED_HALF;
  }
  return {
    name: 'generic',
    quads: 1 + 2 * o,
    world: [0, -1.1, o, 1.1],
    caption: `Blue bar: steps this episode out of the time limit. Bars: the ${o} observation values, left to right, each scaled to its bounds (±${UNBOUNDED_HALF} where unbounded); red where outside them.`,
    params,
  };
}

export function viewSpec(spec: EnvSpec): ViewSpec {
  const make = 'stem' in spec.module ? VIEWS[spec.module.stem] : undefined;
  return (make ?? genericView)(spec);
}

/** Width / height of a cell's box, progress strip included. */
function cellAspect(view: ViewSpec): number {
  const [x0, y0, x1, y1] = view.world;
  return (x1 - x0) / ((y1 - y0) * (1 + BAR_STRIP));
}

/** One env's compiled view. */
export interface EnvViewPipeline {
  spec: EnvSpec;
  view: ViewSpec;
  pipeline: GPURenderPipeline;
  params: GPUBuffer;
}

/** Render pipelines of the env views on one device, one per env module text, made once. */
export class EnvViewPipelines {
  readonly layout: GPUBindGroupLayout;
  private readonly pipelineLayout: GPUPipelineLayout;
  private readonly cache = new Map<string, Promise<EnvViewPipeline>>();
  /** Bound where a view has no data or the page knows no actions (storage bindings cannot be empty). */
  readonly placeholder: GPUBuffer;

  constructor(readonly ctx: GpuContext, readonly format: GPUTextureFormat) {
    const { device } = ctx;
    const vertex = GPUShaderStage.VERTEX;
    this.layout = device.createBindGroupLayout({
      label: 'env-view',
      entries: [
        { binding: 0, visibility: vertex, buffer: { type: 'uniform' } },
        { binding: 1, visibility: vertex, buffer: { type: 'read-only-storage' } },
        { binding: 2, visibility: vertex, buffer: { type: 'read-only-storage' } },
        { binding: 3, visibility: vertex, buffer: { type: 'read-only-storage' } },
      ],
    });
    this.pipelineLayout = device.createPipelineLayout({ label: 'env-view', bindGroupLayouts: [this.layout] });
    this.placeholder = device.createBuffer({ label: 'env-view.placeholder', size: 16, usage: GPUBufferUsage.STORAGE });
  }

  /** The view of `spec`, compiled; rejects with one line when its shader does not compile. */
  get(spec: EnvSpec): Promise<EnvViewPipeline> {
    const view = viewSpec(spec);
    const parts = [envModulePart(spec), 'rng', 'env_interface'];
    const code = [shaderCode(this.ctx, parts), viewSource(view.name), viewSource('view')].join('\n');
    const key = `${JSON.stringify(envConstants(spec))}\n${code}`;
    let made = this.cache.get(key);
    if (!made) {
      made = this.make(spec, view, code);
      this.cache.set(key, made);
      made.catch(() => this.cache.delete(key));
    }
    return made;
  }

  private async make(spec: EnvSpec, view: ViewSpec, code: string): Promise<EnvViewPipeline> {
    const { device } = this.ctx;
    const label = `env-view ${spec.id} (${view.name})`;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label, code });
    const constants = envConstants(spec);
    const pipeline = device.createRenderPipeline({
      label,
      layout: this.pipelineLayout,
      vertex: { module, entryPoint: 'viewVertex', constants },
      fragment: {
        module,
        entryPoint: 'viewFragment',
        constants,
        targets: [
          {
            format: this.format,
            blend: { color: { srcFactor: 'src-alpha', dstFactor: 'one-minus-src-alpha' }, alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha' } },
          },
        ],
      },
      primitive: { topology: 'triangle-list' },
      multisample: { count: SAMPLES },
    });
    const error = await device.popErrorScope();
    if (error) {
      const info = await module.getCompilationInfo();
      const first = info.messages.find((m) => m.type === 'error');
      const where = first ? `${first.lineNum}:${first.linePos}: ${first.message}` : error.message;
      throw new Error(`the view of ${spec.id} (demo/views/${view.name}.wgsl) does not compile: ${where.replace(/\s+/g, ' ')}`);
    }
    const data = view.params ?? new Float32Array(4);
    const params = device.createBuffer({ label: `${label}.params`, size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(params, 0, data as Float32Array<ArrayBuffer>);
    return { spec, view, pipeline, params };
  }
}

/** What a view draws: env slots of `spec` (at least numEnvs of them), and optionally each env's last action. */
export interface EnvViewSource {
  pipeline: EnvViewPipeline;
  envs: GPUBuffer;
  numEnvs: number;
  /** [N × D] f32: each env's last action, where the page knows it (a random policy it drives itself). */
  actions?: GPUBuffer | null;
  actionDim?: number;
}

/** Columns and rows for `cells` cells of width/height `aspect` in a width × height canvas that make each cell as large as possible. */
export function gridShape(cells: number, width: number, height: number, aspect: number): [number, number] {
  let best: [number, number] = [1, cells];
  let bestScale = 0;
  for (let cols = 1; cols <= cells; cols++) {
    const rows = Math.ceil(cells / cols);
    const scale = Math.min(width / cols / aspect, height / rows);
    if (scale > bestScale) [best, bestScale] = [[cols, rows], scale];
  }
  return best;
}

export class EnvView {
  private readonly context: GPUCanvasContext;
  private readonly uniform: GPUBuffer;
  private readonly viewData = new ArrayBuffer(VIEW_BYTES);
  private group: GPUBindGroup | null = null;
  private source: EnvViewSource | null = null;
  private msaa: GPUTexture | null = null;
  private shape: [number, number] = [1, 1];
  private shapeKey = '';

  /** `picks` null: the grid (cell i shows env i); otherwise the envs shown side by side, at most 4. */
  constructor(private readonly gpu: EnvViewPipelines, readonly canvas: HTMLCanvasElement, public picks: number[] | null) {
    const context = canvas.getContext('webgpu');
    if (!context) throw new Error('canvas.getContext("webgpu") returned null');
    this.context = context;
    context.configure({ device: gpu.ctx.device, format: gpu.format, alphaMode: 'opaque' });
    this.uniform = gpu.ctx.device.createBuffer({ label: 'env-view.uniform', size: VIEW_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  setSource(source: EnvViewSource | null): void {
    this.source = source;
    this.group = source
      ? this.gpu.ctx.device.createBindGroup({
          label: `env-view ${source.pipeline.spec.id}`,
          layout: this.gpu.layout,
          entries: [
            { binding: 0, resource: { buffer: this.uniform } },
            { binding: 1, resource: { buffer: source.envs } },
            { binding: 2, resource: { buffer: source.pipeline.params } },
            { binding: 3, resource: { buffer: source.actions ?? this.gpu.placeholder } },
          ],
        })
      : null;
    this.shapeKey = '';
  }

  /** How many cells are drawn, and in how many columns (for click → env). */
  get cells(): number {
    if (!this.source) return 0;
    return this.picks ? this.picks.length : Math.min(this.source.numEnvs, MAX_GRID_CELLS);
  }

  /** The env under a click at client coordinates, or null. */
  envAt(clientX: number, clientY: number): number | null {
    const rect = this.canvas.getBoundingClientRect();
    const [cols, rows] = this.shape;
    const col = Math.floor(((clientX - rect.left) / rect.width) * cols);
    const row = Math.floor(((clientY - rect.top) / rect.height) * rows);
    const cell = row * cols + col;
    if (col < 0 || col >= cols || row < 0 || cell >= this.cells) return null;
    return this.picks ? this.picks[cell] : cell;
  }

  /** Encodes one render pass into the canvas's current texture. */
  encode(encoder: GPUCommandEncoder): void {
    this.resize();
    const target = this.context.getCurrentTexture();
    const pass = encoder.beginRenderPass({
      label: 'env-view',
      colorAttachments: [{ view: this.msaa!.createView(), resolveTarget: target.createView(), clearValue: { r: 0.05, g: 0.06, b: 0.08, a: 1 }, loadOp: 'clear', storeOp: 'discard' }],
    });
    const cells = this.cells;
    if (this.group && cells > 0) {
      this.writeUniform(cells);
      pass.setPipeline(this.source!.pipeline.pipeline);
      pass.setBindGroup(0, this.group);
      pass.draw((SKELETON_QUADS + this.source!.pipeline.view.quads) * 6, cells);
    }
    pass.end();
  }

  destroy(): void {
    this.uniform.destroy();
    this.msaa?.destroy();
    this.context.unconfigure();
  }

  private resize() {
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.msaa && this.canvas.width === width && this.canvas.height === height) return;
    this.canvas.width = width;
    this.canvas.height = height;
    this.msaa?.destroy();
    this.msaa = this.gpu.ctx.device.createTexture({ label: 'env-view.msaa', size: [width, height], format: this.gpu.format, sampleCount: SAMPLES, usage: GPUTextureUsage.RENDER_ATTACHMENT });
    this.shapeKey = '';
  }

  private writeUniform(cells: number) {
    const { width, height } = this.canvas;
    const source = this.source!;
    const view = source.pipeline.view;
    const key = `${cells}:${width}:${height}:${view.name}`;
    if (key !== this.shapeKey) {
      this.shape = this.picks ? [cells, 1] : gridShape(cells, width, height, cellAspect(view));
      this.shapeKey = key;
    }
    const f32 = new Float32Array(this.viewData);
    const u32 = new Uint32Array(this.viewData);
    f32[0] = width;
    f32[1] = height;
    u32[2] = this.shape[0];
    u32[3] = this.shape[1];
    for (let i = 0; i < 4; i++) u32[4 + i] = Math.min(this.picks?.[i] ?? 0, source.numEnvs - 1);
    f32.set(view.world, 8);
    u32[12] = this.picks ? 1 : 0;
    u32[13] = source.actions ? 1 : 0;
    u32[14] = source.actionDim ?? 1;
    this.gpu.ctx.device.queue.writeBuffer(this.uniform, 0, this.viewData);
  }
}
