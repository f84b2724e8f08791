#!/usr/bin/env python3
"""Soak: mixed traffic against the gateway for N minutes, watching for growth.

Starts fakellm (tests/fakellm/fakellm.py) and the gateway in front of it,
then runs a mix of calls from worker threads at a target rate: unary and
streamed answers, streams cancelled mid-answer, deadlines that expire,
upstream errors (400, 429, 500), dropped connections, malformed bodies,
streams that break midway, invalid requests, and BatchGenerate. Every call
must end with the status its kind expects. Every few seconds it samples the
gateway's RSS, open fds and threads (/proc), prints a table, and at the end a
verdict: growth between the first and the last third of the run.

Exit status 0 only if every call ended as expected, the gateway stayed up,
and nothing grew past the limits. Not run in CI (bench/README.md, "Soak").
"""

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "python"))
import testing_util  # noqa: E402 (tests/python: the servers' starter)


# ---------------------------------------------------------------- the mix

# name: (weight, expected gRPC status names). The weights make ~80 % of the
# calls succeed, so the run is mostly the ordinary path, with every error
# path taken thousands of times in half an hour.
KINDS = collections.OrderedDict([
    ("unary_ok", (30, {"OK"})),
    ("stream_ok", (25, {"OK"})),
    ("stream_cancel", (8, {"CANCELLED"})),           # the client cancels after 2 messages
    ("unary_deadline", (3, {"DEADLINE_EXCEEDED"})),  # upstream slower than the deadline
    ("upstream_400", (4, {"INVALID_ARGUMENT"})),
    ("upstream_429", (3, {"RESOURCE_EXHAUSTED"})),
    ("upstream_500", (3, {"UNAVAILABLE"})),
    ("upstream_drop", (3, {"UNAVAILABLE"})),
    ("upstream_malformed", (3, {"UNAVAILABLE"})),
    ("stream_broken", (4, {"UNAVAILABLE"})),         # nodone / error_event after deltas
    ("invalid_request", (4, {"INVALID_ARGUMENT"})),  # prompt and messages both
    ("batch_generate", (10, {"OK"})),                # 6 items; each item checked too
])

# BatchGenerate items: (model, expected item outcome: "ok" or a code number).
BATCH_ITEMS = [
    ("fake-model", "ok"),
    ("fake-model?tokens=30", "ok"),
    ("fake-model?status=400", 3),       # INVALID_ARGUMENT
    ("fake-model", "ok"),
    ("fake-model?status=404", 5),       # NOT_FOUND
    ("fake-model?tokens=3", "ok"),
]


class Traffic:
    """Runs one call of a kind; returns the gRPC status name it ended with,
    or "BAD: ..." when the call's content was wrong."""

    def __init__(self, grpc, generation_pb2, generation_pb2_grpc, channel):
        self.grpc = grpc
        self.pb = generation_pb2
        self.stub = generation_pb2_grpc.GenerationStub(channel)

    def _code(self, error):
        return error.code().name

    def unary(self, model, timeout=30, **fields):
        request = self.pb.GenerateRequest(model=model, prompt="soak: say something", **fields)
        try:
            response = self.stub.Generate(request, timeout=timeout)
        except self.grpc.RpcError as e:
            return self._code(e)
        return "OK" if response.text else "BAD: empty answer"

    def stream(self, model, cancel_after=None):
        call = self.stub.GenerateStream(
            self.pb.GenerateRequest(model=model, prompt="soak: stream something"), timeout=30)
        got = 0
        try:
            for message in call:
                got += 1
                if cancel_after is not None and got >= cancel_after:
                    call.cancel()
        except self.grpc.RpcError as e:
            return self._code(e)
        return "OK" if got else "BAD: no messages"

    def invalid(self):
        request = self.pb.GenerateRequest(model="fake-model", prompt="x")
        request.messages.add().parts.add().text = "y"
        try:
            self.stub.Generate(request, timeout=30)
        except self.grpc.RpcError as e:
            return self._code(e)
        return "OK"

    def batch(self):
        request = self.pb.BatchGenerateRequest(
            requests=[self.pb.GenerateRequest(model=m, prompt="soak item %d" % i)
                      for i, (m, _) in enumerate(BATCH_ITEMS)],
            max_concurrency=3)
        seen = {}
        try:
            for r in self.stub.BatchGenerate(request, timeout=60):
                if r.index in seen:
                    return "BAD: item %d twice" % r.index
                seen[r.index] = "ok" if r.HasField("response") else r.error.code
        except self.grpc.RpcError as e:
            return self._code(e)
        want = {i: outcome for i, (_, outcome) in enumerate(BATCH_ITEMS)}
        if seen != want:
            return "BAD: items %s, want %s" % (sorted(seen.items()), sorted(want.items()))
        return "OK"

    def run(self, kind, rng):
        if kind == "unary_ok":
            return self.unary("fake-model?tokens=%d" % rng.randint(4, 40))
        if kind == "stream_ok":
            return self.stream("fake-model?tokens=%d&pace_ms=1" % rng.randint(4, 60))
        if kind == "stream_cancel":
            return self.stream("fake-model?tokens=400&pace_ms=5", cancel_after=2)
        if kind == "unary_deadline":
            return self.unary("fake-model?delay_ms=3000", timeout=0.3)
        if kind == "upstream_400":
            return self.unary("fake-model?status=400")
        if kind == "upstream_429":
            return self.unary("fake-model?status=429&retry_after=0")
        if kind == "upstream_500":
            return self.unary("fake-model?status=500")
        if kind == "upstream_drop":
            return self.unary("fake-model?fault=drop")
        if kind == "upstream_malformed":
            return self.unary("fake-model?fault=malformed")
        if kind == "stream_broken":
            return self.stream("fake-model?tokens=20&fault=" +
                               rng.choice(("nodone", "error_event")))
        if kind == "invalid_request":
            return self.invalid()
        if kind == "batch_generate":
            return self.batch()
        raise ValueError(kind)


