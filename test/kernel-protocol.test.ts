/**
 * The kernel's Jupyter protocol, driven over real zeromq sockets by our own client: replies,
 * iopub order and parents, execution counts, errors, the queue after an error, signatures.
 */

import * as fs from "fs";
import * as path from "path";
import * as zmq from "zeromq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KernelClient } from "../dist/kernel/client.js";
import { endpoint } from "../dist/kernel/connection.js";
import { Session, Signer, decode, type Message } from "../dist/kernel/wire.js";
import { startKernel, stopKernels, tempDir, waitUntil } from "./helpers/kernel";

let kernel: KernelClient;

beforeAll(async () => {
  kernel = await startKernel();
}, 60_000);

afterAll(stopKernels, 30_000);

const types = (messages: Message[]) => messages.map((m) => m.header.msg_type);

describe("requests and replies", { timeout: 30_000 }, () => {
  it("answers kernel_info with status ok and TypeScript language_info, between busy and idle", async () => {
    const seen: Message[] = [];
    const stop = kernel.onIopub((m) => seen.push(m));
    const reply = await kernel.request("shell", "kernel_info_request", {}, 10_000);
    const parentId = reply.parent_header.msg_id;
    await waitUntil(() => seen.some((m) => m.parent_header.msg_id === parentId && m.content.execution_state === "idle"), 10_000, "idle");
    stop();
    expect(reply.header.msg_type).toBe("kernel_info_reply");
    expect(reply.content).toMatchObject({ status: "ok", protocol_version: "5.3", implementation: "nbpool" });
    expect(reply.content.language_info).toMatchObject({ name: "typescript", file_extension: ".ts", mimetype: "text/typescript" });
    const mine = seen.filter((m) => m.parent_header.msg_id === reply.parent_header.msg_id);
    expect(mine.map((m) => m.content.execution_state)).toEqual(["busy", "idle"]);
    expect(mine[0].header.session).toBe(reply.header.session);
  }, 20_000);

  it("answers history with an empty history and comm_info with no comms", async () => {
    const history = await kernel.request("shell", "history_request", { output: false, raw: true, hist_access_type: "tail", n: 10 }, 10_000);
    expect(history.content).toEqual({ status: "ok", history: [] });
    const comms = await kernel.request("shell", "comm_info_request", { target_name: "jupyter.widget" }, 10_000);
    expect(comms.header.msg_type).toBe("comm_info_reply");
    expect(comms.content).toEqual({ status: "ok", comms: {} });
  });

  it("answers kernel_info on control too, and closes comms it has no target for", async () => {
    const reply = await kernel.request("control", "kernel_info_request", {}, 10_000);
    expect(reply.content.status).toBe("ok");
    const closed = kernel.waitForIopub((m) => m.header.msg_type === "comm_close" && m.content.comm_id === "c-1", 10_000);
    await kernel.sendFrames("shell", kernel.session.encode(kernel.session.message("comm_open", { comm_id: "c-1", target_name: "nope", data: {} })));
    expect((await closed).content).toEqual({ comm_id: "c-1", data: {} });
  });

  it("answers is_complete, complete and inspect with well-formed replies", async () => {
    const complete = await kernel.request("shell", "is_complete_request", { code: "const a = 1;" }, 10_000);
    expect(complete.content.status).toBe("complete");
    const incomplete = await kernel.request("shell", "is_complete_request", { code: "function f() {" }, 10_000);
    expect(incomplete.content.status).toBe("incomplete");
    expect(typeof incomplete.content.indent).toBe("string");
    const matches = await kernel.request("shell", "complete_request", { code: "Math.ab", cursor_pos: 7 }, 10_000);
    expect(matches.content).toMatchObject({ status: "ok", matches: expect.arrayContaining(["abs"]), cursor_start: 5, cursor_end: 7 });
    const inspected = await kernel.request("shell", "inspect_request", { code: "Math", cursor_pos: 4, detail_level: 0 }, 10_000);
    expect(inspected.content).toMatchObject({ status: "ok", found: true, metadata: {} });
    expect(Object.keys(inspected.content.data as object)).toContain("text/plain");
  });

  it("says invalid for code that no continuation can fix", async () => {
    const reply = await kernel.request("shell", "is_complete_request", { code: "let 1x = 2;" }, 10_000);
    expect(reply.content.status).toBe("invalid");
  });

  it("echoes heartbeats", async () => {
    const hb = new zmq.Request({ linger: 0, receiveTimeout: 10_000 });
    hb.connect(endpoint(kernel.connection, "hb"));
    try {
      await hb.send("ping");
      const [echo] = await hb.receive();
      expect(echo.toString()).toBe("ping");
    } finally {
      hb.close();
    }
  });
});

