/**
 * The kernel's engine half (kernel/cells-engine.ts), driven in its own process with the
 * notebook in a temporary directory outside the project (no node_modules): results as MIME
 * bundles, errors as IPython tracebacks, displays, output routed to the cell that made it,
 * is_complete / complete / inspect, type lookup, interrupts of cells that use no pool.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineProcess, streamText, stripAnsi, tracebackText, waitUntil, type Outcome, expectError } from "./helpers/engine-client";

const ROOT = path.resolve(__dirname, "..");
let notebookDir: string;
let engine: EngineProcess;

beforeAll(async () => {
  notebookDir = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-engine-nb-"));
  engine = await EngineProcess.start({ cwd: notebookDir });
}, 60_000);

afterAll(async () => {
  await engine?.kill();
  if (notebookDir) fs.rmSync(notebookDir, { recursive: true, force: true });
});

describe("results", () => {
  it("returns the last expression as text/plain the way Node's inspect prints it", async () => {
    expect((await engine.ok("({ a: 1, list: [1, 2, 3], s: 'str' })")).text).toBe("{ a: 1, list: [ 1, 2, 3 ], s: 'str' }");
    expect((await engine.ok("'a string'")).text).toBe("'a string'");
    expect((await engine.ok("new Map([[1, { deep: { deeper: { deepest: 1 } } }]])")).text).toBe("Map(1) { 1 => { deep: { deeper: [Object] } } }");
  });

  it("has no result for declarations, undefined and null", async () => {
    for (const code of ["const declared = 1;", "undefined", "null", "let a = 1;\na = 2;\nvoid a"]) {
      const { outcome } = await engine.run(code);
      expect(outcome).toEqual({ status: "ok" });
    }
  });

  it("prints a promise made in a cell without the async bookkeeping of its context", async () => {
    const text = (await engine.ok("Promise.resolve(41 + 1)")).text;
    expect(text).toBe("Promise { 42 }");
  });

  it("adds the bundle of a [Symbol.for('Jupyter.display')]() method to the result", async () => {
    const { outcome } = await engine.run(
      "class Fancy { [Symbol.for('Jupyter.display')]() { return { 'text/html': '<i>fancy</i>', 'image/png': new Uint8Array([1, 2, 3]) }; } }\nnew Fancy()",
    );
    expect(outcome).toMatchObject({ status: "ok", result: { data: { "text/plain": "Fancy {}", "text/html": "<i>fancy</i>", "image/png": "AQID" } } });
  });

  it("falls back to text when the display method throws", async () => {
    const { outcome } = await engine.run("({ n: 1, [Symbol.for('Jupyter.display')]() { throw new Error('no'); } })");
    expect(outcome.status).toBe("ok");
    const data = (outcome as { result: { data: Record<string, unknown> } }).result.data;
    expect(Object.keys(data)).toEqual(["text/plain"]);
    expect(data["text/plain"]).toContain("n: 1");
  });
});

describe("errors", () => {
  it("names the class, gives the message, and shows the cell lines oldest frame first", async () => {
    await engine.ok("function check(x: number) {\n  if (x > 2) {\n    throw new RangeError(`bad input ${x}`);\n  }\n  return x;\n}");
    const { outcome } = await engine.run("const fine = check(1);\nconst notFine = check(3);");
    const error = expectError(outcome);
    expect(error.ename).toBe("RangeError");
    expect(error.evalue).toBe("bad input 3");
    const text = tracebackText(error);
    expect(text).toContain("Traceback (most recent call last)");
    const caller = text.indexOf("line 2\n");
    const thrower = text.indexOf(", in check");
    expect(caller).toBeGreaterThan(0);
    expect(thrower).toBeGreaterThan(caller);
    expect(text).toMatch(/----> 2 const notFine = check\(3\);/);
    expect(text).toMatch(/----> 3\s+throw new RangeError\(`bad input \$\{x\}`\);/);
    expect(text.trimEnd().split("\n").pop()).toBe("RangeError: bad input 3");
    expect(error.traceback.join("\n")).toContain("\x1b[0;31m");
  });

  it("shows no tslab, vm or Node internals", async () => {
    const error = expectError((await engine.run("await new Promise((r) => setTimeout(r, 1));\nJSON.parse('{nope')")).outcome);
    expect(error.ename).toBe("SyntaxError");
    const text = tracebackText(error);
    expect(text).not.toMatch(/evalmachine|tslab|node:|executor\.js|cells-engine/);
    expect(text).toMatch(/Cell In\[\d+\], line 2\n.*\n----> 2 JSON\.parse\('\{nope'\)/);
  });

  it("maps lines exactly across type-only lines, comments and imports", async () => {
    const code = [
      "import * as os from 'os';",
      "interface Point {",
      "  x: number;",
      "  y: number;",
      "}",
      "type Pair = [Point, Point];",
      "// a comment",
      "const p: Point = { x: 1, y: os.cpus().length > 0 ? 2 : 3 };",
      "",
      "function boom(pair: Pair): never {",
      "  /* another",
      "     comment */",
      "  throw new TypeError(`boom at ${pair[0].x}`);",
      "}",
      "boom([p, p]);",
    ].join("\n");
    const text = tracebackText(expectError((await engine.run(code)).outcome));
    expect(text).toMatch(/line 15\n(.*\n)*----> 15 boom\(\[p, p\]\);/);
    expect(text).toMatch(/line 13, in boom\n(.*\n)*----> 13\s+throw new TypeError/);
  });

  it("shows the cause first, then 'The above exception was the direct cause'", async () => {
    const error = expectError(
      (await engine.run("function inner() { throw new TypeError('inner failed'); }\ntry { inner(); } catch (e) { throw new Error('outer failed', { cause: e }); }")).outcome,
    );
    expect(error.ename).toBe("Error");
    const text = tracebackText(error);
    const inner = text.indexOf("TypeError: inner failed");
    const joint = text.indexOf("The above exception was the direct cause of the following exception:");
    const outer = text.indexOf("Error: outer failed");
    expect(inner).toBeGreaterThan(0);
    expect(joint).toBeGreaterThan(inner);
    expect(outer).toBeGreaterThan(joint);
  });

  it("reports a thrown non-error value", async () => {
    const error = expectError((await engine.run("throw { code: 7 }")).outcome);
    expect(error.ename).toBe("Uncaught");
    expect(error.evalue).toBe("{ code: 7 }");
  });

  it("turns compile errors into a TSError with the cell line and a caret", async () => {
    const error = expectError((await engine.run("const s = 'abc';\nconst n: number = s.lenght;")).outcome);
    expect(error.ename).toBe("TSError");
    expect(error.evalue).toMatch(/Property 'lenght' does not exist on type '"abc"'.*\(In\[\d+\], line 2\)/);
    const text = tracebackText(error);
    expect(text).toContain("----> 2 const n: number = s.lenght;");
    const lines = text.split("\n");
    const arrow = lines.findIndex((l) => l.startsWith("----> 2"));
    expect(lines[arrow + 1].indexOf("^")).toBe(lines[arrow].indexOf("lenght"));
  });

  it("keeps running cells after errors, with the names of earlier cells", async () => {
    await engine.run("throw new Error('x')");
    expect((await engine.ok("check(2) + 1")).text).toBe("3");
  });
});

