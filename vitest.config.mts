import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests start real processes and kernels; on a busy 2-core machine that takes seconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The built package is loaded by Node itself, as users load it (not transformed by Vite).
    server: { deps: { external: [/\/dist\//] } },
    // Skipped suites say why in their name; show them.
    reporters: ["default"],
  },
});
