/**
 * The browser demo: `npm run demo` serves it, `npm run build:demo` writes a static site to demo-dist/
 * with relative paths (it works from any folder of any static host).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  // The library (src/) and its shaders (shaders/) live beside demo/, outside Vite's root.
  server: { fs: { allow: [projectRoot] } },
  build: {
    outDir: fileURLToPath(new URL('../demo-dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
