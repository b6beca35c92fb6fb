/** Browser entry: the library plus the navigator.gpu platform seam (bundle with Vite). */
export * from './index.ts';
export { createBrowserGpuContext, NO_WEBGPU_MESSAGE } from './platform/browser.ts';