describe("execute", { timeout: 30_000 }, () => {
  it("publishes busy, execute_input, output, execute_result, idle with the request as parent, and counts", async () => {
    const first = await kernel.execute('console.log("hello, world"); 40 + 2', { timeoutMs: 30_000 });
    const count = first.reply.content.execution_count as number;
    expect(first.reply.content).toMatchObject({ status: "ok", execution_count: count, user_expressions: {} });
    expect(types(first.messages)).toEqual(["status", "execute_input", "stream", "execute_result", "status"]);
    expect(first.messages[0].content.execution_state).toBe("busy");
    expect(first.messages[1].content).toEqual({ code: 'console.log("hello, world"); 40 + 2', execution_count: count });
    expect(first.stdout).toBe("hello, world\n");
    expect(first.outputs[1].content).toMatchObject({ execution_count: count, data: { "text/plain": "42" }, metadata: {} });

    const second = await kernel.execute("1", { timeoutMs: 30_000 });
    expect(second.reply.content.execution_count).toBe(count + 1);
  });

  it("does not count or echo silent and unstored executions", async () => {
    const before = (await kernel.execute("0", { timeoutMs: 30_000 })).reply.content.execution_count as number;
    const silent = await kernel.execute("7", { silent: true, timeoutMs: 30_000 });
    expect(types(silent.messages)).toEqual(["status", "status"]);
    const unstored = await kernel.execute("8", { storeHistory: false, timeoutMs: 30_000 });
    expect(unstored.reply.content.execution_count).toBe(before);
    const after = await kernel.execute("9", { timeoutMs: 30_000 });
    expect(after.reply.content.execution_count).toBe(before + 1);
  });

  it("reports an error as an error message and an error reply, keeping the class name", async () => {
    const run = await kernel.execute('throw new RangeError("out of range: 7")', { timeoutMs: 30_000 });
    expect(run.reply.content).toMatchObject({ status: "error", ename: "RangeError", evalue: "out of range: 7" });
    expect(run.outputs.map((m) => m.header.msg_type)).toEqual(["error"]);
    const error = run.outputs[0].content;
    expect(error).toMatchObject({ ename: "RangeError", evalue: "out of range: 7" });
    expect(Array.isArray(error.traceback) && (error.traceback as unknown[]).every((l) => typeof l === "string")).toBe(true);
    const after = await kernel.execute("2 * 3", { timeoutMs: 30_000 });
    expect(after.reply.content.status).toBe("ok");
  });

  it("shows rich displays as display_data for the cell", async () => {
    const run = await kernel.execute('import * as tslab from "tslab";\ntslab.display.html("<b>bold</b>")', { timeoutMs: 30_000 });
    expect(run.reply.content.status).toBe("ok");
    const display = run.outputs.find((m) => m.header.msg_type === "display_data");
    expect(display?.content).toMatchObject({ data: { "text/html": "<b>bold</b>" }, metadata: {} });
  });

  it("publishes output that arrives after the cell finished with that cell as parent", async () => {
    const first = await kernel.execute('setTimeout(() => console.log("late from the first cell"), 500); "scheduled"', { timeoutMs: 30_000 });
    const late = kernel.waitForIopub((m) => m.header.msg_type === "stream" && String(m.content.text).includes("late from the first cell"), 20_000);
    const second = kernel.execute("await new Promise((r) => setTimeout(r, 1500)); 2", { timeoutMs: 30_000 });
    expect((await late).parent_header.msg_id).toBe(first.reply.parent_header.msg_id);
    expect((await second).stdout).not.toContain("late from the first cell");
  });
});

