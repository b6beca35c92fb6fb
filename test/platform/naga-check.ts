// Run by test/platform/naga.test.ts under deno (wgpu/naga): compiles each module and pipeline, prints the errors as JSON.
// A module's parts are shader stems (`shaders/<stem>.wgsl`) or {label, code}: WGSL that is no file there (a user's env module).
// `render` asks for a render pipeline (vertex and fragment entry points of the module) instead of compute pipelines.
// `bindings` (a KernelSpec's, src/gpu/kernel.ts) builds the explicit bind group layout createKernel builds, dynamic
// offsets included, and adds its default workgroup_size; without them the layout is 'auto'.
const adapter = await navigator.gpu.requestAdapter();
if (!adapter) { console.log(JSON.stringify({ error: 'no adapter' })); Deno.exit(3); }
const device = await adapter.requestDevice({ requiredLimits: { maxStorageBuffersPerShaderStage: Math.min(10, adapter.limits.maxStorageBuffersPerShaderStage) } });
const dir = Deno.args[0];
type Part = string | { label: string; code: string };
const read = (part: Part) => (typeof part === 'string' ? Deno.readTextFileSync(`${dir}/shaders/${part}.wgsl`) : part.code);
const modules = JSON.parse(Deno.readTextFileSync(Deno.args[1])) as {
  label: string;
  stems: Part[];
  entryPoints: string[];
  constants: Record<string, number>;
  bindings?: (string | null)[];
  render?: { vertex: string; fragment: string };
}[];
const results: Record<string, string[]> = {};
/** createKernel's layout (src/gpu/kernel.ts): group 0, one entry per non-null binding kind. */
function explicitLayout(label: string, bindings: (string | null)[]): GPUPipelineLayout {
  const entries = bindings.flatMap((type, binding) =>
    type === null ? [] : [{ binding, visibility: GPUShaderStage.COMPUTE, buffer: type === 'dynamic-uniform' ? { type: 'uniform' as const, hasDynamicOffset: true } : { type: type as GPUBufferBindingType } }],
  );
  return device.createPipelineLayout({ bindGroupLayouts: [device.createBindGroupLayout({ label, entries })] });
}
for (const m of modules) {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: m.stems.map(read).join('\n') });
  const info = await module.getCompilationInfo();
  const errs = info.messages.filter((x) => x.type === 'error').map((x) => `${x.lineNum}:${x.linePos} ${x.message}`);
  const layout = m.bindings ? explicitLayout(m.label, m.bindings) : 'auto';
  const constants = m.bindings ? { workgroup_size: 64, ...m.constants } : m.constants;
  for (const entryPoint of m.entryPoints) {
    device.pushErrorScope('validation');
    device.createComputePipeline({ layout, compute: { module, entryPoint, constants } });
    const e = await device.popErrorScope();
    if (e) errs.push(`${entryPoint}: ${e.message}`);
  }
  if (m.render) {
    device.pushErrorScope('validation');
    device.createRenderPipeline({
      layout: 'auto',
      vertex: { module, entryPoint: m.render.vertex, constants: m.constants },
      fragment: { module, entryPoint: m.render.fragment, constants: m.constants, targets: [{ format: 'rgba8unorm', blend: { color: { srcFactor: 'src-alpha', dstFactor: 'one-minus-src-alpha' }, alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha' } } }] },
      multisample: { count: 4 },
    });
    const e = await device.popErrorScope();
    if (e) errs.push(`render pipeline: ${e.message}`);
  }
  const e = await device.popErrorScope();
  if (e) errs.push(e.message);
  results[m.label] = errs;
}
console.log(JSON.stringify(results));