describe("output", () => {
  it("sends console output to the cell as stream messages, stdout and stderr apart", async () => {
    const { stdout, stderr } = await engine.ok("console.log('to out', 1);\nconsole.error('to err');\nprocess.stdout.write('raw\\n');");
    expect(stdout).toBe("to out 1\nraw\n");
    expect(stderr).toBe("to err\n");
  });

  it("calls the write callback (writers that wait for it go on)", async () => {
    const { stdout } = await engine.ok("await new Promise<void>((resolve) => process.stdout.write('waited\\n', () => resolve()));");
    expect(stdout).toBe("waited\n");
  });

  it("sends output made after a later cell started to the cell that started the work", async () => {
    // Cell A leaves work behind (a reaction to a promise); cell B, running, triggers it.
    const a = await engine.run("new Promise((resolve) => ((globalThis as any).releaseA = resolve)).then(() => console.log('late output of A'));");
    const b = await engine.run("(globalThis as any).releaseA();\nawait new Promise((r) => setTimeout(r, 100));\nconsole.log('own output of B');");
    expect(b.outcome.status).toBe("ok");
    await waitUntil(() => streamText(a.published, "stdout").includes("late output of A"), 10_000, "A's late output");
    expect(streamText(a.published, "stdout")).toBe("late output of A\n");
    expect(streamText(b.published, "stdout")).toBe("own output of B\n");
  });

  it("shows an exception thrown by a callback in the cell that scheduled it, and the kernel goes on", async () => {
    const exec = engine.start("setTimeout(() => { throw new RangeError('thrown later'); }, 50);\nPromise.reject(new TypeError('nobody caught me'));\n'scheduled'");
    expect((await exec.outcome).status).toBe("ok");
    const both = () => /RangeError.*: thrown later/.test(stripAnsi(streamText(exec.published, "stderr"))) && /TypeError.*: nobody caught me/.test(stripAnsi(streamText(exec.published, "stderr")));
    await waitUntil(both, 10_000, "both stray errors");
    const stderr = stripAnsi(streamText(exec.published, "stderr"));
    expect(stderr).toContain("Uncaught exception");
    expect(stderr).toContain("RangeError: thrown later");
    expect(stderr).toContain("Unhandled promise rejection");
    expect((await engine.ok("1 + 1")).text).toBe("2");
  });

  it("publishes nothing for a silent execution", async () => {
    const { outcome, published } = await engine.run("console.log('quiet?');\n5", { silent: true });
    expect(outcome.status).toBe("ok");
    expect(published).toEqual([]);
  });
});