describe("the queue after an error", { timeout: 30_000 }, () => {
  /**
   * A fails once the test has made sure B and C are queued behind it. Then B (stop_on_error)
   * is answered "abort" and never runs, C (stop_on_error: false) runs, and D, sent after A's
   * reply, runs normally: no time window.
   */
  async function checkAbortRule(waitInA: (flag: string) => string, queuedBeforeFlag: () => Promise<void>) {
    const flag = path.join(tempDir("abort"), "go");
    const a = kernel.execute(`import * as fs from "fs";\n${waitInA(flag)}\nthrow new Error("A failed");`, { timeoutMs: 60_000 });
    const b = kernel.execute('(globalThis as any).ranB = true; "B ran"', { timeoutMs: 60_000 });
    const c = kernel.execute('"C ran"', { stopOnError: false, timeoutMs: 60_000 });
    await queuedBeforeFlag();
    fs.writeFileSync(flag, "");
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    const d = await kernel.execute("[(globalThis as any).ranB, 'D ran']", { timeoutMs: 60_000 });
    expect(ra.reply.content).toMatchObject({ status: "error", evalue: "A failed" });
    expect(rb.reply.content.status).toBe("abort");
    expect(types(rb.messages)).toEqual(["status", "status"]);
    expect(rc.reply.content.status).toBe("ok");
    expect(rc.outputs[0].content.data).toEqual({ "text/plain": "'C ran'" });
    expect(d.reply.content.status).toBe("ok");
    expect(d.outputs[0].content.data).toEqual({ "text/plain": "[ undefined, 'D ran' ]" });
    const countA = ra.reply.content.execution_count as number;
    expect([rc.reply.content.execution_count, d.reply.content.execution_count]).toEqual([countA + 1, countA + 2]);
  }

  it("aborts only the stop_on_error requests queued while an awaiting cell ran", async () => {
    await checkAbortRule(
      (flag) => `while (!fs.existsSync(${JSON.stringify(flag)})) await new Promise((r) => setTimeout(r, 10));`,
      // A control round trip: B and C went out on shell before it.
      async () => void (await kernel.request("control", "kernel_info_request", {}, 10_000)),
    );
  }, 90_000);

  it("aborts the requests that waited in the socket while a cell blocked the event loop", async () => {
    let inputs = 0;
    const stop = kernel.onIopub((m) => void (m.header.msg_type === "execute_input" && inputs++));
    await checkAbortRule(
      (flag) => `while (!fs.existsSync(${JSON.stringify(flag)})) {}`,
      async () => {
        await waitUntil(() => inputs >= 1, 30_000, "A to start");
        // B and C were sent before A started; give loopback TCP a moment to deliver them.
        await new Promise((r) => setTimeout(r, 300));
      },
    );
    stop();
  }, 90_000);
});

describe("signatures", { timeout: 30_000 }, () => {
  it("drops a message with a bad, missing or replayed signature, logs it locally, and tells iopub nothing", async () => {
    const wrongKey = new Session(new Signer("not the key"));
    const unsigned = new Session(new Signer(""));
    const iopub: Message[] = [];
    const stop = kernel.onIopub((m) => iopub.push(m));
    const once = kernel.session.message("execute_request", { code: '"first and only time"', silent: false });
    expect((await kernel.send("shell", once, 30_000)).content.status).toBe("ok");
    await waitUntil(() => iopub.some((m) => m.parent_header.msg_id === once.header.msg_id && m.content.execution_state === "idle"), 10_000, "idle");
    iopub.length = 0;
    const forged = [
      wrongKey.encode(wrongKey.message("execute_request", { code: '"forged"', silent: false })),
      unsigned.encode(unsigned.message("execute_request", { code: '"unsigned"', silent: false })),
      kernel.session.encode(once), // the same bytes again: a replay
    ];

    // Forged frames, then a good request, on one connection: replies come back in order.
    const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 10_000 });
    dealer.connect(endpoint(kernel.connection, "shell"));
    try {
      for (const frames of forged) await dealer.send(frames);
      const good = kernel.session.message("kernel_info_request", {});
      await dealer.send(kernel.session.encode(good));
      const firstReply = decode(await dealer.receive(), kernel.session.signer);
      await waitUntil(() => iopub.some((m) => m.parent_header.msg_id === good.header.msg_id && m.content.execution_state === "idle"), 10_000, "idle");

      expect(firstReply.parent_header.msg_id).toBe(good.header.msg_id);
      expect(iopub.map((m) => m.parent_header.msg_id)).toEqual([good.header.msg_id, good.header.msg_id]);
    } finally {
      stop();
      dealer.close();
    }
    await waitUntil(
      () => ["bad signature", "missing signature", "replayed signature"].every((reason) => kernel.log.includes(`dropped a message on shell: ${reason}`)),
      10_000,
      "the kernel to log the dropped messages",
    );
  }, 60_000);

  it("drops malformed frames without replying and keeps serving", async () => {
    const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 10_000 });
    dealer.connect(endpoint(kernel.connection, "shell"));
    try {
      await dealer.send([Buffer.from("no delimiter here")]);
      await dealer.send([Buffer.from("<IDS|MSG>"), Buffer.from("sig")]);
      const good = kernel.session.message("kernel_info_request", {});
      await dealer.send(kernel.session.encode(good));
      expect(decode(await dealer.receive(), kernel.session.signer).parent_header.msg_id).toBe(good.header.msg_id);
    } finally {
      dealer.close();
    }
    await waitUntil(() => kernel.log.includes("no <IDS|MSG> delimiter") && kernel.log.includes("too few frames"), 10_000, "the kernel to log the malformed messages");
  }, 30_000);
});
