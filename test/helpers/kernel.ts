/**
 * Shared by the kernel test suites: where things are, starting kernels that are always cleaned
 * up, waiting for conditions with a bound, and whether Debian's Jupyter packages are present.
 */

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KernelClient, type StartOptions } from "../../dist/kernel/client.js";

export const repoRoot = path.resolve(__dirname, "..", "..");
export const binPath = path.join(repoRoot, "bin", "nbpool.js");
export const helpersDir = __dirname;

const started = new Set<KernelClient>();

/** Start a kernel (cwd: the repo root unless given); stopKernels() ends every one still running. */
export async function startKernel(options: StartOptions = {}): Promise<KernelClient> {
  const client = await KernelClient.start({ cwd: repoRoot, ...options });
  started.add(client);
  return client;
}

export async function stopKernels(): Promise<void> {
  await Promise.all([...started].map((c) => c.close({ graceful: false })));
  started.clear();
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `nbpool-${prefix}-`));
}

/** Whether a process runs. A zombie (exited, not yet reaped: common for orphans in containers) does not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Poll until `condition` holds; fail with `what` after `timeoutMs`. A bound, not a speed claim. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const SYSTEM_PYTHON = "/usr/bin/python3";

/**
 * Whether Debian's Jupyter Python packages can be used, and if not, why (shown as the skip
 * reason). Install: apt-get install python3-jupyter-client python3-nbclient python3-nbformat
 * python3-jupyter-kernel-test.
 */
export function jupyterPython(): { ok: true } | { ok: false; reason: string } {
  if (!fs.existsSync(SYSTEM_PYTHON)) return { ok: false, reason: `${SYSTEM_PYTHON} is missing` };
  try {
    execFileSync(SYSTEM_PYTHON, ["-c", "import jupyter_client, nbclient, nbformat, jupyter_kernel_test"], { stdio: "pipe", timeout: 30_000 });
    return { ok: true };
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim().split("\n").pop();
    return {
      ok: false,
      reason: `${stderr || "python import failed"}; install python3-jupyter-client python3-nbclient python3-nbformat python3-jupyter-kernel-test`,
    };
  }
}
