import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vue from "@vitejs/plugin-vue";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

// Element Plus components are imported by name where they are used; this adds each one's own
// stylesheet beside the import, so a page's chunk carries only the CSS of its components
// (the whole library's CSS would weigh on the first page).
function elementPlusStyles(): Plugin {
  const components = fileURLToPath(new URL("node_modules/element-plus/es/components", import.meta.url));
  const kebab = (name: string) => name.replace(/^El|^v/, "").replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  return {
    name: "grainlink-element-plus-styles",
    enforce: "post",
    transform(code, id) {
      // Vitest's DOM draws nothing (and Node cannot import a .css from node_modules)
      if (process.env.VITEST) return null;
      if (!/\/src\/.*\.(ts|vue)(\?.*)?$/.test(id) || id.includes("type=style")) return null;
      const styles = new Set<string>();
      for (const m of code.matchAll(/import\s*\{([^}]*)\}\s*from\s*["']element-plus["']/g)) {
        for (const raw of m[1].split(",")) {
          const name = raw.trim().split(/\s+as\s+/)[0];
          if (!name || name.startsWith("type ")) continue;
          const dir = kebab(name);
          if (existsSync(`${components}/${dir}/style/css.mjs`)) styles.add(`element-plus/es/components/${dir}/style/css`);
        }
      }
      if (!styles.size) return null;
      return { code: [...styles].map((s) => `import "${s}";`).join("\n") + "\n" + code, map: null };
    },
  };
}

// The build lands inside the Python package so the wheel carries it (no CDN at run time).
const outDir = fileURLToPath(new URL("../dashboard/static", import.meta.url));

export default defineConfig({
  plugins: [vue(), elementPlusStyles()],
  base: "/",
  // `npx vite`: the pages with hot reload, the API from a running central (grainlink central serve)
  server: { proxy: { "/api": process.env.GRAINLINK_API ?? "http://127.0.0.1:8000" } },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        codeSplitting: {
          groups: [
            // ECharts changes rarely and only later pages draw charts: its own cached chunk
            { name: "echarts", test: /node_modules[\\/](echarts|zrender)[\\/]/, priority: 2 },
            // Everything the first page needs in one file
            { name: "app", tags: ["$initial"], priority: 1 },
          ],
        },
      },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["tests/**/*.spec.ts"],
  },
});
