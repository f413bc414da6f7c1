import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { VitePWA } from "vite-plugin-pwa";

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
  ],
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", changeOrigin: false },
      "/ws": { target: "ws://127.0.0.1:8000", ws: true },
      "/docs": "http://127.0.0.1:8000",
      "/openapi.json": "http://127.0.0.1:8000",
    },
  },
  build: { outDir: "dist", sourcemap: true },
});
