import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// Served by identdesk-server at `/`; `npm run dev` proxies the API to a local server.
export default defineConfig({
  plugins: [preact()],
  server: { proxy: { "/api": "http://127.0.0.1:8080" } },
  build: { outDir: "dist", emptyOutDir: true },
});
