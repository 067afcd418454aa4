// The console's build: one small bundle of hashed assets in dist/, which the gateway serves
// at `/` (and `/assets/...`, cached for good since their names change with their content).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` against a running `hcp up` (the gateway's default address).
    proxy: { "/v1": { target: "http://127.0.0.1:9478", ws: true } },
  },
});
