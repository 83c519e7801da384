"""Middleware overhead under a real server: gunicorn on loopback, load from `wrk`.

For each scenario (an unlogged `GET /ok/` 200, a logged `GET /items/7/` 404, a 2 KB
JSON `POST /submit/` with `log_ok_responses` + body capture) and each variant (no
`AuditMiddleware`, the Python engine, the native engine) this starts gunicorn
(`--workers`, sync workers, default 1) serving `benches/load_app.py`, warms it up,
runs `wrk` with a fixed number of connections for a bounded time, and stops the
server. Rounds repeat the whole set with the variants in a rotating order (the machine
is shared and drifts); the table gives the median of the rounds and their range.

Checked on every run: the server handled every request (no socket errors), and the
audit log holds exactly one line per request the workers handled for a logged
scenario (each worker reports its count when it exits) and none for the unlogged one,
and every line is one whole JSON object. `--sink stdout` sends the audit lines to the
server's stdout, a pipe the workers share and this command reads (a sidecar's view),
instead of a `FileHandler`.

`wrk` comes from Debian: when it is missing the command installs it (`apt-get update
&& apt-get install -y wrk`, as root) or stops with the command to run.

`--attribute` also samples each audited worker with `py-spy` (installed from PyPI
into this interpreter's environment when missing) during the timed run and reports
the share of its busy samples spent in the middleware's own frames (`start`,
`finish`, `process_exception` and everything they call): where the audit's own time
goes, within one run. The ratio those frames alone would give, 1 / (1 - share), is a
lower bound, not the targets' measure (the throughput ratio is): it leaves out
Django's wrapper of one more middleware, the app's signal receiver, and Django's and
gunicorn's own code running slower in the audited worker, which a profile of both
workers shows to be most of the gap (docs/performance.md, ninth round).

Run: `python benches/load_test.py` (or `make bench`); `--duration`, `--rounds`,
`--connections`, `--workers`, `--sink`, `--scenarios`, `--variants`, `--attribute`
adjust it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHES = os.path.join(ROOT, "benches")
VARIANTS = ("no_middleware", "python", "native")

# id -> (SEC_AUDIT profile of load_app.py, method, path, body size, logged?)
SCENARIOS: dict[str, tuple[str, str, str, int, bool]] = {
    "get-200-unlogged": ("defaults", "GET", "/ok/", 0, False),
    "get-404-logged": ("defaults", "GET", "/items/7/", 0, True),
    "post-2kb-capture": ("capture", "POST", "/submit/", 2 * 1024, True),
}

# wrk prints this line from `done()`: one JSON object per run.
_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "socket_errors": %d, "statuses": %d, '
    .. '"p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(99)))
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: run `sudo apt-get update && sudo apt-get install -y wrk`")
    print("installing wrk from Debian (apt-get)...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, timeout=600)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed")
    return found


def ensure_py_spy() -> str:
    """The `py-spy` sampling profiler next to this interpreter, installed if missing."""
    found = os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(found):
        print("installing py-spy from PyPI (pip)...", flush=True)
        pip = [sys.executable, "-m", "pip", "install", "-q", "py-spy"]
        subprocess.run(pip, check=True, timeout=600)
    if not os.path.exists(found):
        sys.exit("py-spy could not be installed")
    return found


# The middleware's own frames (py-spy raw stacks name each frame `function (file:line)`).
_AUDIT_FRAMES = ("start (", "finish (", "AuditMiddleware.process_exception (")
_MIDDLEWARE_FILE = "sec_audit/django/middleware.py:"


def audit_share(raw: str) -> float:
    """The share of the sampled stacks (py-spy's raw format: `frame;frame;... count`)
    that are inside one of the middleware's own frames."""
    total = audited = 0
    with open(raw) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            total += int(count)
            frames = stack.split(";")
            if any(fr.startswith(_AUDIT_FRAMES) and _MIDDLEWARE_FILE in fr for fr in frames):
                audited += int(count)
    return audited / total if total else float("nan")


def wrk_script(directory: str, method: str, size: int) -> str:
    """The Lua script for one scenario: the request (a POST body) and the report."""
    lines = []
    if method == "POST":
        sys.path.insert(0, BENCHES)
        from conftest import json_body  # the engine benchmarks' realistic body

        body = json_body(size).decode()
        assert "]==]" not in body
        lines += [
            'wrk.method = "POST"',
            f"wrk.body = [==[{body}]==]",
            'wrk.headers["Content-Type"] = "application/json"',
        ]
    path = os.path.join(directory, f"{method.lower()}-{size}.lua")
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n" + _REPORT)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen on port {port} within {timeout:.0f} s")


