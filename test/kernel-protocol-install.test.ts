/**
 * `nbpool install`: where the kernelspec goes, what it holds, and that its argv starts a
 * working kernel with nothing on PATH.
 */

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { binPath, startKernel, stopKernels, tempDir } from "./helpers/kernel";

afterAll(stopKernels, 30_000);

function install(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [binPath, "install", ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 20_000 });
}

function readSpec(dir: string) {
  return JSON.parse(fs.readFileSync(path.join(dir, "kernel.json"), "utf8")) as { argv: string[]; display_name: string; language: string; interrupt_mode: string };
}

describe("nbpool install", { timeout: 30_000 }, () => {
  it("--prefix writes DIR/share/jupyter/kernels/nbpool/kernel.json with absolute paths", () => {
    const prefix = tempDir("prefix");
    const out = install(["--prefix", prefix]);
    expect(out.status, out.stderr).toBe(0);
    const dir = path.join(prefix, "share", "jupyter", "kernels", "nbpool");
    expect(out.stdout).toContain(dir);
    const spec = readSpec(dir);
    expect(spec).toMatchObject({ display_name: "TypeScript (nbpool)", language: "typescript", interrupt_mode: "signal" });
    expect(spec.argv).toEqual([process.execPath, fs.realpathSync(binPath), "kernel", "-f", "{connection_file}"]);
    expect(path.isAbsolute(spec.argv[0]) && fs.existsSync(spec.argv[0])).toBe(true);
    expect(fs.existsSync(path.join(dir, "logo-svg.svg"))).toBe(true);
  });

  it("--user honours JUPYTER_DATA_DIR, then XDG_DATA_HOME; it is also the default", () => {
    const dataDir = tempDir("data");
    expect(install(["--user"], { JUPYTER_DATA_DIR: dataDir }).status).toBe(0);
    expect(fs.existsSync(path.join(dataDir, "kernels", "nbpool", "kernel.json"))).toBe(true);

    const xdg = tempDir("xdg");
    expect(install([], { JUPYTER_DATA_DIR: "", XDG_DATA_HOME: xdg }).status).toBe(0);
    expect(fs.existsSync(path.join(xdg, "jupyter", "kernels", "nbpool", "kernel.json"))).toBe(true);
  });

  it("--sys-prefix asks the python3 on PATH for sys.prefix", () => {
    const fakeBin = tempDir("bin");
    const prefix = tempDir("sysprefix");
    fs.writeFileSync(path.join(fakeBin, "python3"), `#!/bin/sh\necho ${prefix}\n`, { mode: 0o755 });
    const out = install(["--sys-prefix"], { PATH: `${fakeBin}:${process.env.PATH}` });
    expect(out.status, out.stderr).toBe(0);
    expect(fs.existsSync(path.join(prefix, "share", "jupyter", "kernels", "nbpool", "kernel.json"))).toBe(true);
  });

  it("refuses unknown or conflicting options with a usage message", () => {
    const both = install(["--user", "--prefix", "/tmp/x"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("give only one of --user, --sys-prefix, --prefix");
    const unknown = install(["--global"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown option --global");
    const noValue = install(["--prefix"]);
    expect(noValue.status).toBe(2);
    expect(noValue.stderr).toContain("--prefix needs a value");
  });

  it("installs an argv that starts a working kernel with an empty PATH, from a directory outside the project", async () => {
    const prefix = tempDir("prefix");
    expect(install(["--prefix", prefix]).status).toBe(0);
    const spec = readSpec(path.join(prefix, "share", "jupyter", "kernels", "nbpool"));
    const kernel = await startKernel({ argv: spec.argv, env: { PATH: "" }, cwd: tempDir("notebook") });
    const info = await kernel.request("shell", "kernel_info_request", {}, 10_000);
    expect(info.content).toMatchObject({ status: "ok", implementation: "nbpool" });
    await kernel.shutdown({ timeoutMs: 10_000 });
  });
});
