// Builds the web app into api/web_dist/ (gitignored), which the API serves at /. The manifest lets
// scripts/check-budget.mjs find what the first page load fetches.
import vue from "@vitejs/plugin-vue";
import {defineConfig} from "vite";

export default defineConfig({
  plugins: [vue()],
  base: "/",
  define: {
    __VUE_OPTIONS_API__: "true",
    __VUE_PROD_DEVTOOLS__: "false",
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
    __VUE_I18N_FULL_INSTALL__: "true",
    __VUE_I18N_LEGACY_API__: "false",
    __INTLIFY_PROD_DEVTOOLS__: "false",
  },
  build: {
    outDir: "../api/web_dist",
    emptyOutDir: true,
    manifest: true,
    // the page's policy allows no inline script: keep even tiny modules as files
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
  },
  server: {proxy: {"/api": "http://127.0.0.1:8000"}},
});