def worker_pids(master: int) -> list[int]:
    """gunicorn's worker processes (the master's children)."""
    found = []
    for task in os.listdir(f"/proc/{master}/task"):
        with open(f"/proc/{master}/task/{task}/children") as f:
            found += [int(pid) for pid in f.read().split()]
    return found


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids` so far (/proc/<pid>/stat, clock ticks)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def run_wrk(wrk: str, url: str, script: str, connections: int, duration: int) -> dict[str, Any]:
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "-s", script, url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[len("BENCH ") :]))
    raise RuntimeError(f"no report from wrk: {done.stdout}{done.stderr}")


def whole(line: bytes) -> bool:
    """One whole audit line: a JSON object (a torn line is two halves of two)."""
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


class LineTally:
    """The audit lines read from a stream: how many, and how many are not whole."""

    def __init__(self) -> None:
        self.lines = self.torn = 0

    def read(self, stream: Any) -> None:
        for line in stream:
            self.lines += 1
            self.torn += not whole(line)


class PipeLines(LineTally):
    """The tally of the server's stdout pipe, read on a thread so the pipe never fills
    and blocks the workers."""

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self.stream = stream
        self.thread = threading.Thread(target=self.read, args=(stream,), daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(timeout=60)
        self.stream.close()


def serve_and_load(
    wrk: str,
    variant: str,
    scenario: str,
    script: str,
    args: argparse.Namespace,
    scratch: str,
) -> dict[str, Any]:
    profile, _method, path, _size, logged = SCENARIOS[scenario]
    run_dir = tempfile.mkdtemp(dir=scratch)
    to_stdout = args.sink == "stdout"
    audit_log = "-" if to_stdout else os.path.join(run_dir, "audit.jsonl")
    counts = os.path.join(run_dir, "counts")
    os.mkdir(counts)
    port = free_port()
    env = dict(
        os.environ,
        BENCH_VARIANT=variant,
        BENCH_PROFILE=profile,
        BENCH_AUDIT_LOG=audit_log,
        BENCH_COUNT_DIR=counts,
        SEC_AUDIT_LOCK_DIR=os.path.join(run_dir, "locks"),
        PYTHONPATH=os.pathsep.join([ROOT, args.source]),
    )
    env.pop("SEC_AUDIT_ENGINE", None)
    cmd = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--worker-class", "sync",
        "--config", os.path.join(BENCHES, "load_gunicorn.py"),
        "--log-level", "warning",
        "--chdir", ROOT,
        "benches.load_app:application",
    ]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE if to_stdout else None)
    reader = PipeLines(server.stdout) if server.stdout is not None else None
    try:
        wait_listening(port, server)
        url = f"http://127.0.0.1:{port}{path}"
        run_wrk(wrk, url, script, args.connections, args.warmup)
        workers = worker_pids(server.pid)
        spies = []
        if args.attribute and variant != "no_middleware":
            for pid in workers:
                raw = os.path.join(run_dir, f"spy-{pid}.raw")
                cmd = [args.py_spy, "record", "--pid", str(pid), "--duration",
                       str(args.duration), "--rate", "500", "--format", "raw",
                       "--nonblocking", "--output", raw]  # fmt: skip
                spies.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL), raw))
        cpu_before = cpu_seconds(workers)
        result = run_wrk(wrk, url, script, args.connections, args.duration)
        cpu = cpu_seconds(workers) - cpu_before
        shares = []
        for spy, raw in spies:
            # py-spy needs ptrace rights over the worker (root, or ptrace_scope 0): without
            # them the run's numbers stand and the share is reported missing.
            if spy.wait(timeout=args.duration + 60) == 0 and os.path.exists(raw):
                shares.append(audit_share(raw))
            else:
                print(f"py-spy could not sample a worker (exit {spy.returncode})", flush=True)
        if shares:
            result["audit_share"] = statistics.mean(shares)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        if reader is not None:
            reader.join()
    handled = 0
    for name in os.listdir(counts):
        with open(os.path.join(counts, name)) as f:
            handled += int(f.read())
    tally = reader if reader is not None else LineTally()
    if reader is None and os.path.exists(audit_log):
        with open(audit_log, "rb") as f:
            tally.read(f)
    lines, torn = tally.lines, tally.torn
    expected = handled if (logged and variant != "no_middleware") else 0
    result.update(handled=handled, lines=lines, expected=expected)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    # The workers' own CPU time per request answered: what the neighbours on a shared
    # machine disturb least (throughput mostly measures them).
    result["cpu_us"] = cpu / max(result["requests"], 1) * 1e6
    problems = []
    if len(os.listdir(counts)) != args.workers:
        problems.append(f"{len(os.listdir(counts))} of {args.workers} workers reported")
    if lines != expected:
        problems.append(f"{lines} audit lines for {expected} logged requests")
    if torn:
        problems.append(f"{torn} lines are not one JSON object")
    if result["socket_errors"]:
        problems.append(f"{result['socket_errors']} socket errors")
    result["problems"] = problems
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds before each run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--sink",
        choices=("file", "stdout"),
        default="file",
        help="audit lines to a FileHandler, or a StreamHandler on the server's stdout pipe",
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument(
        "--source", default=os.path.join(ROOT, "python"), help="the sec_audit package's parent"
    )
    parser.add_argument(
        "--attribute",
        action="store_true",
        help="sample the audited workers with py-spy: the middleware's share of their time",
    )
    args = parser.parse_args(argv)
    scenarios = [s for s in SCENARIOS if s in args.scenarios.split(",")]
    variants = [v for v in VARIANTS if v in args.variants.split(",")]
    sys.path.insert(0, args.source)
    if "native" in variants:
        from sec_audit.core.engine import native_available

        if not native_available():
            print("native engine not built: its variant is left out", flush=True)
            variants.remove("native")
    wrk = ensure_wrk()
    args.py_spy = ensure_py_spy() if args.attribute else None
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="sec-audit-load-") as scratch:
        scripts = {s: wrk_script(scratch, SCENARIOS[s][1], SCENARIOS[s][3]) for s in scenarios}
        for round_no in range(args.rounds):
            for scenario in scenarios:
                shift = round_no % len(variants)
                for variant in variants[shift:] + variants[:shift]:
                    r = serve_and_load(wrk, variant, scenario, scripts[scenario], args, scratch)
                    results.setdefault((scenario, variant), []).append(r)
                    note = "; ".join(r["problems"]) or "ok"
                    print(
                        f"round {round_no + 1} | {scenario} | {variant}: {r['rps']:.0f} req/s, "
                        f"{r['cpu_us']:.0f} us CPU/request, "
                        f"p50 {r['p50_us'] / 1000:.2f} ms, p99 {r['p99_us'] / 1000:.2f} ms, "
                        f"{r['lines']} lines / {r['expected']} logged: {note}",
                        flush=True,
                    )
                    failed = failed or bool(r["problems"])
    print(
        f"\ngunicorn, {args.workers} sync worker(s), audit lines to {args.sink}, wrk 1 thread, {args.connections} connections, "
        f"{args.duration:.0f} s x {args.rounds} rounds (median, range); throughput ratio = "
        "no-middleware throughput / this variant's; CPU = the workers' CPU time per request\n"
    )
    print(
        "| Scenario | variant | req/s | throughput ratio | CPU/request | CPU ratio | p50 | p99 "
        "| audit lines = logged |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for scenario in scenarios:
        base = [r["rps"] for r in results.get((scenario, "no_middleware"), [])]
        base_cpu = [r["cpu_us"] for r in results.get((scenario, "no_middleware"), [])]
        for variant in variants:
            runs = results[(scenario, variant)]
            rps = [r["rps"] for r in runs]
            ratio = ""
            if base and variant != "no_middleware":
                ratios = [b / v for b, v in zip(base, rps, strict=True) if v > 0] or [float("nan")]
                ratio = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
            cpu = [r["cpu_us"] for r in runs]
            cpu_ratio = ""
            if base_cpu and variant != "no_middleware":
                ratios = [v / b for b, v in zip(base_cpu, cpu, strict=True) if b > 0] or [
                    float("nan")
                ]
                cpu_ratio = (
                    f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
                )
            p50 = statistics.median(r["p50_us"] for r in runs) / 1000
            p99 = statistics.median(r["p99_us"] for r in runs) / 1000
            check = "yes" if not any(r["problems"] for r in runs) else "**no**"
            print(
                f"| {scenario} | {variant} | {statistics.median(rps):.0f} "
                f"({min(rps):.0f}-{max(rps):.0f}) | {ratio} | {statistics.median(cpu):.0f} us "
                f"| {cpu_ratio} | {p50:.2f} ms | {p99:.2f} ms | {check} |"
            )
    if args.attribute:
        print(
            "\nSampled (py-spy, 500 Hz, during each timed run): the middleware's own frames "
            "as a share of the worker's busy samples, and the CPU ratio those frames alone "
            "would give (a lower bound; the targets are the throughput ratios above)\n"
        )
        print("| Scenario | variant | audit share | frames alone, 1 / (1 - share) |")
        print("|---|---|---:|---:|")
        for scenario in scenarios:
            for variant in variants:
                shares = [
                    r["audit_share"] for r in results[(scenario, variant)] if "audit_share" in r
                ]
                if not shares:
                    continue
                implied = [1 / (1 - share) for share in shares]
                print(
                    f"| {scenario} | {variant} | {100 * statistics.median(shares):.1f}% "
                    f"({100 * min(shares):.1f}-{100 * max(shares):.1f}%) | "
                    f"{statistics.median(implied):.3f}x ({min(implied):.3f}-{max(implied):.3f}) |"
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