# ---------------------------------------------------------------- /proc

def sample(pid):
    """(RSS MiB, open fds, threads) of a live process."""
    rss_kib = threads = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kib = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir("/proc/%d/fd" % pid))
    return rss_kib / 1024.0, fds, threads


def mean(values):
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", required=True, help="the llm_gateway binary")
    parser.add_argument("--fakellm", required=True, help="tests/fakellm/fakellm.py")
    parser.add_argument("--stubs", required=True, help="directory of the generated Python stubs")
    parser.add_argument("--workdir", help="logs and results.json (default: a new temp dir)")
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--rate", type=float, default=100, help="calls started per second")
    parser.add_argument("--workers", type=int, default=32, help="client threads")
    parser.add_argument("--sample_s", type=float, default=5, help="sampling period")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup_s", type=float, default=30,
                        help="samples before this are left out of the verdict")
    parser.add_argument("--max_rss_growth_mib", type=float, default=16,
                        help="verdict: mean RSS, last third minus first third")
    parser.add_argument("--max_fd_growth", type=float, default=20)
    parser.add_argument("--max_thread_growth", type=float, default=4)
    args = parser.parse_args()

    sys.path.insert(0, args.stubs)
    import grpc
    from llmgateway.v1 import generation_pb2, generation_pb2_grpc

    workdir = args.workdir or tempfile.mkdtemp(prefix="soak-")
    os.makedirs(workdir, exist_ok=True)
    procs = []

    def stop_all():
        for proc in reversed(procs):  # the gateway first (it drains)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        upstream, upstream_port = testing_util.start(
            [sys.executable, args.fakellm, "--listen", "127.0.0.1:0"],
            os.path.join(workdir, "fakellm.log"))
        procs.append(upstream)
        gateway, port = testing_util.start(
            [args.gateway, "--listen=127.0.0.1:0",
             "--openai_base_url=http://127.0.0.1:%d/v1" % upstream_port,
             "--batch_store=" + os.path.join(workdir, "jobs.db")],
            os.path.join(workdir, "gateway.log"))
        procs.append(gateway)
        print("fakellm pid %d on :%d; gateway pid %d on :%d; workdir %s" % (
            upstream.pid, upstream_port, gateway.pid, port, workdir), flush=True)
        channel = grpc.insecure_channel("127.0.0.1:%d" % port)
        grpc.channel_ready_future(channel).result(timeout=30)
        traffic = Traffic(grpc, generation_pb2, generation_pb2_grpc, channel)
        result = soak(args, traffic, gateway, workdir)
    except KeyboardInterrupt as e:
        print("soak: interrupted (%s)" % e, file=sys.stderr)
        return 2
    finally:
        stop_all()
    return 0 if result else 1


