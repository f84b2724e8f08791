#!/usr/bin/python3
"""Batch benchmarks: one big BatchJobs job and one BatchGenerate, against an
upstream that answers every request after a fixed delay.

Starts the upstream (bench/fast_upstream by default, or tests/fakellm with
--fakellm) and the gateway in front of it, then:

  job:       CreateBatchJob of --items items at --concurrency; polls
             GetBatchJob until the job ends; reads every result back with
             ListBatchJobResults. Ideal time: items / concurrency * delay.
  generate:  BatchGenerate of --generate_items at --generate_concurrency,
             --generate_repeats times. Ideal: items / concurrency * delay.

and prints a table (also written as JSON to WORKDIR/results.json). The
gateway's and the upstream's CPU use (per thread for the gateway) and
memory are read from /proc while each phase runs.

Needs the Python stubs on --stubs (scripts/generate_stubs.sh --out DIR
--python_google_rpc python writes them to DIR/python).
Normally run through bench/run_batch_bench.sh, which builds everything.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "python"))
import testing_util  # noqa: E402 (tests/python: the servers' starter)

TERMINAL_STATES = ("STATE_SUCCEEDED", "STATE_FAILED", "STATE_CANCELLED")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A failed check or a server that misbehaved; the message says which."""


# ---------------------------------------------------------------- processes

class Servers:
    """The processes this run started; stop() ends them, once."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []  # (name, Popen)

    def start(self, name, argv, env=None):
        """Starts a server that prints '... listening on HOST:PORT'; returns (proc, port)."""
        err_path = os.path.join(self.workdir, name + ".log")
        try:
            # The tests' starter (it kills a server that does not come up).
            proc, port = testing_util.start(argv, err_path, env)
        except RuntimeError:
            raise BenchError("%s did not start; its log %s:\n%s" % (
                name, err_path, tail(err_path)))
        self.procs.append((name, proc))
        return proc, port

    def check_alive(self):
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise BenchError("%s exited with code %s; its log:\n%s" % (
                    name, proc.returncode, tail(os.path.join(self.workdir, name + ".log"))))

    def stop(self):
        # The gateway first (it drains), then the upstream.
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    print("%s ignored SIGTERM for 15 s; killing it" % name, file=sys.stderr)
                    proc.kill()
                    proc.wait()
        self.procs = []


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)


# ---------------------------------------------------------------- /proc

def proc_status(pid):
    """VmRSS and VmHWM of pid, in KiB."""
    values = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0])
    return values


def cpu_ticks(stat_path):
    """utime + stime from a /proc stat file (the comm may hold spaces)."""
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def thread_ticks(pid):
    ticks = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            ticks[int(tid)] = cpu_ticks("/proc/%d/task/%s/stat" % (pid, tid))
        except OSError:
            pass  # the thread ended
    return ticks


def system_busy_ticks():
    """CPU time of the whole machine, all CPUs, not idle nor waiting for I/O."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields[:8]) - fields[3] - fields[4]


# What a thread is doing when sampled (x86-64 numbers), to tell the gateway's
# threads apart: its HTTP loop sits in poll (curl_multi_poll), gRPC's in
# epoll_wait, the job store's in futex (idle) or fdatasync/pwrite (SQLite).
SYSCALLS = {"0": "read", "1": "write", "7": "poll", "17": "pread64", "18": "pwrite64",
            "20": "writev", "44": "sendto", "45": "recvfrom", "46": "sendmsg", "47": "recvmsg",
            "74": "fsync", "75": "fdatasync", "128": "rt_sigtimedwait", "202": "futex",
            "232": "epoll_wait", "271": "ppoll", "281": "epoll_pwait", "230": "clock_nanosleep"}


def thread_states(pid):
    """tid -> (comm, what it does now: a syscall name or "running")."""
    states = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/syscall" % (pid, tid)) as f:
                call = f.read().split()[0]
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                comm = f.read().strip()
        except (OSError, IndexError):
            continue
        states[int(tid)] = (comm, SYSCALLS.get(call, "running" if call == "running"
                                               else "syscall " + call))
    return states


