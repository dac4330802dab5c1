/**
 * The kernel process's lifecycle over the protocol and with real signals: interrupt (signal
 * and message), shutdown and restart requests, SIGTERM, the parent dying, bad start-up.
 */

import { spawn, spawnSync } from "child_process";
import * as net from "net";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { KernelClient } from "../dist/kernel/client.js";
import { newConnectionInfo, writeConnectionFile } from "../dist/kernel/connection.js";
import { binPath, isAlive, repoRoot, startKernel, stopKernels, tempDir, waitUntil } from "./helpers/kernel";

afterAll(stopKernels, 30_000);

/** Start a cell that waits for a minute, and resolve once it is running (it printed). */
async function startLongCell(kernel: KernelClient) {
  const started = kernel.waitForIopub((m) => m.header.msg_type === "stream" && String(m.content.text).includes("waiting"), 30_000);
  const run = kernel.execute('console.log("waiting"); await new Promise((r) => setTimeout(r, 60_000)); "not interrupted"', { timeoutMs: 30_000 });
  run.catch(() => {}); // observed below; avoid an unhandled rejection if the test fails first
  await started;
  return { run }; // wrapped: returning the promise itself would make the caller await the whole cell
}

function expectInterrupted(content: Record<string, unknown>) {
  expect(content.status).toBe("error");
  expect(content.ename === "AbortError" || /interrupt/i.test(String(content.evalue))).toBe(true);
}

describe("interrupt", { timeout: 60_000 }, () => {
  it("ends an awaiting cell on SIGINT to the process group, and the kernel goes on", async () => {
    const kernel = await startKernel();
    const { run } = await startLongCell(kernel);
    await kernel.interrupt("signal");
    const { reply } = await run;
    expectInterrupted(reply.content);
    const after = await kernel.execute("6 * 7", { timeoutMs: 30_000 });
    expect(after.outputs[0].content.data).toEqual({ "text/plain": "42" });
    expect(kernel.exited).toBe(false);
  });

  it("ends an awaiting cell on interrupt_request, and answers it on control", async () => {
    const kernel = await startKernel();
    const { run } = await startLongCell(kernel);
    const interruptReply = await kernel.request("control", "interrupt_request", {}, 10_000);
    expect(interruptReply.content).toEqual({ status: "ok" });
    expectInterrupted((await run).reply.content);
    expect((await kernel.execute('"still here"', { timeoutMs: 30_000 })).reply.content.status).toBe("ok");
  });
});

describe("shutdown", { timeout: 60_000 }, () => {
  it("replies to shutdown_request, publishes idle, and exits with code 0", async () => {
    const kernel = await startKernel();
    const idle = kernel.waitForIopub((m) => m.header.msg_type === "status" && m.content.execution_state === "idle" && m.parent_header.msg_type === "shutdown_request", 10_000);
    const reply = await kernel.shutdown({ timeoutMs: 10_000 });
    expect(reply.content).toEqual({ status: "ok", restart: false });
    await idle;
    expect(await kernel.waitExit(5000)).toEqual({ code: 0, signal: null });
  });

  it("echoes restart: true and exits (the client starts the new process)", async () => {
    const kernel = await startKernel();
    const reply = await kernel.shutdown({ restart: true, timeoutMs: 10_000 });
    expect(reply.content).toEqual({ status: "ok", restart: true });
    expect((await kernel.waitExit(5000)).code).toBe(0);
  });

  it("shuts down while a cell is running, and the waiting execute fails instead of hanging", async () => {
    const kernel = await startKernel();
    const { run } = await startLongCell(kernel);
    await kernel.shutdown({ timeoutMs: 10_000 });
    await expect(run).rejects.toThrow(/exited with code 0/);
  });

  it("exits with code 0 on SIGTERM, saying why in its own log", async () => {
    const kernel = await startKernel();
    kernel.kill("SIGTERM");
    expect(await kernel.waitExit(10_000)).toEqual({ code: 0, signal: null });
    expect(kernel.log).toContain("received SIGTERM; shutting down");
  });
});

describe("the parent dies", { timeout: 60_000 }, () => {
  /**
   * A stand-in for Jupyter: a process that starts the kernel (own process group, as Jupyter
   * does) and is then SIGKILLed. The kernel must notice and exit by itself.
   */
  async function kernelOrphanedBy(env: NodeJS.ProcessEnv) {
    const info = await newConnectionInfo();
    const file = path.join(tempDir("parent"), "kernel.json");
    writeConnectionFile(file, info);
    const launcher = `
      const { spawn } = require("child_process");
      const env = { ...process.env, ...JSON.parse(process.argv[1]) };
      if (env.JPY_PARENT_PID === "self") env.JPY_PARENT_PID = String(process.pid);
      const k = spawn(process.execPath, [${JSON.stringify(binPath)}, "kernel", "-f", ${JSON.stringify(file)}], { detached: true, stdio: "ignore", env });
      console.log(k.pid);
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ["-e", launcher, JSON.stringify(env)], { stdio: ["ignore", "pipe", "inherit"], cwd: repoRoot });
    const kernelPid = await new Promise<number>((resolve) => parent.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));
    const client = await KernelClient.connect(file);
    try {
      expect((await client.request("shell", "kernel_info_request", {}, 10_000)).content.status).toBe("ok");
      parent.kill("SIGKILL");
      await waitUntil(() => !isAlive(kernelPid), 10_000, "the orphaned kernel to exit");
    } finally {
      await client.close();
      if (isAlive(kernelPid)) process.kill(kernelPid, "SIGKILL");
    }
  }

  it("exits when the process named by JPY_PARENT_PID dies", () => kernelOrphanedBy({ JPY_PARENT_PID: "self" }));

  it("exits when it is re-parented, without JPY_PARENT_PID", () => kernelOrphanedBy({ JPY_PARENT_PID: "" }));
});

describe("start-up errors", { timeout: 30_000 }, () => {
  const kernelCli = (...args: string[]) => spawnSync(process.execPath, [binPath, "kernel", ...args], { encoding: "utf8", timeout: 20_000 });

  it("explains how it is meant to be started when -f is missing", () => {
    const out = kernelCli();
    expect(out.status).toBe(2);
    expect(out.stderr).toContain("usage: nbpool kernel -f CONNECTION_FILE");
  });

  it("names the connection file it cannot read, and the field it cannot use", () => {
    const missing = kernelCli("-f", "/nonexistent/kernel-x.json");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("cannot read the connection file /nonexistent/kernel-x.json");

    const file = path.join(tempDir("conn"), "bad.json");
    writeConnectionFile(file, { transport: "tcp", ip: "127.0.0.1", shell_port: 0 } as never);
    const bad = kernelCli("-f", file);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("shell_port must be a port number");
  });

  it("says which channel it cannot bind when a port is taken", async () => {
    const info = await newConnectionInfo();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(info.control_port, "127.0.0.1", resolve));
    try {
      const file = path.join(tempDir("conn"), "busy.json");
      writeConnectionFile(file, info);
      const out = kernelCli("-f", file);
      expect(out.status).toBe(1);
      expect(out.stderr).toContain(`cannot bind the control channel to tcp://127.0.0.1:${info.control_port}`);
    } finally {
      squatter.close();
    }
  });
});