def soak(args, traffic, gateway, workdir):
    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    duration = args.minutes * 60
    start = time.monotonic()
    end = start + duration
    lock = threading.Lock()
    outcomes = collections.defaultdict(collections.Counter)  # kind -> status -> n
    unexpected = []  # (kind, status), the first few
    calls = [0]
    next_start = [start]
    interval = 1.0 / args.rate

    def worker(index):
        rng = random.Random(args.seed * 1000 + index)
        while True:
            with lock:  # one shared schedule: calls start at --rate overall
                at = next_start[0]
                next_start[0] = at + interval
            if at >= end:
                return
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            kind = rng.choices(kinds, weights)[0]
            try:
                status = traffic.run(kind, rng)
            except Exception as e:  # a bug in this script or the stubs: count it
                status = "BAD: %s: %s" % (type(e).__name__, e)
            with lock:
                calls[0] += 1
                outcomes[kind][status] += 1
                if status not in KINDS[kind][1] and len(unexpected) < 20:
                    unexpected.append((kind, status))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(args.workers)]
    for t in threads:
        t.start()

    samples = []  # (t, rss, fds, threads, calls)
    print("%8s %9s %6s %8s %9s %8s" % ("t (s)", "RSS MiB", "fds", "threads", "calls", "calls/s"))
    last_calls, last_t = 0, 0.0
    alive = True
    while time.monotonic() < end:
        time.sleep(min(args.sample_s, max(0.0, end - time.monotonic())))
        if gateway.poll() is not None:
            alive = False
            print("the gateway exited with %s" % gateway.returncode)
            break
        t = time.monotonic() - start
        rss, fds, nthreads = sample(gateway.pid)
        with lock:
            n = calls[0]
        samples.append((t, rss, fds, nthreads, n))
        rate = (n - last_calls) / (t - last_t) if t > last_t else 0
        last_calls, last_t = n, t
        print("%8.0f %9.1f %6d %8d %9d %8.1f" % (t, rss, fds, nthreads, n, rate), flush=True)
    join_deadline = time.monotonic() + 90  # every call has a deadline of 60 s or less
    for t in threads:
        t.join(timeout=max(0.0, join_deadline - time.monotonic()))
    stuck = sum(t.is_alive() for t in threads)

    print("\n%-20s %8s  %s" % ("kind", "calls", "statuses"))
    total_unexpected = 0
    for kind in kinds:
        counts = outcomes.get(kind, collections.Counter())
        bad = sum(n for s, n in counts.items() if s not in KINDS[kind][1])
        total_unexpected += bad
        print("%-20s %8d  %s%s" % (kind, sum(counts.values()),
                                   ", ".join("%s %d" % kv for kv in counts.most_common()),
                                   "   <- %d unexpected" % bad if bad else ""))
    for kind, status in unexpected:
        print("unexpected: %s ended %s (want %s)" % (kind, status, "/".join(KINDS[kind][1])))

    # Thirds of the samples after the warm-up (pools, arenas and caches
    # filling up are not growth).
    steady = [x for x in samples if x[0] >= args.warmup_s] or samples
    third = max(1, len(steady) // 3)
    first, last = steady[:third], steady[-third:]
    growth = {
        "rss_mib": mean([s[1] for s in last]) - mean([s[1] for s in first]),
        "fds": mean([s[2] for s in last]) - mean([s[2] for s in first]),
        "threads": mean([s[3] for s in last]) - mean([s[3] for s in first]),
    }
    total = sum(sum(c.values()) for c in outcomes.values())
    problems = []
    if not alive:
        problems.append("the gateway died")
    if stuck:
        problems.append("%d client threads still in a call 90 s after the end" % stuck)
    if total_unexpected:
        problems.append("%d calls ended with an unexpected status" % total_unexpected)
    if len(steady) < 3:
        problems.append("too few samples (%d) for a verdict" % len(steady))
    if growth["rss_mib"] > args.max_rss_growth_mib:
        problems.append("RSS grew %.1f MiB" % growth["rss_mib"])
    if growth["fds"] > args.max_fd_growth:
        problems.append("open fds grew by %.1f" % growth["fds"])
    if growth["threads"] > args.max_thread_growth:
        problems.append("threads grew by %.1f" % growth["threads"])
    rss = [s[1] for s in samples] or [0]
    fds = [s[2] for s in samples] or [0]
    print("\n%d calls in %.0f s (%.1f/s), %d unexpected; RSS %.1f-%.1f MiB, fds %d-%d; "
          "growth first->last third after warm-up: RSS %+.1f MiB, fds %+.1f, threads %+.1f" % (
              total, duration, total / duration, total_unexpected, min(rss), max(rss),
              min(fds), max(fds), growth["rss_mib"], growth["fds"], growth["threads"]))
    print("VERDICT: %s" % ("PASS" if not problems else "FAIL: " + "; ".join(problems)))
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump({"minutes": args.minutes, "rate": args.rate, "calls": total,
                   "unexpected": total_unexpected,
                   "outcomes": {k: dict(v) for k, v in outcomes.items()},
                   "samples": samples, "growth": growth, "problems": problems}, f, indent=1)
    return not problems


if __name__ == "__main__":
    sys.exit(main())
