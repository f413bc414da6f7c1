import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { VitePWA } from "vite-plugin-pwa";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { Plugin } from "vite";

/**
 * Write `name.br` and `name.gz` next to every text file in dist, so the server
 * (src/amarktai/api/webfiles.py) sends them precompressed: no work per request, best ratio.
 */
function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "amarktai-precompress",
    apply: "build",
    enforce: "post",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const path = join(dir, name);
          if (statSync(path).isDirectory()) walk(path);
          else if (/\.(js|mjs|css|html|svg|json|webmanifest|txt)$/.test(name) && statSync(path).size >= 1024) {
            const body = readFileSync(path);
            writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
            writeFileSync(`${path}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
          }
        }
      };
      walk(outDir);
    },
  };
}

/** Paths the service worker must never answer from cache or with the app shell. */
const SERVER_ONLY = [/^\/api\//, /^\/ws(\/|$)/, /^\/docs/, /^\/redoc/, /^\/openapi\.json/, /^\/health/, /^\/ready/, /^\/metrics/];

export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      registerType: "autoUpdate",
      injectRegister: false,
      // public/ files (icons, favicon) are precached by globPatterns below.
      includeManifestIcons: false,
      manifest: {
        id: "/",
        name: "Amarktai Network",
        short_name: "Amarktai",
        description: "Self-hosted crypto trading bots: paper and live, with risk controls.",
        start_url: "/",
        scope: "/",
        display: "standalone",
        orientation: "any",
        background_color: "#0b1020",
        theme_color: "#0b1020",
        icons: [
          { src: "icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
          { src: "icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
          { src: "icons/icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      workbox: {
        globPatterns: ["**/*.{js,css,html,svg,png}"],
        navigateFallback: "index.html",
        navigateFallbackDenylist: SERVER_ONLY,
        cleanupOutdatedCaches: true,
        runtimeCaching: [
          { urlPattern: ({ url }) => url.pathname.startsWith("/api/"), handler: "NetworkOnly" },
          { urlPattern: ({ url }) => url.pathname === "/ws" || url.pathname.startsWith("/ws/"), handler: "NetworkOnly" },
        ],
      },
    }),
    precompress(),
  ],
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", changeOrigin: false },
      "/ws": { target: "ws://127.0.0.1:8000", ws: true },
      "/docs": "http://127.0.0.1:8000",
      "/openapi.json": "http://127.0.0.1:8000",
    },
  },
  // No source maps in dist: they would be public (1.9 MB of source), and the server refuses *.map anyway.
  build: { outDir: "dist", sourcemap: false },
});
