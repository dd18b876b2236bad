import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// Builds page/ (pev2 on a bare page) into dist-pev2/ with relative asset paths.
export default defineConfig({
  root: 'page',
  base: './',
  plugins: [vue()],
  build: { outDir: '../dist-pev2', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  logLevel: 'warn',
});
