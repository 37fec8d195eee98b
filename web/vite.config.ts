import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The web console: built into dist/web (served at / by the embedded exchange and the gateway); its unit and
// component tests run under vitest in jsdom. The Chromium end-to-end test is a jest integration test (e2e/).
export default defineConfig({
  root: __dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: resolve(__dirname, '../dist/web'),
    emptyOutDir: true,
    sourcemap: true,
    // ECharts' line, bar and scatter charts with the canvas renderer are ~200 kB gzipped on their own.
    chunkSizeWarningLimit: 700,
    // ECharts is imported piece by piece (echarts/core); the charts chunk stays separate and cacheable.
    rollupOptions: {
      output: {
        manualChunks: (id) =>
          id.includes('node_modules/echarts') || id.includes('node_modules/zrender') ? 'charts' : undefined,
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    root: __dirname,
  },
});
