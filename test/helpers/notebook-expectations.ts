/**
 * What each teaching notebook must show when it runs: the outputs that carry its lesson.
 * Shared by the runner and nbclient suites. Numbers are measured live, so the patterns
 * check that a number is there and what it says, never its value.
 */
import { expect } from "vitest";
import { cellText, codeCells, isTagged, joined, type SavedCell, type SavedNotebook } from "./run-notebook";

export const NOTEBOOKS = [
  "01-first-parallel-map.ipynb",
  "02-errors-from-workers.ipynb",
  "03-deadlock-safe-patterns.ipynb",
  "04-initializers.ipynb",
  "05-how-many-workers.ipynb",
  "06-memory.ipynb",
];

const RAISES = "raises-exception";

/** Text patterns that must appear in the notebook's outputs (streams, text/plain, errors). */
const KEY_OUTPUTS: Record<string, RegExp[]> = {
  "01-first-parallel-map.ipynb": [
    /recommended workers: \d+/,
    /plain loop: \d+ ms for 16 calls/,
    /pool\.map: +\d+ ms on \d+ workers \(same results: true\)/,
    /speedup: +\d+\.\d\dx, \d+% of the ideal \d+x/,
    /nbpool timeline · map #\d+ · 16 tasks, 16 items/,
    /Promise\.all: \d+ ms \(the plain loop took \d+ ms\)/,
    /workers alive after shutdown: 0/,
  ],
  "02-errors-from-workers.ipynb": [
    /RangeError: not an age: "eighty"/,
    /item 2 \(input 'grace:eighty'\) failed in worker \d+/,
    /instanceof RemoteError: true, name: ImportFailed, batch: 7/,
    /ImportFailed: batch 7 could not be imported\n  caused by RangeError: not an age: "eighty"/,
    /skipped 'grace:eighty': not an age/,
    /skipped 'barbara:-1': not an age/,
    /imported: ada, alan, edsger/,
    /TaskTimeoutError: task did not finish within 300 ms; its worker was killed and replaced/,
    /WorkerCrashedError: exited with code 3/,
    /WorkerCrashedError: ran out of memory \(heap limit 64 MB\)/,
    /\[ 1, 4, 9, 16 \]/,
    /timed out 1, crashed 1/,
  ],
  "03-deadlock-safe-patterns.ipynb": [
    /WorkerCrashedError: worker \d+ \(pid \d+\) was killed by SIGKILL while running the task/,
    /the others: 50 ms ok, 100 ms ok, 150 ms ok, 200 ms ok/,
    /TaskTimeoutError after \d+ ms: task did not finish within 300 ms/,
    /AbortError after \d+ ms: map was aborted/,
    /workers that ran the spins still running: 0; the pool has 2 new ones/,
    /nbpool timeline · map #\d+ · 4 tasks, 4 items · \d+ ms\n  outcomes: cancelled 4/,
    /CaptureError: cannot send `doubleAll` to a worker: `pool` is a Pool/,
    /\[ 2, 4, 6 \]/,
    /shut down the pool previously bound to `scratch` \(2 workers\)/,
    /first pool's workers still running: 0 of 2/,
    /caught: something went wrong/,
    /job's workers still running: 0/,
  ],
  "04-initializers.ipynb": [
    /building the sieve once, here in the kernel: \d+ ms/,
    /once per task: \d+ ms, 1857859 primes below 30000000/,
    /once per worker: \d+ ms, 1857859 primes below 30000000/,
    /same answers: true; \d+\.\dx faster on this machine/,
    /BrokenPoolError: the pool's initializer failed in worker \d+ \(pid \d+\): Error: ENOENT/,
  ],
  "05-how-many-workers.ipynb": [
    /io-heavy: 2 x \d+ cores = \d+/,
    /the container's CPU quota allows 1\.50 CPUs: 1/,
    /memory: 0\.9 x 16000 MB \/ 3000 MB per task fits 4/,
    /CPU-bound tasks\/s: [\d.\t]+\n/,
    /I\/O-bound tasks\/s: [\d.\t]+\n/,
    /chunksize 1: [\d.]+ µs per item\nchunksize 10: [\d.]+ µs per item\nchunksize 100: [\d.]+ µs per item\nchunksize 1000: [\d.]+ µs per item/,
    /speedup on \d+ workers: [\d.]+x, so p = [\d.]+/,
  ],
  "06-memory.ipynb": [
    /pid \d+: \d+ tasks, heap \+\d+ MiB, RSS \+\d+ MiB/,
    /\d+ worker processes ran the 40 tasks; the largest RSS seen was \d+ MiB \(\d+ MiB without the limit\)/,
    /exited \(recycled\)/,
    // The leak fills the heap during a request (that request fails), or now and then between
    // two requests (the pool says so and runs the waiting ones on a fresh worker).
    /(request \d+: WorkerCrashedError: |worker \d+ \(pid \d+\) )ran out of memory \(heap limit 64 MB\)/,
    /\d+ of 40 requests served/,
    /exited \(crashed\)/,
  ],
};

