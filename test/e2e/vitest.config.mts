import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The browser test alone (npm run test:e2e). Its files end in .e2e.ts, so the main suite's
// pattern (test/**/*.test.ts) never picks them up.
export default defineConfig({
  root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", ".."),
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // The built package is loaded by Node itself, as users load it (not transformed by Vite).
    server: { deps: { external: [/\/dist\//] } },
    reporters: ["default"],
  },
});
