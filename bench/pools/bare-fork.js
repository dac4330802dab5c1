"use strict";
// The floor a process pool can reach on this machine: child_process.fork with structured-clone
// IPC and nothing else, with cfg.inflight tasks in flight per worker (1 = no pipelining).
// It is the anchor for nbpool's start-up and shows what pipelining alone is worth.
const path = require("node:path");
const { fork } = require("node:child_process");
const { main } = require("../lib/node-child.js");

const WORKER = path.join(__dirname, "bare-fork-worker.js");

class BareForkPool {
  constructor(workers, inflight) {
    this.inflight = inflight;
    this.queue = [];
    this.nextId = 0;
    this.workers = Array.from({ length: workers }, () => this.spawn());
  }

  spawn() {
    const child = fork(WORKER, [], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const worker = { child, running: new Map() };
    child.on("message", ({ id, result }) => {
      const task = worker.running.get(id);
      worker.running.delete(id);
      task.resolve(result);
      this.pump();
    });
    // No hangs: a dead worker fails what it was running.
    child.on("exit", (code, signal) => {
      for (const task of worker.running.values()) task.reject(new Error(`bare fork worker exited (${code ?? signal})`));
      worker.running.clear();
    });
    return worker;
  }

  run(op, arg) {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, op, arg, resolve, reject });
      this.pump();
    });
  }

  /** Hand queued tasks to the least busy workers that have room. */
  pump() {
    while (this.queue.length > 0) {
      let best;
      for (const w of this.workers) if (!best || w.running.size < best.running.size) best = w;
      if (best.running.size >= this.inflight) return;
      const task = this.queue.shift();
      best.running.set(task.id, task);
      best.child.send({ id: task.id, op: task.op, arg: task.arg });
    }
  }

  async close() {
    await Promise.all(
      this.workers.map(({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        return new Promise((resolve) => {
          child.once("exit", resolve);
          child.disconnect();
        });
      }),
    );
  }
}

main({
  load() {},
  start(cfg) {
    return new BareForkPool(cfg.workers, cfg.inflight);
  },
});