/** Pictures each notebook must show (SVG outputs), at least. */
const MIN_PICTURES: Record<string, number> = {
  "01-first-parallel-map.ipynb": 2,
  "02-errors-from-workers.ipynb": 0,
  "03-deadlock-safe-patterns.ipynb": 1,
  "04-initializers.ipynb": 2,
  "05-how-many-workers.ipynb": 3,
  "06-memory.ipynb": 2,
};

function pictures(nb: SavedNotebook): string[] {
  return codeCells(nb).flatMap((c) => (c.outputs ?? []).map((o) => joined(o.data?.["image/svg+xml"])).filter((svg) => svg.startsWith("<svg")));
}

/**
 * Every code cell ran; errors only where a cell is tagged raises-exception, and every such
 * cell did fail (a tagged cell that passes teaches nothing).
 */
export function expectRanClean(nb: SavedNotebook): void {
  for (const cell of codeCells(nb)) {
    if (joined(cell.source).trim() === "") continue;
    const where = `cell ${cell.id}: ${joined(cell.source).split("\n")[0]}`;
    expect(cell.execution_count, where).toBeGreaterThan(0);
    const errors = (cell.outputs ?? []).filter((o) => o.output_type === "error");
    if (isTagged(cell, RAISES)) expect(errors.length, where).toBe(1);
    else expect(errors.map((e) => `${e.ename}: ${e.evalue}`), where).toEqual([]);
  }
}

/** The outputs that carry the notebook's lesson are there. */
export function expectKeyOutputs(name: string, nb: SavedNotebook): void {
  const text = codeCells(nb).map(cellText).join("\n");
  for (const pattern of KEY_OUTPUTS[name] ?? []) expect(text, `${name} should show ${pattern}`).toMatch(pattern);
  expect(pictures(nb).length, `${name}: pictures`).toBeGreaterThanOrEqual(MIN_PICTURES[name] ?? 0);
  if (name === "02-errors-from-workers.ipynb") expectRemoteTraceback(codeCells(nb).find((c) => isTagged(c, RAISES))!);
}

/** Notebook 2's failing map: the traceback reaches into the cell that defined the helpers. */
function expectRemoteTraceback(cell: SavedCell): void {
  const error = cell.outputs!.find((o) => o.output_type === "error")!;
  expect(error.ename).toBe("RangeError");
  const traceback = error.traceback!.join("\n").replace(/\x1b\[[0-9;]*m/g, "");
  expect(traceback).toMatch(/Remote traceback \(worker \d+, pid \d+, task 2, input 'grace:eighty'\)/);
  expect(traceback).toMatch(/Cell In\[\d+\], line 11, in parseRecord/);
  expect(traceback).toMatch(/Cell In\[\d+\], line 4, in parseAge\n(.*\n)*-+> 4 +throw new RangeError/);
}