class Monitor:
    """Samples RSS and CPU of some processes every `interval` s in a thread,
    and per-thread CPU at the phase edges."""

    def __init__(self, pids, interval=0.1):
        self.pids = pids  # name -> pid
        self.interval = interval
        self.samples = {name: [] for name in pids}  # (t, rss_kib, cpu_ticks)
        self.states = {name: {} for name in pids}  # tid -> {(comm, state): count}
        self.threads_start = {}
        self._stop = threading.Event()
        self._thread = None
        self.t0 = None

    def __enter__(self):
        self.t0 = time.monotonic()
        self.threads_start = {name: thread_ticks(pid) for name, pid in self.pids.items()}
        self.cpu_start = {name: cpu_ticks("/proc/%d/stat" % pid) for name, pid in self.pids.items()}
        self.system_start = system_busy_ticks()
        self.self_start = cpu_ticks("/proc/self/stat")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            now = time.monotonic()
            for name, pid in self.pids.items():
                try:
                    self.samples[name].append(
                        (now, proc_status(pid)["VmRSS"], cpu_ticks("/proc/%d/stat" % pid)))
                    for tid, state in thread_states(pid).items():
                        counts = self.states[name].setdefault(tid, {})
                        counts[state] = counts.get(state, 0) + 1
                except (OSError, KeyError):
                    pass
            self._stop.wait(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.t1 = time.monotonic()
        self.cpu_end = {name: cpu_ticks("/proc/%d/stat" % pid) for name, pid in self.pids.items()}
        self.system_end = system_busy_ticks()
        self.self_end = cpu_ticks("/proc/self/stat")
        self.threads_end = {name: thread_ticks(pid) for name, pid in self.pids.items()}
        return False

    def machine_report(self):
        """The machine's CPU use over the phase: all of it, and what was
        neither these processes nor this script (the shared machine's noise)."""
        wall = self.t1 - self.t0
        busy = (self.system_end - self.system_start) / CLK_TCK
        ours = sum(self.cpu_end[n] - self.cpu_start[n] for n in self.pids) / CLK_TCK
        client = (self.self_end - self.self_start) / CLK_TCK
        return {"busy_pct": round(100 * busy / wall, 1),
                "client_pct": round(100 * client / wall, 1),
                "others_pct": round(100 * max(0.0, busy - ours - client) / wall, 1)}

    def report(self, name):
        """CPU seconds, average and busiest-second CPU %, busiest threads."""
        wall = self.t1 - self.t0
        cpu_s = (self.cpu_end[name] - self.cpu_start[name]) / CLK_TCK
        samples = self.samples[name]
        peak_1s = 0.0
        j = 0
        for i in range(len(samples)):  # the busiest window of >= 1 s
            while j < len(samples) and samples[j][0] - samples[i][0] < 1.0:
                j += 1
            if j < len(samples):
                dt = samples[j][0] - samples[i][0]
                peak_1s = max(peak_1s, (samples[j][2] - samples[i][2]) / CLK_TCK / dt)
        start, end = self.threads_start[name], self.threads_end[name]
        per_thread = sorted(((end[tid] - start.get(tid, 0)) / CLK_TCK, tid) for tid in end)
        busiest = []
        for s, tid in reversed(per_thread[-4:]):
            if s <= 0:
                continue
            counts = self.states[name].get(tid, {})
            total = sum(counts.values()) or 1
            seen = sorted(counts.items(), key=lambda kv: -kv[1])
            busiest.append({
                "tid": tid, "cpu_s": round(s, 2), "pct": round(100 * s / wall, 1),
                "comm": seen[0][0][0] if seen else "?",
                "seen_in": ", ".join("%s %d%%" % (state, round(100 * n / total))
                                     for (comm, state), n in seen[:3])})
        return {
            "cpu_s": round(cpu_s, 2),
            "cpu_pct_avg": round(100 * cpu_s / wall, 1) if wall > 0 else 0.0,
            "cpu_pct_peak_1s": round(100 * peak_1s, 1),
            "rss_peak_sampled_mib": round(max((s[1] for s in samples), default=0) / 1024, 1),
            "threads": len(end),
            "busiest_threads": busiest,
        }


# ---------------------------------------------------------------- upstream stats

def upstream_stats(port, reset=False):
    request = urllib.request.Request("http://127.0.0.1:%d/_stats" % port,
                                     method="DELETE" if reset else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


# ---------------------------------------------------------------- phases

def ts_seconds(ts):
    return ts.seconds + ts.nanos / 1e9


def run_job(args, pb, channel, servers, gateway_pid, upstream_pid, upstream_port):
    batch_jobs_pb2, batch_jobs_pb2_grpc, generation_pb2 = pb
    stub = batch_jobs_pb2_grpc.BatchJobsStub(channel)
    State = batch_jobs_pb2.BatchJob.State
    n = args.items
    result = {"items": n, "concurrency": args.concurrency, "delay_ms": args.delay_ms}

    t = time.monotonic()
    request = batch_jobs_pb2.CreateBatchJobRequest(
        display_name="bench-%d" % n, request_id=str(uuid.uuid4()),
        max_concurrency=args.concurrency,
        items=[batch_jobs_pb2.BatchJobItem(
            custom_id="item-%d" % i,
            request=generation_pb2.GenerateRequest(model=args.model, prompt="Say hi, %d." % i))
            for i in range(n)])
    result["request_mib"] = round(request.ByteSize() / 2**20, 2)
    result["build_request_s"] = round(time.monotonic() - t, 2)
    ideal = n / args.concurrency * args.delay_ms / 1000
    result["ideal_s"] = round(ideal, 3)

    upstream_before = upstream_stats(upstream_port, reset=True)
    rss_before = proc_status(gateway_pid)
    pids = {"gateway": gateway_pid, "upstream": upstream_pid}
    progress = []  # (monotonic, done, upstream in flight)
    with Monitor(pids) as monitor:
        t_create = time.monotonic()
        job = stub.CreateBatchJob(request, timeout=600)
        t_created = time.monotonic()
        wall_created = time.time()
        result["create_s"] = round(t_created - t_create, 3)
        print("  job %s created in %.2f s (%.1f MiB request); ideal run %.2f s" % (
            job.id, t_created - t_create, request.ByteSize() / 2**20, ideal), flush=True)
        del request

        last_print = t_created
        last_change = t_created
        last_done = -1
        deadline = t_created + max(60.0, 20 * ideal)
        while State.Name(job.state) not in TERMINAL_STATES:
            time.sleep(args.poll)
            servers.check_alive()
            job = stub.GetBatchJob(batch_jobs_pb2.GetBatchJobRequest(id=job.id), timeout=30)
            now = time.monotonic()
            done = job.succeeded_count + job.failed_count
            progress.append((now, done, upstream_stats(upstream_port)["in_flight"]))
            if done != last_done:
                last_done, last_change = done, now
            if now - last_print >= 1.0:
                print("  %6.2f s  %s  %d/%d done (%d failed)" % (
                    now - t_created, State.Name(job.state), done, n, job.failed_count), flush=True)
                last_print = now
            if now - last_change > args.stall_s:
                stub.CancelBatchJob(batch_jobs_pb2.CancelBatchJobRequest(id=job.id), timeout=30)
                raise BenchError("job stalled: no progress for %.0f s at %d/%d (state %s)" % (
                    args.stall_s, done, n, State.Name(job.state)))
            if now > deadline:
                stub.CancelBatchJob(batch_jobs_pb2.CancelBatchJobRequest(id=job.id), timeout=30)
                raise BenchError("job did not end in %.0f s (%d/%d done)" % (
                    deadline - t_created, done, n))
        t_seen_end = time.monotonic()
    result["rss_peak_mib"] = round(proc_status(gateway_pid)["VmHWM"] / 1024, 1)
    result["rss_before_mib"] = round(rss_before["VmRSS"] / 1024, 1)

    result["state"] = State.Name(job.state)
    result["succeeded"] = job.succeeded_count
    result["failed"] = job.failed_count
    # The server stamps end_time with the same (realtime) clock as time.time().
    end = ts_seconds(job.end_time)
    result["wall_s"] = round(end - wall_created, 3)  # create returned -> end_time
    result["wall_polled_s"] = round(t_seen_end - t_created, 3)
    result["run_s"] = round(end - ts_seconds(job.start_time), 3)  # start_time -> end_time
    result["create_to_end_s"] = round(end - ts_seconds(job.create_time), 3)
    result["ratio"] = round(result["wall_s"] / ideal, 3)
    result["ratio_run"] = round(result["run_s"] / ideal, 3)
    result["items_per_s"] = round(n / result["wall_s"], 1)
    result["usage_total_tokens"] = job.usage.total_tokens
    # The steadiest stretch: items/s between 20 % and 80 % done.
    lo = next((p for p in progress if p[1] >= 0.2 * n), None)
    hi = next((p for p in progress if p[1] >= 0.8 * n), None)
    if lo and hi and hi[0] > lo[0]:
        result["steady_items_per_s"] = round((hi[1] - lo[1]) / (hi[0] - lo[0]), 1)
        # Of the job's slots, how many were at the upstream (sampled with each
        # poll): the rest of the time an item's slot is in the gateway.
        steady = [p[2] for p in progress if lo[0] <= p[0] <= hi[0]]
        result["upstream_mean_in_flight"] = round(sum(steady) / len(steady), 1)
    result["gateway"] = monitor.report("gateway")
    result["upstream"] = monitor.report("upstream")
    result["machine"] = monitor.machine_report()
    after = upstream_stats(upstream_port)
    result["upstream_requests"] = after["requests"] - upstream_before["requests"]
    result["upstream_peak_in_flight"] = after["peak_in_flight"]
    result["upstream_peak_connections"] = after.get("peak_connections")

    # Every result, each index once, in index order.
    t = time.monotonic()
    seen = bytearray(n)
    count = errors = out_of_order = 0
    previous = -1
    bad_custom_id = 0
    for r in stub.ListBatchJobResults(
            batch_jobs_pb2.ListBatchJobResultsRequest(id=job.id), timeout=600):
        if not 0 <= r.index < n:
            raise BenchError("result index %d out of range" % r.index)
        if seen[r.index]:
            raise BenchError("result index %d streamed twice" % r.index)
        seen[r.index] = 1
        count += 1
        out_of_order += r.index < previous
        previous = r.index
        errors += r.HasField("error")
        bad_custom_id += r.custom_id != "item-%d" % r.index
    result["results_read_s"] = round(time.monotonic() - t, 3)
    result["results_streamed"] = count
    result["results_errors"] = errors
    status = proc_status(gateway_pid)
    result["rss_after_mib"] = round(status["VmRSS"] / 1024, 1)
    result["rss_peak_after_read_mib"] = round(status["VmHWM"] / 1024, 1)

    problems = []
    if result["state"] != "STATE_SUCCEEDED":
        problems.append("state %s (error: %s)" % (result["state"], job.error.message))
    if job.succeeded_count != n or job.failed_count != 0 or job.total_count != n:
        problems.append("counts: total %d succeeded %d failed %d, want %d/%d/0" % (
            job.total_count, job.succeeded_count, job.failed_count, n, n))
    if count != n:
        problems.append("ListBatchJobResults streamed %d results, want %d" % (count, n))
    if errors:
        problems.append("%d results are errors" % errors)
    if out_of_order:
        problems.append("%d results out of index order" % out_of_order)
    if bad_custom_id:
        problems.append("%d results with the wrong custom_id" % bad_custom_id)
    result["problems"] = problems
    return result


def run_generate(args, pb, channel, servers, gateway_pid, upstream_pid, upstream_port):
    _, _, generation_pb2 = pb
    from llmgateway.v1 import generation_pb2_grpc
    stub = generation_pb2_grpc.GenerationStub(channel)
    n = args.generate_items
    request = generation_pb2.BatchGenerateRequest(
        requests=[generation_pb2.GenerateRequest(model=args.model, prompt="Say hi, %d." % i)
                  for i in range(n)],
        max_concurrency=args.generate_concurrency)
    ideal = n / args.generate_concurrency * args.delay_ms / 1000
    runs = []
    problems = []
    for repeat in range(args.generate_repeats):
        servers.check_alive()
        upstream_stats(upstream_port, reset=True)
        seen = bytearray(n)
        count = errors = 0
        first = None
        with Monitor({"gateway": gateway_pid, "upstream": upstream_pid}) as monitor:
            t0 = time.monotonic()
            for r in stub.BatchGenerate(request, timeout=max(60.0, 20 * ideal)):
                if first is None:
                    first = time.monotonic() - t0
                if not 0 <= r.index < n or seen[r.index]:
                    problems.append("run %d: index %d out of range or twice" % (repeat, r.index))
                    continue
                seen[r.index] = 1
                count += 1
                if r.HasField("error"):
                    errors += 1
                    if errors == 1:
                        problems.append("run %d: item %d failed: %s" % (
                            repeat, r.index, r.error.message))
            wall = time.monotonic() - t0
        if count != n:
            problems.append("run %d: %d results, want %d" % (repeat, count, n))
        if errors:
            problems.append("run %d: %d results are errors" % (repeat, errors))
        stats = upstream_stats(upstream_port)
        runs.append({"wall_s": round(wall, 3), "ratio": round(wall / ideal, 3),
                     "first_result_s": round(first or 0, 3),
                     "items_per_s": round(n / wall, 1),
                     "upstream_peak_in_flight": stats["peak_in_flight"],
                     "gateway": monitor.report("gateway"),
                     "machine": monitor.machine_report()})
        print("  BatchGenerate run %d: %.3f s (ideal %.3f s, x%.2f)" % (
            repeat + 1, wall, ideal, wall / ideal), flush=True)
    walls = sorted(r["wall_s"] for r in runs)
    return {"items": n, "concurrency": args.generate_concurrency, "delay_ms": args.delay_ms,
            "ideal_s": round(ideal, 3), "runs": runs,
            "best_s": walls[0], "median_s": walls[len(walls) // 2],
            "best_ratio": round(walls[0] / ideal, 3),
            "median_ratio": round(walls[len(walls) // 2] / ideal, 3),
            "rss_after_mib": round(proc_status(gateway_pid)["VmRSS"] / 1024, 1),
            "problems": problems}


# ---------------------------------------------------------------- output

def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = open("/proc/loadavg").read().split()[:3]
    revision = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                               "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu_model": model, "loadavg_at_start": " ".join(load),
            "git_head": revision or "?"}


def print_table(results):
    m = results["machine"]
    print()
    print("machine: %d CPUs, %s; load average at start %s" % (
        m["nproc"], m["cpu_model"], m["loadavg_at_start"]))
    print("upstream: %s, delay %d ms; store on %s" % (
        results["upstream_kind"], results["delay_ms"], results["store_fs"]))
    rows = []
    job = results.get("job")
    if job:
        g, u = job["gateway"], job["upstream"]
        rows += [
            ("job: items x concurrency", "%d x %d" % (job["items"], job["concurrency"])),
            ("job: CreateBatchJob (RPC)", "%.2f s (%.1f MiB request)" % (
                job["create_s"], job["request_mib"])),
            ("job: create returned -> end_time", "%.2f s" % job["wall_s"]),
            ("job: start_time -> end_time", "%.2f s" % job["run_s"]),
            ("job: ideal", "%.2f s" % job["ideal_s"]),
            ("job: ratio to ideal (target <= 1.10)", "%.3f (start->end: %.3f)%s" % (
                job["ratio"], job["ratio_run"],
                "" if job["ratio"] <= 1.10 else "  MISSED by %.0f %%" % (
                    100 * (job["ratio"] - 1.10)))),
            ("job: items/s (overall, steady 20-80 %)", "%.0f, %s" % (
                job["items_per_s"], job.get("steady_items_per_s", "?"))),
            ("job: state, succeeded, failed", "%s, %d, %d" % (
                job["state"], job["succeeded"], job["failed"])),
            ("job: upstream requests, peak in flight", "%d, %d" % (
                job["upstream_requests"], job["upstream_peak_in_flight"])),
            ("job: upstream in flight, mean at 20-80 %", "%s of %d" % (
                job.get("upstream_mean_in_flight", "?"), job["concurrency"])),
            ("job: ListBatchJobResults", "%d results in %.2f s" % (
                job["results_streamed"], job["results_read_s"])),
            ("gateway RSS before / peak (VmHWM) / after", "%.0f / %.0f / %.0f MiB" % (
                job["rss_before_mib"], job["rss_peak_mib"], job["rss_after_mib"])),
            ("gateway CPU during job (avg, busiest 1 s)",
             "%.0f %%, %.0f %% (%.1f CPU-s, %.0f us an item)" % (
                 g["cpu_pct_avg"], g["cpu_pct_peak_1s"], g["cpu_s"],
                 1e6 * g["cpu_s"] / job["items"])),
        ]
        for t in g["busiest_threads"]:
            rows.append(("  gateway thread %d (%s)" % (t["tid"], t["comm"]),
                         "%.0f %% of a CPU; seen in %s" % (t["pct"], t["seen_in"])))
        rows += [
            ("upstream CPU during job (avg, busiest 1 s)",
             "%.0f %%, %.0f %% (%.1f CPU-s, %.0f us a request)" % (
                 u["cpu_pct_avg"], u["cpu_pct_peak_1s"], u["cpu_s"],
                 1e6 * u["cpu_s"] / max(1, job["upstream_requests"]))),
            ("machine CPU during job (of %d00 %%)" % m["nproc"],
             "%.0f %% busy: bench client %.0f %%, other processes %.0f %%" % (
                 job["machine"]["busy_pct"], job["machine"]["client_pct"],
                 job["machine"]["others_pct"])),
        ]
    gen = results.get("generate")
    if gen:
        rows += [
            ("generate: items x concurrency", "%d x %d" % (gen["items"], gen["concurrency"])),
            ("generate: wall (best, median of %d)" % len(gen["runs"]), "%.3f s, %.3f s" % (
                gen["best_s"], gen["median_s"])),
            ("generate: ideal", "%.3f s" % gen["ideal_s"]),
            ("generate: ratio (best, median)", "%.3f, %.3f" % (
                gen["best_ratio"], gen["median_ratio"])),
            ("generate: upstream peak in flight", ", ".join(
                str(r["upstream_peak_in_flight"]) for r in gen["runs"])),
            ("generate: first result after", ", ".join(
                "%.0f ms" % (1000 * r["first_result_s"]) for r in gen["runs"])),
            ("generate: CPU of bench client, others", ", ".join(
                "%.0f %% + %.0f %%" % (r["machine"]["client_pct"], r["machine"]["others_pct"])
                for r in gen["runs"])),
        ]
    width = max(len(r[0]) for r in rows) if rows else 0
    for label, value in rows:
        print("  %-*s  %s" % (width, label, value))
    for phase in ("job", "generate"):
        for problem in (results.get(phase) or {}).get("problems", []):
            print("PROBLEM (%s): %s" % (phase, problem))


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", required=True, help="the llm_gateway binary")
    parser.add_argument("--upstream", help="the fast_upstream binary")
    parser.add_argument("--fakellm", help="use tests/fakellm/fakellm.py as the upstream instead")
    parser.add_argument("--stubs", required=True, help="directory of the generated Python stubs")
    parser.add_argument("--workdir", help="logs, config, job store (default: a new temp dir)")
    parser.add_argument("--items", type=int, default=100000)
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--delay_ms", type=int, default=50)
    parser.add_argument("--generate_items", type=int, default=1000)
    parser.add_argument("--generate_concurrency", type=int, default=64)
    parser.add_argument("--generate_repeats", type=int, default=3)
    parser.add_argument("--model", default="bench-model")
    parser.add_argument("--poll", type=float, default=0.25, help="GetBatchJob period, s")
    parser.add_argument("--stall_s", type=float, default=60,
                        help="give up when a job makes no progress this long")
    parser.add_argument("--skip_job", action="store_true")
    parser.add_argument("--skip_generate", action="store_true")
    args = parser.parse_args()
    if not args.upstream and not args.fakellm:
        parser.error("give --upstream (fast_upstream) or --fakellm")

    sys.path.insert(0, args.stubs)
    import grpc
    from llmgateway.v1 import batch_jobs_pb2, batch_jobs_pb2_grpc, generation_pb2
    pb = (batch_jobs_pb2, batch_jobs_pb2_grpc, generation_pb2)

    workdir = args.workdir or tempfile.mkdtemp(prefix="batch-bench-")
    os.makedirs(workdir, exist_ok=True)
    store = os.path.join(workdir, "bench.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store + suffix):
            os.remove(store + suffix)
    servers = Servers(workdir)

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    results = {"machine": machine(), "delay_ms": args.delay_ms, "workdir": workdir,
               "store_fs": subprocess.run(["stat", "-f", "-c", "%T", workdir],
                                          capture_output=True, text=True).stdout.strip()}
    try:
        if args.fakellm:
            results["upstream_kind"] = "fakellm.py"
            upstream, upstream_port = servers.start("upstream", [
                sys.executable, args.fakellm, "--listen", "127.0.0.1:0",
                "--first_token_ms", str(args.delay_ms), "--pace_ms", "0"])
        else:
            results["upstream_kind"] = "fast_upstream"
            upstream, upstream_port = servers.start("upstream", [
                args.upstream, "--port=0", "--delay_ms=%d" % args.delay_ms])
        config_path = os.path.join(workdir, "bench_config.textproto")
        max_conc = max(args.concurrency, 256)
        with open(config_path, "w") as f:
            f.write(
                "# Written by bench/batch_bench.py.\n"
                "providers { name: \"openai\" kind: \"openai\" max_connections: %d }\n"
                "batch {\n"
                "  job_max_concurrency: %d\n"
                "  max_items: %d\n"
                "  generate_max_concurrency: %d\n"
                "}\n" % (max(1024, 2 * max_conc), max_conc, max(args.items, 50000),
                         max(args.generate_concurrency, 64)))
        gateway, gateway_port = servers.start("gateway", [
            args.gateway, "--listen=127.0.0.1:0",
            "--openai_base_url=http://127.0.0.1:%d/v1" % upstream_port,
            "--batch_store=" + store, "--config=" + config_path])
        print("upstream (%s) pid %d on :%d; gateway pid %d on :%d; workdir %s" % (
            results["upstream_kind"], upstream.pid, upstream_port, gateway.pid, gateway_port,
            workdir), flush=True)
        channel = grpc.insecure_channel(
            "127.0.0.1:%d" % gateway_port,
            options=[("grpc.max_send_message_length", -1),
                     ("grpc.max_receive_message_length", 64 << 20)])
        grpc.channel_ready_future(channel).result(timeout=30)

        if not args.skip_job:
            print("job: %d items at concurrency %d" % (args.items, args.concurrency), flush=True)
            results["job"] = run_job(args, pb, channel, servers, gateway.pid, upstream.pid,
                                     upstream_port)
        if not args.skip_generate:
            print("BatchGenerate: %d items at concurrency %d" % (
                args.generate_items, args.generate_concurrency), flush=True)
            results["generate"] = run_generate(args, pb, channel, servers, gateway.pid,
                                               upstream.pid, upstream_port)
        servers.check_alive()
        channel.close()
    except grpc.RpcError as e:
        print("FAILED: RPC error %s: %s" % (e.code(), e.details()), file=sys.stderr)
        results["error"] = "%s: %s" % (e.code(), e.details())
    except (BenchError, KeyboardInterrupt) as e:
        print("FAILED: %s" % e, file=sys.stderr)
        results["error"] = str(e)
    except Exception as e:  # a bug here, or an upstream that misbehaves
        traceback.print_exc()
        results["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        servers.stop()

    gateway_log = os.path.join(workdir, "gateway.log")
    if os.path.exists(gateway_log):
        # WARN and ERROR lines, but the expected one: the bench upstream takes no key.
        warnings = [line for line in open(gateway_log, errors="replace")
                    if re.match(r"\S+ (WARN|ERROR) ", line) and "OPENAI_API_KEY" not in line]
        results["gateway_log_warnings"] = len(warnings)
        if warnings:
            print("gateway log (%s): %d WARN/ERROR lines, e.g.:" % (gateway_log, len(warnings)))
            for line in warnings[:5]:
                print("  " + line.rstrip())
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    if "job" in results or "generate" in results:
        print_table(results)
    print("details: %s" % os.path.join(workdir, "results.json"))
    failed = "error" in results or any(
        (results.get(p) or {}).get("problems") for p in ("job", "generate"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
