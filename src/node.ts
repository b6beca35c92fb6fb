/** Node entry: the library plus Dawn's platform seam (`import { createNodeGpuContext } from 'webgpu-rl/node'`). */
export * from './index.ts';
export { createNodeGpuContext, NO_ADAPTER_HINT } from './platform/node.ts';
