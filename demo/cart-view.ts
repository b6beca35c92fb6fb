/**
 * Draws CartPoles from the trainer's env buffer with a WebGPU render pipeline (demo/cartpole-view.wgsl):
 * the buffer is bound read-only to the vertex stage, so drawing never reads anything back. One
 * pipeline per device; each canvas (the grid, the detail strip) is a CartView with its own uniform.
 */
import type { CartPoleParams } from '../src/browser.ts';
import shaderCode from './cartpole-view.wgsl?raw';

const QUADS_PER_CART = 10;
const VIEW_BYTES = 64;
/** Drawn cells are capped: beyond this many the grid shows the first ones (cells would be < 1 px tall anyway). */
export const MAX_GRID_CELLS = 4096;
const SAMPLES = 4;
/** Width / height of the world box one cell shows (x in ±2.75, y in [-0.42, 1.22]), as in the shader. */
const CELL_ASPECT = 5.5 / 1.64;

export interface CartSource {
  envs: GPUBuffer;
  numEnvs: number;
  params: CartPoleParams;
}

export class CartPipeline {
  readonly layout: GPUBindGroupLayout;
  readonly pipeline: GPURenderPipeline;

  constructor(readonly device: GPUDevice, readonly format: GPUTextureFormat) {
    const module = device.createShaderModule({ label: 'cartpole-view', code: shaderCode });
    this.layout = device.createBindGroupLayout({
      label: 'cartpole-view',
      entries: [
        { binding: 0, visibility: GPUShaderStage.VERTEX, buffer: { type: 'uniform' } },
        { binding: 1, visibility: GPUShaderStage.VERTEX, buffer: { type: 'read-only-storage' } },
      ],
    });
    this.pipeline = device.createRenderPipeline({
      label: 'cartpole-view',
      layout: device.createPipelineLayout({ bindGroupLayouts: [this.layout] }),
      vertex: { module, entryPoint: 'cartpoleVertex' },
      fragment: { module, entryPoint: 'cartpoleFragment', targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
      multisample: { count: SAMPLES },
    });
  }
}

/** Columns and rows for `cells` cells in a width × height canvas that make each cell as large as possible. */
export function gridShape(cells: number, width: number, height: number): [number, number] {
  let best: [number, number] = [1, cells];
  let bestScale = 0;
  for (let cols = 1; cols <= cells; cols++) {
    const rows = Math.ceil(cells / cols);
    const scale = Math.min(width / cols / CELL_ASPECT, height / rows);
    if (scale > bestScale) [best, bestScale] = [[cols, rows], scale];
  }
  return best;
}

export class CartView {
  private readonly context: GPUCanvasContext;
  private readonly uniform: GPUBuffer;
  private readonly viewData = new ArrayBuffer(VIEW_BYTES);
  private group: GPUBindGroup | null = null;
  private source: CartSource | null = null;
  private msaa: GPUTexture | null = null;
  private shape: [number, number] = [1, 1];
  private shapeKey = '';

  /** `picks` null: the grid (cell i shows env i); otherwise the envs shown side by side, at most 4. */
  constructor(private readonly gpu: CartPipeline, readonly canvas: HTMLCanvasElement, public picks: number[] | null) {
    const context = canvas.getContext('webgpu');
    if (!context) throw new Error('canvas.getContext("webgpu") returned null');
    this.context = context;
    context.configure({ device: gpu.device, format: gpu.format, alphaMode: 'opaque' });
    this.uniform = gpu.device.createBuffer({ label: 'cartpole-view.uniform', size: VIEW_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  setSource(source: CartSource | null): void {
    this.source = source;
    this.group = source
      ? this.gpu.device.createBindGroup({
          label: 'cartpole-view',
          layout: this.gpu.layout,
          entries: [
            { binding: 0, resource: { buffer: this.uniform } },
            { binding: 1, resource: { buffer: source.envs } },
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

  get columns(): number {
    return this.shape[0];
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
      label: 'cartpole-view',
      colorAttachments: [{ view: this.msaa!.createView(), resolveTarget: target.createView(), clearValue: { r: 0.05, g: 0.06, b: 0.08, a: 1 }, loadOp: 'clear', storeOp: 'discard' }],
    });
    const cells = this.cells;
    if (this.group && cells > 0) {
      this.writeUniform(cells);
      pass.setPipeline(this.gpu.pipeline);
      pass.setBindGroup(0, this.group);
      pass.draw(QUADS_PER_CART * 6, cells);
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
    this.msaa = this.gpu.device.createTexture({ label: 'cartpole-view.msaa', size: [width, height], format: this.gpu.format, sampleCount: SAMPLES, usage: GPUTextureUsage.RENDER_ATTACHMENT });
    this.shapeKey = '';
  }

  private writeUniform(cells: number) {
    const { width, height } = this.canvas;
    const key = `${cells}:${width}:${height}`;
    if (key !== this.shapeKey) {
      this.shape = this.picks ? [cells, 1] : gridShape(cells, width, height);
      this.shapeKey = key;
    }
    const p = this.source!.params;
    const f32 = new Float32Array(this.viewData);
    const u32 = new Uint32Array(this.viewData);
    f32[0] = width;
    f32[1] = height;
    u32[2] = this.shape[0];
    u32[3] = this.shape[1];
    for (let i = 0; i < 4; i++) u32[4 + i] = Math.min(this.picks?.[i] ?? 0, this.source!.numEnvs - 1);
    u32[8] = this.picks ? 1 : 0;
    f32[9] = p.maxEpisodeSteps;
    f32[10] = p.xThreshold;
    f32[11] = p.thetaThresholdRadians;
    f32[12] = p.length;
    this.gpu.device.queue.writeBuffer(this.uniform, 0, this.viewData);
  }
}
