"""Drive the `nbpool` kernel through jupyter_client with real signals, counting live worker pids.

    /usr/bin/python3 kernel_lifecycle.py TASKS_MODULE WORK_DIR
Prints one JSON object of observations; test/kernel-interop.test.ts asserts on it. Each
scenario gets a kernel with a pool of 2 workers busy on 2 long tasks whose pids are recorded.
"""

import json
import os
import signal
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

TASKS, WORK = sys.argv[1], sys.argv[2]
TIMEOUT = 60


def alive(pid):
    """Running and not a zombie (orphans may stay unreaped in containers)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def live(pids):
    return sorted(p for p in pids if alive(p))


def wait_until(cond, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


class Kernel:
    def __init__(self, name):
        self.log_path = os.path.join(WORK, f"{name}.log")
        self.km = KernelManager(kernel_name="nbpool")
        self.km.shutdown_wait_time = 4.0  # SIGTERM only if a graceful shutdown takes over 2 s
        self.log = open(self.log_path, "w")
        self.km.start_kernel(cwd=WORK, stderr=self.log, stdout=self.log)
        self.connect()

    def connect(self):
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=TIMEOUT)

    @property
    def process(self):
        return self.km.provisioner.process

    def run(self, code, timeout=TIMEOUT):
        outputs = []
        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append)
        return reply["content"], [o["content"] for o in outputs if o["msg_type"] in ("stream", "execute_result", "error")]

    def start_pool(self):
        content, outputs = self.run(
            'import { Pool, task } from "nbpool";\n'
            "const pool = new Pool({ maxWorkers: 2 });\n"
            f"const sleeper = task({json.dumps(TASKS)}, \"sleepAndRecord\");\n"
            f"const whoami = task({json.dumps(TASKS)}, \"pid\");"
        )
        assert content["status"] == "ok", (content, outputs)

    def start_long_tasks(self):
        """Two tasks that sleep a minute; returns their worker pids once both run."""
        pid_dir = tempfile.mkdtemp(dir=WORK)
        spec = json.dumps({"dir": pid_dir, "ms": 60000})
        msg_id = self.kc.execute(f"await pool.map(sleeper, [{spec}, {spec}])")
        ok = wait_until(lambda: len(os.listdir(pid_dir)) >= 2, 30)
        assert ok, f"the workers did not start: {os.listdir(pid_dir)}; log: {self.tail()}"
        return msg_id, [int(p) for p in os.listdir(pid_dir)]

    def reply_to(self, msg_id, timeout=TIMEOUT):
        while True:
            msg = self.kc.get_shell_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]

    def tail(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()[-2000:]

    def close(self):
        self.kc.stop_channels()
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)
        self.log.close()


def scenario_interrupt_then_shutdown(facts):
    k = Kernel("interrupt")
    try:
        k.start_pool()
        msg_id, pids = k.start_long_tasks()
        k.km.interrupt_kernel()  # SIGINT to the kernel's process group, as Jupyter does
        reply = k.reply_to(msg_id, timeout=30)
        wait_until(lambda: not live(pids), 3)
        content, outputs = k.run("(await pool.map(whoami, [1, 2, 3])).length")
        facts["interrupt"] = {
            "reply": {key: reply.get(key) for key in ("status", "ename", "evalue")},
            "workers_alive_after_3s": live(pids),
            "pool_usable_after": [o.get("data", {}).get("text/plain") for o in outputs if "data" in o],
            "kernel_alive": k.km.is_alive(),
        }

        _, pids = k.start_long_tasks()
        process = k.process
        k.km.shutdown_kernel(now=False)  # interrupt, shutdown_request, SIGTERM after 2 s, SIGKILL after 4 s
        facts["graceful_shutdown"] = {
            "returncode": process.returncode,
            "workers_alive_right_after": live(pids),
            "needed_sigterm": "received SIGTERM" in k.tail(),
        }
    finally:
        k.close()


def scenario_restarts_and_kill(facts):
    k = Kernel("restart")
    try:
        k.start_pool()
        _, pids = k.start_long_tasks()
        k.km.restart_kernel(now=False)
        facts["graceful_restart"] = {"workers_alive_right_after": live(pids), "needed_sigterm": "received SIGTERM" in k.tail()}

        k.kc.stop_channels()
        k.connect()
        k.start_pool()
        _, pids = k.start_long_tasks()
        k.km.restart_kernel(now=True)  # SIGKILL to the kernel's process group
        wait_until(lambda: not live(pids), 3)
        facts["immediate_restart"] = {"workers_alive_after_3s": live(pids)}

        k.kc.stop_channels()
        k.connect()
        k.start_pool()
        _, pids = k.start_long_tasks()
        os.kill(k.process.pid, signal.SIGKILL)  # the kernel alone
        wait_until(lambda: not live(pids), 3)
        facts["sigkill"] = {"workers_alive_after_3s": live(pids)}
    finally:
        k.close()


def main():
    facts = {}
    for scenario in (scenario_interrupt_then_shutdown, scenario_restarts_and_kill):
        try:
            scenario(facts)
        except Exception as err:  # reported, so the test shows what went wrong where
            facts.setdefault("errors", []).append(f"{scenario.__name__}: {type(err).__name__}: {err}")
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
