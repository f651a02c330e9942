"""PrefLab's Ray driver for `preflab run --executor ray` (started by RayDispatcher.swift, not by hand).

PrefLab's executor keeps the schedule (what is ready, what a failure skips) and the store's cache; this
driver only places nodes. It reads JSON lines on stdin:

    {"address": null | "auto" | "ray://...", "env": {...}, "cwd": "...", "retries": 3}      first line
    {"id": HASH, "argv": [...], "cpus": 1, "gpus": 0}                                        one per node

and for each node submits a Ray task with those resources that runs `argv` (`preflab run-node HASH ...`) in
`cwd` and answers, on stdout, one line `PREFLAB-RAY {"id", "exit", "output", "host"}` when it ends. A task
whose worker dies is retried by Ray (`retries`); the rerun takes the node's lease over once it expires and
resumes from the node's resume folder. The `preflab` child is killed with its worker (PR_SET_PDEATHSIG), so a
dead worker leaves no computation behind. When stdin closes, the driver waits for its tasks and exits.
"""
import ctypes
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading

PREFIX = "PREFLAB-RAY "


def reply(obj):
    sys.stdout.write(PREFIX + json.dumps(obj) + "\n")
    sys.stdout.flush()


def die_with_parent():
    """In the child before exec: receive SIGKILL when the Ray worker that started it dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def run_node(argv, cwd, env):
    full = dict(os.environ)
    full.update(env)
    proc = subprocess.run(argv, cwd=cwd, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          preexec_fn=die_with_parent)
    output = proc.stdout.decode("utf-8", "replace")
    return {"exit": proc.returncode, "output": output[-4000:], "host": socket.gethostname()}


def main():
    config = json.loads(sys.stdin.readline())
    try:
        import ray
    except ImportError as error:
        reply({"error": f"cannot import ray ({error}); bash scripts/setup-ray.sh makes .venv-ray"})
        return 1
    try:
        address = config.get("address")
        # A cluster started here keeps its object store small: tasks pass paths, never tensors.
        extra = {} if address else {"object_store_memory": 256 * 1024 * 1024}
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 configure_logging=False, **extra)
    except Exception as error:  # noqa: BLE001 - any failure to reach the cluster is reported as such
        reply({"error": f"ray.init failed: {type(error).__name__}: {error}"})
        return 1
    remote = ray.remote(run_node)
    reply({"ready": True, "resources": {k: v for k, v in ray.cluster_resources().items() if k in ("CPU", "GPU")}})

    requests = queue.Queue()

    def read():
        for line in sys.stdin:
            if line.strip():
                requests.put(json.loads(line))
        requests.put(None)

    threading.Thread(target=read, daemon=True).start()
    pending, reading = {}, True
    while reading or pending:
        try:
            item = requests.get(timeout=0.05 if pending else None)
            if item is None:
                reading = False
            else:
                task = remote.options(num_cpus=item["cpus"], num_gpus=item["gpus"], max_retries=config.get("retries", 3))
                pending[task.remote(item["argv"], config["cwd"], config.get("env", {}))] = item["id"]
            continue
        except queue.Empty:
            pass
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
        for ref in ready:
            node = pending.pop(ref)
            try:
                reply({"id": node, **ray.get(ref)})
            except Exception as error:  # noqa: BLE001 - a task that failed for good (retries spent) is a node failure
                reply({"id": node, "exit": -1, "output": f"{type(error).__name__}: {error}", "host": ""})
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
