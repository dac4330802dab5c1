"""Python's ProcessPoolExecutor (spawn) on the bench's workloads: the anchor nbpool is
measured against. Mirrors lib/node-child.js: one fresh interpreter per round, start-up
first, then payload, tasks, map and CPU; prints one `BENCH_RESULT {json}` line.

    python3 python_ppe.py CONFIG_JSON     measure one round
    python3 python_ppe.py --calibrate MS  print the spin count that takes about MS ms
"""
import array
import gc
import json
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

RESULT_MARK = "BENCH_RESULT "


# The workloads, the same as lib/workloads.js (spin is the same hash; only its count differs).
def trivial(x):
    return x + 1


def spin(n):
    h = 0x811C9DC5
    for i in range(n):
        h = ((h ^ i) * 16777619) & 0xFFFFFFFF
    return h


def echo(a):
    return a


def ms_since(t0):
    return (time.perf_counter() - t0) * 1000


def check_trivial(results, what):
    for i, r in enumerate(results):
        if r != i + 1:
            raise ValueError(f"{what}: result {i} was {r}, expected {i + 1}")


# A Float64Array's counterpart: array('d') pickles as one bytes block, no per-element cost.
def measure_payload(ex, cfg):
    sent = array.array("d", (i * 0.5 for i in range(cfg["payloadBytes"] // 8)))

    def check(out):
        if not isinstance(out, array.array) or out.typecode != "d" or out != sent:
            raise ValueError("payload came back changed")

    check(ex.submit(echo, sent).result())
    times = []
    for _ in range(cfg["payloadReps"]):
        t0 = time.perf_counter()
        out = ex.submit(echo, sent).result()
        times.append(ms_since(t0))
        check(out)
    rt = statistics.median(times)
    return 2 * cfg["payloadBytes"] / 1e6 / (rt / 1000), {"roundTripMs": rt}


def measure_tasks(ex, cfg):
    n = cfg["tasks"]
    check_trivial([f.result() for f in [ex.submit(trivial, i) for i in range(n // 10)]], "warm-up")
    t0 = time.perf_counter()
    futures = [ex.submit(trivial, i) for i in range(n)]
    results = [f.result() for f in futures]
    ms = ms_since(t0)
    check_trivial(results, "tasks")
    return ms * 1000 / n, None


def measure_map(ex, cfg):
    n = cfg["mapItems"]
    check_trivial(list(ex.map(trivial, range(n // 10), chunksize=1000)), "warm-up map")
    times = []
    for _ in range(cfg["mapReps"]):
        t0 = time.perf_counter()
        results = list(ex.map(trivial, range(n), chunksize=1000))
        times.append(ms_since(t0) * 1000 / n)
        check_trivial(results, "map")
    return statistics.median(times), None


def measure_cpu(ex, cfg):
    n, tasks, workers = cfg["pySpinN"], cfg["cpuTasks"], cfg["workers"]
    expected = spin(n)
    singles = []
    for _ in range(3):
        t0 = time.perf_counter()
        spin(n)
        singles.append(ms_since(t0))
    single = statistics.median(singles)
    list(ex.map(spin, [n // 20] * workers))
    t0 = time.perf_counter()
    results = list(ex.map(spin, [n] * tasks))
    wall = ms_since(t0)
    if any(r != expected for r in results):
        raise ValueError("CPU task returned a wrong hash")
    ideal = tasks * single / workers
    return 100 * ideal / wall, {"singleMs": single, "wallMs": wall, "idealMs": ideal}


MEASURES = [("payload", measure_payload), ("tasks", measure_tasks), ("map", measure_map), ("cpu", measure_cpu)]


def describe(err):
    return f"{type(err).__name__}: {err}"


def run(cfg):
    entry = cfg["id"]
    wanted = cfg.get("measures") or ["startup"] + [m for m, _ in MEASURES]
    entries = []
    ctx = multiprocessing.get_context("spawn")
    try:
        t0 = time.perf_counter()
        ex = ProcessPoolExecutor(max_workers=cfg["workers"], mp_context=ctx)
        first = ex.submit(trivial, 1).result()
        startup = ms_since(t0)
        if first != 2:
            raise ValueError(f"first task returned {first}, expected 2")
        if "startup" in wanted:
            entries.append({"measure": "startup", "entry": entry, "value": startup})
    except Exception as err:  # noqa: BLE001 - every failure becomes the row's text
        for m in wanted:
            entries.append({"measure": m, "entry": entry, "error": f"start-up failed: {describe(err)}"})
        return entries
    with ex:
        for name, measure in MEASURES:
            if name not in wanted:
                continue
            gc.collect()
            try:
                value, aux = measure(ex, cfg)
                entries.append({"measure": name, "entry": entry, "value": value, "aux": aux})
            except Exception as err:  # noqa: BLE001
                entries.append({"measure": name, "entry": entry, "error": describe(err)})
    return entries


def calibrate(target_ms):
    """The fastest of a few runs, as in lib/calibrate.js: load only ever slows a run down."""

    def fastest(n):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            spin(n)
            times.append(ms_since(t0))
        return min(times)

    spin(100_000)
    n = int(200_000 * target_ms / fastest(200_000))
    return int(n * target_ms / fastest(n))


if __name__ == "__main__":
    if sys.argv[1] == "--calibrate":
        print(json.dumps({"spinN": calibrate(float(sys.argv[2])), "version": sys.version.split()[0]}))
    else:
        print(RESULT_MARK + json.dumps({"entries": run(json.loads(sys.argv[1]))}), flush=True)
