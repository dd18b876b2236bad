import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The same build is embedded in `dbdeck serve` and loaded by the Tauri shell, so paths are
// relative and nothing is fetched from outside (the page runs under a strict CSP).
// For UI work without rebuilding the Rust binary: run `dbdeck serve`, then
// `DBDECK_DEV_API=http://127.0.0.1:PORT npm run dev` and open the printed page with ?token=….
const devApi = process.env.DBDECK_DEV_API;
const proxy = devApi ? { '/api': { target: devApi, changeOrigin: true } } : undefined;

export default defineConfig({
  base: './',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Inline assets would need `data:` for scripts or fonts; keep everything as files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { port: 5173, strictPort: true, proxy },
  preview: { port: 4173, strictPort: true, proxy },
});
