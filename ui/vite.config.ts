import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// Tauri serves the bundle from the tauri:// origin, so every asset URL must be
// relative (base './'). The dev server port is fixed so tauri.conf.json's
// devUrl can point at it.
export default defineConfig({
  base: './',
  // svelteTesting only acts under Vitest: browser build of Svelte + DOM cleanup.
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2021',
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