describe("display", () => {
  it("routes tslab's display API to the cell: display_data, then update_display_data with the same id", async () => {
    const { published } = await engine.ok("import * as tslab from 'tslab';\ntslab.display.html('<b>hi</b>');\nconst d = tslab.newDisplay();\nd.text('one');\nd.text('two');");
    const displays = published.filter((p) => p.msgType !== "stream");
    expect(displays.map((p) => p.msgType)).toEqual(["display_data", "display_data", "update_display_data"]);
    expect(displays[0].content.data).toEqual({ "text/html": "<b>hi</b>" });
    const id = displays[1].content.transient.display_id;
    expect(typeof id).toBe("string");
    expect(displays[2].content).toEqual({ data: { "text/plain": "two" }, metadata: {}, transient: { display_id: id } });
  });

  it("has a typed global display(), as IPython's, honouring Jupyter.display and display ids", async () => {
    const { published } = await engine.ok(
      [
        "class Chart { [Symbol.for('Jupyter.display')]() { return { 'image/svg+xml': '<svg/>', 'text/plain': 'a chart' }; } }",
        "console.log('first');",
        "display(new Chart());",
        "display({ plain: true }, { displayId: 'p-1' });",
        "display([1, 2], { displayId: 'p-1', update: true });",
      ].join("\n"),
    );
    expect(published.map((p) => [p.msgType, p.msgType === "stream" ? p.content.text : p.content.data, p.content.transient])).toEqual([
      ["stream", "first\n", undefined],
      ["display_data", { "image/svg+xml": "<svg/>", "text/plain": "a chart" }, {}],
      ["display_data", { "text/plain": "{ plain: true }" }, { display_id: "p-1" }],
      ["update_display_data", { "text/plain": "[ 1, 2 ]" }, { display_id: "p-1" }],
    ]);
    const error = expectError((await engine.run("display(1, { displayId: 7 });")).outcome);
    expect(error.evalue).toMatch(/Type 'number' is not assignable to type 'string'/);
  });

  it("keeps stream output and displays of a cell in the order they were made", async () => {
    const { published } = await engine.ok("import * as tslab from 'tslab';\nconsole.log('before');\ntslab.display.markdown('*middle*');\nconsole.log('after');");
    expect(published.map((p) => (p.msgType === "stream" ? p.content.text : p.msgType))).toEqual(["before\n", "display_data", "after\n"]);
  });
});

