/**
 * `nbpool demo`: map a CPU-bound function over a pool and print the measured speedup
 * against a plain loop in this process. No notebook needed.
 */
import { Pool, recommendedWorkers } from "./index";

/** Count primes below n the slow way: pure CPU work. */
function countPrimes(n: number): number {
  let count = 0;
  for (let i = 2; i < n; i++) {
    let prime = true;
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

export async function main(): Promise<number> {
  const workers = recommendedWorkers();
  const items = Array.from({ length: 8 * workers }, (_, i) => 200_000 + i);
  console.log(`nbpool demo: countPrimes over ${items.length} items, ${workers} workers (${recommendedWorkers.explain().steps.join("; ")})`);

  let t = performance.now();
  const serial = items.map(countPrimes);
  const serialMs = performance.now() - t;
  console.log(`plain loop:   ${serialMs.toFixed(0)} ms`);

  const pool = new Pool({ maxWorkers: workers });
  try {
    await pool.submit(() => 0); // workers started and warm
    t = performance.now();
    const parallel = await pool.map(countPrimes, items, { chunksize: 1 });
    const parallelMs = performance.now() - t;
    if (parallel.join() !== serial.join()) throw new Error("the pool's results differ from the loop's");
    console.log(`pool.map:     ${parallelMs.toFixed(0)} ms`);
    const speedup = serialMs / parallelMs;
    console.log(`speedup:      ${speedup.toFixed(2)}x on ${workers} workers (${((speedup / workers) * 100).toFixed(0)}% of ideal)`);
  } finally {
    await pool.shutdown();
  }
  return 0;
}
