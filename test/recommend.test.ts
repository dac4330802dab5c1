// recommendedWorkers follows the rule in DESIGN.md; the machine's facts are injected.
import { describe, expect, it } from "vitest";
import { recommendedWorkers } from "nbpool";
// Parsers are internal; test them on the files they read.
import { parseCpuQuota, parsePhysicalCores } from "../dist/pool/recommend.js";

const box = { logicalCpus: 16, physicalCores: 8, cpuQuota: undefined, memoryMb: 64 * 1024 };

describe("recommendedWorkers", () => {
  it("uses physical cores for CPU-bound work, 1.5x for light I/O, 2x for heavy I/O", () => {
    expect(recommendedWorkers({ facts: box })).toBe(8);
    expect(recommendedWorkers({ kind: "cpu", facts: box })).toBe(8);
    expect(recommendedWorkers({ kind: "io-light", facts: box })).toBe(12);
    expect(recommendedWorkers({ kind: "io-heavy", facts: box })).toBe(16);
  });

  it("falls back to logical CPUs when physical cores are unknown", () => {
    expect(recommendedWorkers({ facts: { ...box, physicalCores: undefined } })).toBe(16);
  });

  it("is capped by the container's CPU quota", () => {
    const container = { ...box, cpuQuota: 2.5 };
    expect(recommendedWorkers({ facts: container })).toBe(2);
    expect(recommendedWorkers({ kind: "io-heavy", facts: container })).toBe(4);
    expect(recommendedWorkers({ facts: { ...box, cpuQuota: 0.5 } })).toBe(1);
  });

  it("is capped by memory: 0.9 x memory / memory per task", () => {
    expect(recommendedWorkers({ taskMemoryMb: 10_000, facts: box })).toBe(5); // 0.9 * 65536 / 10000 = 5.9
    expect(recommendedWorkers({ taskMemoryMb: 1_000_000, facts: box })).toBe(1);
    expect(recommendedWorkers({ taskMemoryMb: 100, facts: box })).toBe(8);
  });

  it("explains how it got there", () => {
    const why = recommendedWorkers.explain({ kind: "io-light", taskMemoryMb: 20_000, facts: { ...box, cpuQuota: 4 } });
    expect(why.workers).toBe(2);
    expect(why.steps.join("\n")).toMatch(/8 physical cores \(16 logical CPUs\)/);
    expect(why.steps.join("\n")).toMatch(/CPU quota allows 4 CPUs/);
    expect(why.steps.join("\n")).toMatch(/io-light: 1.5 x 4 cores = 6/);
    expect(why.steps.join("\n")).toMatch(/memory: 0.9 x 65536 MB \/ 20000 MB per task fits 2/);
  });

  it("refuses a kind it does not know", () => {
    expect(() => recommendedWorkers({ kind: "gpu" as never })).toThrow(/kind must be "cpu", "io-light" or "io-heavy"/);
  });

  it("reads this machine without failing", () => {
    const why = recommendedWorkers.explain();
    expect(why.workers).toBeGreaterThanOrEqual(1);
    expect(why.facts.logicalCpus).toBeGreaterThanOrEqual(1);
  });
});

describe("machine facts", () => {
  it("counts physical cores, not hyperthreads, from /proc/cpuinfo", () => {
    const cpu = (p: number, c: number) => `processor\t: 0\nphysical id\t: ${p}\ncore id\t\t: ${c}\n`;
    // 2 sockets x 2 cores x 2 threads
    const info = [cpu(0, 0), cpu(0, 0), cpu(0, 1), cpu(0, 1), cpu(1, 0), cpu(1, 0), cpu(1, 1), cpu(1, 1)].join("\n");
    expect(parsePhysicalCores(info)).toBe(4);
    expect(parsePhysicalCores("processor\t: 0\nmodel name\t: ARM\n")).toBeUndefined();
  });

  it("reads cgroup v2 cpu.max and v1 cfs quota", () => {
    expect(parseCpuQuota("max 100000\n")).toBeUndefined();
    expect(parseCpuQuota("150000 100000\n")).toBe(1.5);
    expect(parseCpuQuota(undefined, "-1", "100000")).toBeUndefined();
    expect(parseCpuQuota(undefined, "200000", "100000")).toBe(2);
  });
});