describe("is_complete, complete, inspect", () => {
  it("says complete, incomplete (with an indent) or invalid", async () => {
    expect(await engine.isComplete("const a = 1;")).toEqual({ status: "complete" });
    expect(await engine.isComplete("await Promise.resolve(1)")).toEqual({ status: "complete" });
    expect(await engine.isComplete("function f() {")).toEqual({ status: "incomplete", indent: "  " });
    expect((await engine.isComplete("const s = `line one")).status).toBe("incomplete");
    expect((await engine.isComplete("foo(1,")).status).toBe("incomplete");
    expect(await engine.isComplete("let x = ;")).toEqual({ status: "invalid" });
    expect(await engine.isComplete("}")).toEqual({ status: "invalid" });
    expect(await engine.isComplete("const s = 'unterminated")).toEqual({ status: "invalid" });
  });

  it("completes members and names of earlier cells", async () => {
    await engine.ok("const myLongVariableName = 1;");
    const members = await engine.complete("Math.ma");
    expect(members.matches).toContain("max");
    expect(members).toMatchObject({ cursorStart: 5, cursorEnd: 7 });
    expect((await engine.complete("myLongVar")).matches).toContain("myLongVariableName");
  });

  it("inspects the symbol at the cursor", async () => {
    const found = await engine.inspect("Math.max(1, 2)", 7);
    expect(found.found).toBe(true);
    expect(found.data["text/plain"]).toContain("Math.max(...values: number[]): number");
    expect(await engine.inspect("   ", 1)).toEqual({ found: false, data: {} });
  });
});

describe("type lookup in a notebook directory outside the project", () => {
  it("knows console and process", async () => {
    expect(fs.existsSync(path.join(notebookDir, "node_modules"))).toBe(false);
    expect((await engine.ok("const pid: number = process.pid;\nconsole.log(typeof pid);")).stdout).toBe("number\n");
  });

  it("type-checks and runs `import { Pool } from 'nbpool'` against this package", async () => {
    const { text } = await engine.ok(
      `import { Pool, recommendedWorkers } from "nbpool";\nconst n: number = recommendedWorkers();\nrequire.resolve("nbpool") === ${JSON.stringify(path.join(ROOT, "dist", "pool", "index.js"))} && typeof Pool`,
    );
    expect(text).toBe("'function'");
    // The types are the real declarations, not `any`.
    const error = expectError((await engine.run(`import { Pool } from "nbpool";\nconst p = new Pool({ maxWorkers: "two" });`)).outcome);
    expect(error.ename).toBe("TSError");
    expect(error.evalue).toMatch(/Type 'string' is not assignable to type 'number'/);
  });
});

describe("interrupt (no pool involved)", () => {
  it("ends a cell awaiting forever with an AbortError, and the next cell runs", async () => {
    const exec = engine.start("await new Promise(() => {});");
    await engine.interrupt();
    const error = expectError(await exec.outcome);
    expect(error.ename).toBe("AbortError");
    expect(error.evalue).toMatch(/interrupted/);
    expect((await engine.ok("'after interrupt'")).text).toBe("'after interrupt'");
  });

  it("ends a cell in a synchronous loop on SIGINT", async () => {
    const exec = engine.start("console.log('looping');\nwhile (true) {}");
    await waitUntil(() => streamText(exec.published, "stdout").includes("looping"), 20_000, "the loop to start");
    process.kill(engine.pid, "SIGINT");
    const error = expectError(await exec.outcome);
    expect(error.ename).toBe("AbortError");
    expect((await engine.ok("'alive'")).text).toBe("'alive'");
  });

  it("interrupts when the request's signal is aborted", async () => {
    const exec = engine.start("await new Promise(() => {});");
    await engine.abort(exec);
    expect(expectError(await exec.outcome).ename).toBe("AbortError");
  });
});
