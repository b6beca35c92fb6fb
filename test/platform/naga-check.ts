// Run by test/platform/naga.test.ts under deno (wgpu/naga): compiles each module and pipeline, prints the errors as JSON.
const adapter = await navigator.gpu.requestAdapter();
if (!adapter) { console.log(JSON.stringify({ error: 'no adapter' })); Deno.exit(3); }
const device = await adapter.requestDevice({ requiredLimits: { maxStorageBuffersPerShaderStage: Math.min(10, adapter.limits.maxStorageBuffersPerShaderStage) } });
const dir = Deno.args[0];
const read = (stem: string) => Deno.readTextFileSync(`${dir}/shaders/${stem}.wgsl`);
const modules = JSON.parse(Deno.args[1]) as { label: string; stems: string[]; entryPoints: string[]; constants: Record<string, number> }[];
const results: Record<string, string[]> = {};
for (const m of modules) {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: m.stems.map(read).join('\n') });
  const info = await module.getCompilationInfo();
  const errs = info.messages.filter((x) => x.type === 'error').map((x) => `${x.lineNum}:${x.linePos} ${x.message}`);
  for (const entryPoint of m.entryPoints) {
    device.pushErrorScope('validation');
    device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint, constants: m.constants } });
    const e = await device.popErrorScope();
    if (e) errs.push(`${entryPoint}: ${e.message}`);
  }
  const e = await device.popErrorScope();
  if (e) errs.push(e.message);
  results[m.label] = errs;
}
console.log(JSON.stringify(results));
