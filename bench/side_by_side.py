#!/usr/bin/env python3
"""Side-by-side load benchmark (bench/README.md): nginx direct, the gRPC echo
ceiling, llm_gateway (unary and streaming) and Portkey in front of the same
nginx, each measured with h2load in one run.

The system under test (a target and its upstream) is pinned to CPU 0, h2load
to CPU 1. For every cell (target x concurrency) it records req/s, p50/p90/p99
from h2load's per-request log, each process's CPU from /proc/PID/stat, the
upstream's request count (nginx's access log) and the CPU other processes
took; a cell where they took more than --max_other_cpu is run again (up to
--repeats times) and the quietest run is kept. Writes a markdown table and
results.json to --workdir. Stops everything it started, on failure too.

With --variant NAME=BINARY (repeatable) it runs only the gateway's unary row
for each binary, back to back in one run: the A/B table of bench/README.md.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

SYSTEM = "You are a terse assistant. Answer in one short sentence."
USER = "Say hello to the benchmark and tell it that the upstream answered."
MAX_TOKENS = 32

COMPLETION = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000,
    "model": "bench-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello, benchmark!"},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24},
}, separators=(",", ":"))


def sse_body(deltas):
    """A canned chat.completion.chunk stream: `deltas` content chunks, a final
    chunk with finish_reason and usage, then [DONE]."""
    def chunk(delta, finish=None, usage=None):
        body = {"id": "chatcmpl-bench", "object": "chat.completion.chunk",
                "created": 1700000000, "model": "bench-model",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if usage:
            body["usage"] = usage
        return "data: " + json.dumps(body, separators=(",", ":")) + "\n\n"
    events = [chunk({"role": "assistant", "content": "Hello"})]
    # The middle chunks carry only what a delta needs: nginx takes a `return`
    # text of at most 4 KiB.
    events += ["data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" t%d\"}}]}\n\n" % i
               for i in range(1, deltas)]
    events.append(chunk({}, "stop", {"prompt_tokens": 20, "completion_tokens": deltas,
                                     "total_tokens": 20 + deltas}))
    events.append("data: [DONE]\n\n")
    return "".join(events)


def chat_json(model, stream=False):
    body = {"model": model,
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": USER}],
            "max_tokens": MAX_TOKENS}
    if stream:
        body["stream"] = True
    return json.dumps(body, separators=(",", ":")).encode()


# --- a GenerateRequest by hand (protobuf wire format; no stubs needed) ---
def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number, payload):  # length-delimited
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int_field(number, value):
    return _varint(number << 3) + _varint(value)


def grpc_generate_request(model):
    """llmgateway.v1.GenerateRequest{model, messages: [system, user],
    config.max_output_tokens}, framed for gRPC (1 byte flag, 4 bytes length)."""
    def message(role, text):  # Message{role=1, parts=2: Part{text=1}}
        return _int_field(1, role) + _field(2, _field(1, text.encode()))
    body = (_field(1, model.encode()) + _field(2, message(1, SYSTEM)) +
            _field(2, message(3, USER)) + _field(4, _int_field(4, MAX_TOKENS)))
    return b"\x00" + struct.pack(">I", len(body)) + body


# --- processes and /proc ---
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("exited with %s before listening on %d" % (proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nothing listens on port %d after %.0f s" % (port, timeout))


def tree_pids(root):
    """root and its descendants (nginx's worker, node's children)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def proc_cpu_s(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except OSError:
        return 0.0


def tree_cpu_s(root):
    return sum(proc_cpu_s(p) for p in tree_pids(root))


def machine_busy_s():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLK_TCK


def rss_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pinned(cpu, rt, argv):
    """argv on one CPU; with `rt`, under SCHED_FIFO (needs root) so that every
    hand-off between h2load, the target and its upstream runs at once instead
    of waiting out another process's time slice. The kernel's RT throttling
    (95 % of each second) still leaves the others some CPU."""
    prefix = ["chrt", "-f", "10"] if rt else []
    return prefix + ["taskset", "-c", str(cpu)] + argv


class Procs:
    """Everything started, stopped in reverse order at exit."""

    def __init__(self, rt=False):
        self.items = []
        self.rt = rt

    def start(self, name, argv, cpu, log_path, env=None, rt_ok=True):
        log = open(log_path, "wb")
        proc = subprocess.Popen(pinned(cpu, self.rt and rt_ok, argv), stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.items.append((name, proc))
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self):
        for _, proc in reversed(self.items):
            self.stop(proc)


# --- nginx ---
def write_nginx_conf(workdir, port):
    tmp = os.path.join(workdir, "nginx-tmp")
    os.makedirs(tmp, exist_ok=True)

    def quoted(text):
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
    conf = f"""
worker_processes 1;
daemon off;
master_process on;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
  log_format bench '$request_uri $status';
  access_log {workdir}/access.log bench buffer=64k flush=100ms;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /v1/chat/completions {{
      default_type application/json;
      return 200 {quoted(COMPLETION)};
    }}
    location = /sse/v1/chat/completions {{
      default_type text/event-stream;
      return 200 {quoted(sse_body(1))};
    }}
    location = /sse50/v1/chat/completions {{
      default_type text/event-stream;
      return 200 {quoted(sse_body(50))};
    }}
  }}
}}
"""
    path = os.path.join(workdir, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def access_count(workdir, prefix):
    """Lines of nginx's access log whose URI starts with `prefix` and status 200."""
    time.sleep(0.3)  # the log buffer is flushed every 100 ms
    n = 0
    try:
        with open(os.path.join(workdir, "access.log")) as f:
            for line in f:
                if line.startswith(prefix) and line.rstrip().endswith(" 200"):
                    n += 1
    except FileNotFoundError:
        pass
    return n


# --- h2load ---
def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[k]


def run_h2load(args, url, conc, body_path, headers, h1, log_path):
    argv = pinned(1, args.rt, [args.h2load, "-c", str(conc), "-t", "1", "-m", "1",
                                 "-D", str(args.duration), "--warm-up-time", str(args.warmup),
                                 "-d", body_path, "--log-file", log_path])
    if h1:
        argv.append("--h1")
    for h in headers:
        argv += ["-H", h]
    argv.append(url)
    if os.path.exists(log_path):
        os.unlink(log_path)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError("h2load failed (%d):\n%s" % (proc.returncode, out))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    rps = re.search(r"finished in ([\d.]+)(\w+), ([\d.]+) req/s", out)
    lat = []
    with open(log_path) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) >= 3 and cols[1] != "-1":
                lat.append(int(cols[2]))
    lat.sort()
    return {
        "done": int(m.group(3)) if m else 0,
        "succeeded": int(m.group(4)) if m else 0,
        "failed": int(m.group(5)) + int(m.group(6)) + int(m.group(7)) if m else -1,
        "2xx": int(codes.group(1)) if codes else 0,
        "rps": float(rps.group(3)) if rps else 0.0,
        "p50_us": percentile(lat, 0.50), "p90_us": percentile(lat, 0.90),
        "p99_us": percentile(lat, 0.99), "logged": len(lat),
        "h2load_cpu_s": usage.ru_utime + usage.ru_stime,
        "raw": out,
    }


def metrics_ok(port):
    """llmgateway_requests_total summed by code: OK, and the others."""
    import urllib.request
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
    ok = other = 0
    for line in text.splitlines():
        if line.startswith("llmgateway_requests_total{"):
            value = float(line.rsplit(" ", 1)[1])
            if 'code="OK"' in line:
                ok += value
            else:
                other += value
    return int(ok), int(other)


class Target:
    def __init__(self, name, label, url, body, headers, h1, pids, upstream_prefix=None,
                 metrics_port=None):
        self.name, self.label, self.url, self.body = name, label, url, body
        self.headers, self.h1, self.pids = headers, h1, pids
        self.upstream_prefix, self.metrics_port = upstream_prefix, metrics_port


def measure(args, workdir, target, conc, nginx_pid):
    """One cell, repeated while other processes took the CPU."""
    best = None
    for attempt in range(args.repeats):
        before_up = access_count(workdir, target.upstream_prefix) if target.upstream_prefix else 0
        before_m = metrics_ok(target.metrics_port) if target.metrics_port else None
        pids = {name: pid for name, pid in target.pids.items()}
        cpu0 = {name: tree_cpu_s(pid) for name, pid in pids.items()}
        busy0, t0 = machine_busy_s(), time.time()
        log_path = os.path.join(workdir, "h2load-%s-c%d.log" % (target.name, conc))
        r = run_h2load(args, target.url, conc, target.body, target.headers, target.h1, log_path)
        wall = time.time() - t0
        busy = machine_busy_s() - busy0
        cpu = {name: tree_cpu_s(pid) - cpu0[name] for name, pid in pids.items()}
        ours = sum(cpu.values()) + r["h2load_cpu_s"]
        r["cpu_pct"] = {name: 100.0 * v / wall for name, v in cpu.items()}
        r["cpu_us_per_req"] = {name: 1e6 * v / max(1, r["done"]) for name, v in cpu.items()}
        r["h2load_cpu_pct"] = 100.0 * r["h2load_cpu_s"] / wall
        r["other_cpu_pct"] = max(0.0, 100.0 * (busy - ours) / wall)
        r["attempt"] = attempt + 1
        if target.upstream_prefix:
            time.sleep(0.2)  # calls still in flight when h2load stopped
            r["upstream_count"] = access_count(workdir, target.upstream_prefix) - before_up
        if target.metrics_port:
            ok, other = metrics_ok(target.metrics_port)
            r["gateway_ok"] = ok - before_m[0]
            r["gateway_not_ok"] = other - before_m[1]
        rss = {name: rss_mib(pid) for name, pid in pids.items()}
        r["rss_mib"] = rss
        del r["raw"]
        if best is None or r["other_cpu_pct"] < best["other_cpu_pct"]:
            best = r
        if r["other_cpu_pct"] <= args.max_other_cpu or attempt + 1 == args.repeats:
            break
        print("  %s c=%d: other processes took %.0f%% of a CPU; again" %
              (target.name, conc, r["other_cpu_pct"]), flush=True)
    best["attempts"] = attempt + 1
    return best


def check(target, conc, r):
    """A gateway call counts only if it reached the upstream: the upstream's count
    must cover every call h2load saw finish (those in flight when it stopped
    may add up to `conc`), and the gateway must report no failed call."""
    problems = []
    if r["done"] == 0:
        problems.append("no request answered")
    if r["failed"] > 0 or r["2xx"] < r["done"] - conc:
        problems.append("%d failed, %d of %d 2xx" % (r["failed"], r["2xx"], r["done"]))
    if target.upstream_prefix is not None:
        # h2load does not count the warm-up's requests in `done`.
        if r["upstream_count"] < r["done"]:
            problems.append("upstream saw %d < %d done" % (r["upstream_count"], r["done"]))
    if target.metrics_port is not None:
        # h2load closes its connections when the time is up: the calls in
        # flight then end CANCELLED (some after reaching the upstream).
        if r["gateway_not_ok"] > conc:
            problems.append("gateway: %d calls not OK" % r["gateway_not_ok"])
        if not r["gateway_ok"] <= r["upstream_count"] <= r["gateway_ok"] + r["gateway_not_ok"]:
            problems.append("upstream %d, gateway OK %d + cancelled %d" % (
                r["upstream_count"], r["gateway_ok"], r["gateway_not_ok"]))
    return problems


def versions(args):
    def first_line(argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except Exception as e:  # noqa: BLE001 - a version string is informative only
            return "? (%s)" % e
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    v = {
        "machine": "%s, %d CPUs, kernel %s" % (cpu, os.cpu_count(), platform.release()),
        "h2load": first_line([args.h2load, "--version"]),
        "nginx": first_line([args.nginx, "-v"]),
        "node": first_line(["node", "--version"]),
    }
    if args.portkey:
        try:
            with open(os.path.join(args.portkey, "package.json")) as f:
                v["portkey"] = "@portkey-ai/gateway " + json.load(f)["version"]
        except OSError:
            v["portkey"] = "?"
    return v


def fmt_us(us):
    return "%.0f µs" % us if us < 10000 else "%.2f ms" % (us / 1000)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gateway", help="llm_gateway binary")
    p.add_argument("--echo", help="bench echo_server binary")
    p.add_argument("--portkey", help="node_modules/@portkey-ai/gateway folder (skip if unset)")
    p.add_argument("--variant", action="append", default=[],
                   help="NAME=BINARY: A/B mode, the gateway's unary row per binary")
    p.add_argument("--workdir", required=True)
    p.add_argument("--h2load", default="h2load")
    p.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    p.add_argument("--duration", type=int, default=5, help="seconds measured per cell")
    p.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per cell")
    p.add_argument("--concurrency", default="1,64,256")
    p.add_argument("--stream50_concurrency", default="1,64",
                   help="concurrencies for the 50-delta stream row (per-chunk cost)")
    p.add_argument("--max_other_cpu", type=float, default=15.0,
                   help="%% of a CPU other processes may take before a cell is run again")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rounds", type=int, default=2, help="A/B mode: rounds over the variants")
    p.add_argument("--rt", action="store_true",
                   help="run the targets and h2load under SCHED_FIFO (root; for a machine "
                        "shared with builds: see bench/README.md)")
    p.add_argument("--out", default=None, help="markdown results (default WORKDIR/results.md)")
    args = p.parse_args()
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    concs = [int(c) for c in args.concurrency.split(",")]
    s50 = [int(c) for c in args.stream50_concurrency.split(",") if c]

    procs = Procs(args.rt)

    def on_signal(signum, _frame):
        procs.stop_all()
        sys.exit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    try:
        return run(args, workdir, concs, s50, procs)
    finally:
        procs.stop_all()


def start_gateway(args, procs, workdir, binary, name, nginx_port):
    port, mport = free_port(), free_port()
    conf = os.path.join(workdir, "gateway-%s.textproto" % name)
    base = "http://127.0.0.1:%d" % nginx_port
    with open(conf, "w") as f:
        f.write(f'''listen: "127.0.0.1:{port}"
metrics_listen: "127.0.0.1:{mport}"
batch {{ store_path: "{workdir}/gateway-{name}.db" }}
default_provider: "openai"
providers {{ name: "openai" kind: "openai" base_url: "{base}/v1" max_connections: 1024 }}
providers {{ name: "sse" kind: "openai" base_url: "{base}/sse/v1" max_connections: 1024 }}
providers {{ name: "sse50" kind: "openai" base_url: "{base}/sse50/v1" max_connections: 1024 }}
models {{ name: "bench-stream" provider: "sse" upstream_model: "bench-model" }}
models {{ name: "bench-stream50" provider: "sse50" upstream_model: "bench-model" }}
''')
    env = dict(os.environ, OPENAI_API_KEY="sk-bench")
    proc = procs.start(name, [binary, "--config", conf], 0,
                       os.path.join(workdir, "gateway-%s.log" % name), env)
    wait_port(port, proc=proc)
    wait_port(mport, proc=proc)
    return proc, port, mport


def run(args, workdir, concs, s50, procs):
    info = versions(args)
    print("machine: %s" % info["machine"], flush=True)
    nginx_port = free_port()
    conf = write_nginx_conf(workdir, nginx_port)
    nginx = procs.start("nginx", [args.nginx, "-c", conf, "-p", workdir], 0,
                        os.path.join(workdir, "nginx.out"))
    wait_port(nginx_port, proc=nginx)

    files = {}
    for name, data in [("chat.json", chat_json("bench-model")),
                       ("chat-stream.json", chat_json("bench-model", stream=True)),
                       ("generate.grpc", grpc_generate_request("bench-model")),
                       ("stream.grpc", grpc_generate_request("bench-stream")),
                       ("stream50.grpc", grpc_generate_request("bench-stream50"))]:
        files[name] = os.path.join(workdir, name)
        with open(files[name], "wb") as f:
            f.write(data)
    json_h = ["content-type: application/json"]
    grpc_h = ["content-type: application/grpc", "te: trailers"]
    nginx_base = "http://127.0.0.1:%d" % nginx_port
    nginx_pids = {"nginx": nginx.pid}

    rows = []  # (target, label, conc, result)

    def bench(target, conc_list):
        for conc in conc_list:
            print("%s c=%d ..." % (target.name, conc), end=" ", flush=True)
            r = measure(args, workdir, target, conc, nginx.pid)
            problems = check(target, conc, r)
            r["problems"] = problems
            print("%.0f req/s, p50 %s, p99 %s%s" % (
                r["rps"], fmt_us(r["p50_us"]), fmt_us(r["p99_us"]),
                ("  PROBLEM: " + "; ".join(problems)) if problems else ""), flush=True)
            rows.append((target, conc, r))

    if args.variant:
        # All variants run at once (an idle one costs nothing) and take turns
        # cell by cell, round after round: drift in the machine's load hits
        # each of them alike.
        targets = []
        for spec in args.variant:
            name, binary = spec.split("=", 1)
            gw, gport, mport = start_gateway(args, procs, workdir, binary, name, nginx_port)
            targets.append(Target(name, "llm_gateway " + name,
                                  "http://127.0.0.1:%d/llmgateway.v1.Generation/Generate" % gport,
                                  files["generate.grpc"], grpc_h, False,
                                  dict(nginx_pids, gateway=gw.pid), "/v1/", mport))
        for _ in range(args.rounds):
            for conc in concs:
                for t in targets:
                    bench(t, [conc])
        return report(args, workdir, info, rows, ab=True)

    bench(Target("nginx", "nginx direct (HTTP/1.1)", nginx_base + "/v1/chat/completions",
                 files["chat.json"], json_h, True, nginx_pids, "/v1/"), concs)
    bench(Target("nginx-sse", "nginx direct, 1-delta SSE (HTTP/1.1)",
                 nginx_base + "/sse/v1/chat/completions", files["chat-stream.json"], json_h,
                 True, nginx_pids, "/sse/"), concs)
    if s50:
        bench(Target("nginx-sse50", "nginx direct, 50-delta SSE (HTTP/1.1)",
                     nginx_base + "/sse50/v1/chat/completions", files["chat-stream.json"],
                     json_h, True, nginx_pids, "/sse50/"), s50)

    if args.echo:
        eport = free_port()
        echo = procs.start("echo", [args.echo, "--listen=127.0.0.1:%d" % eport], 0,
                           os.path.join(workdir, "echo.log"))
        wait_port(eport, proc=echo)
        url = "http://127.0.0.1:%d/llmgateway.v1.Generation/" % eport
        bench(Target("echo", "gRPC C++ callback echo (no upstream)", url + "Generate",
                     files["generate.grpc"], grpc_h, False, {"echo": echo.pid}), concs)
        bench(Target("echo-stream", "gRPC echo, GenerateStream (2 messages)",
                     url + "GenerateStream", files["generate.grpc"], grpc_h, False,
                     {"echo": echo.pid}), concs)
        procs.stop(echo)

    if args.gateway:
        gw, gport, mport = start_gateway(args, procs, workdir, args.gateway, "gateway",
                                         nginx_port)
        url = "http://127.0.0.1:%d/llmgateway.v1.Generation/" % gport
        pids = dict(nginx_pids, gateway=gw.pid)
        bench(Target("gateway", "llm_gateway Generate -> nginx", url + "Generate",
                     files["generate.grpc"], grpc_h, False, pids, "/v1/", mport), concs)
        bench(Target("gateway-stream", "llm_gateway GenerateStream -> nginx 1-delta SSE",
                     url + "GenerateStream", files["stream.grpc"], grpc_h, False, pids,
                     "/sse/", mport), concs)
        if s50:
            bench(Target("gateway-stream50", "llm_gateway GenerateStream -> nginx 50-delta SSE",
                         url + "GenerateStream", files["stream50.grpc"], grpc_h, False, pids,
                         "/sse50/", mport), s50)
        procs.stop(gw)

    if args.portkey:
        pport = free_port()
        env = dict(os.environ, NODE_ENV="production")
        pk = procs.start("portkey", ["node", os.path.join(args.portkey, "build/start-server.js"),
                                     "--port=%d" % pport, "--headless"], 0,
                         os.path.join(workdir, "portkey.log"), env, rt_ok=False)
        wait_port(pport, proc=pk)
        headers = json_h + ["x-portkey-provider: openai",
                            "x-portkey-custom-host: %s/v1" % nginx_base,
                            "authorization: Bearer sk-bench"]
        # Not under SCHED_FIFO even with --rt: Node's threads, all on one CPU at
        # one FIFO priority, stalled it (0 answers in 5 s at c=1).
        bench(Target("portkey", "Portkey -> nginx (HTTP/1.1)%s" % (" (not --rt)" if args.rt else ""),
                     "http://127.0.0.1:%d/v1/chat/completions" % pport, files["chat.json"],
                     headers, True, dict(nginx_pids, portkey=pk.pid), "/v1/"), concs)
        procs.stop(pk)

    return report(args, workdir, info, rows, ab=False)


def report(args, workdir, info, rows, ab):
    out = args.out or os.path.join(workdir, "results.md")
    by = {(t.name, c): r for t, c, r in rows}
    lines = ["# Side-by-side results (%s)" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), ""]
    for k, v in info.items():
        lines.append("- %s: %s" % (k, v))
    lines += ["- each cell: %d s measured after %d s warm-up; the target and its upstream on "
              "CPU 0, h2load on CPU 1" % (args.duration, args.warmup), ""]
    lines += ["| target | c | done | req/s | p50 | p90 | p99 | CPU % (µs/req) | upstream count "
              "| other CPU % | ok |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for t, c, r in rows:
        cpu = ", ".join("%s %.0f (%.0f)" % (n, r["cpu_pct"][n], r["cpu_us_per_req"][n])
                        for n in r["cpu_pct"])
        up = str(r.get("upstream_count", "-"))
        if "gateway_ok" in r:
            up += " (gateway OK %d)" % r["gateway_ok"]
        lines.append("| %s | %d | %d | %.0f | %s | %s | %s | %s | %s | %.0f%s | %s |" % (
            t.label, c, r["done"], r["rps"], fmt_us(r["p50_us"]), fmt_us(r["p90_us"]),
            fmt_us(r["p99_us"]), cpu, up, r["other_cpu_pct"],
            " (%d runs)" % r["attempts"] if r["attempts"] > 1 else "",
            "yes" if not r["problems"] else "; ".join(r["problems"])))
    lines.append("")
    if ab:
        lines += ab_summary(rows)
    else:
        lines += derived(by)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump({"info": info, "rows": [{"target": t.name, "label": t.label, "c": c, **r}
                                          for t, c, r in rows]}, f, indent=1)
    print("\n".join(lines))
    print("wrote %s" % out)
    return 1 if any(r["problems"] for _, _, r in rows) else 0


def ab_summary(rows):
    """Per variant and concurrency: the mean over rounds of req/s and p50, and
    req/s relative to the first variant."""
    cells, order = {}, []
    for t, c, r in rows:
        if (t.name, c) not in cells:
            order.append((t.name, c))
        cells.setdefault((t.name, c), []).append(r)
    first = order[0][0] if order else None
    lines = ["## A/B (mean over rounds)", "",
             "| variant | c | req/s | vs %s | p50 | p99 | gateway µs CPU/req | other CPU %% |" % first,
             "|---|---|---|---|---|---|---|---|"]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    for name, c in sorted(order, key=lambda k: (k[1], order.index(k))):
        rs = cells[(name, c)]
        rps = mean([r["rps"] for r in rs])
        base = mean([r["rps"] for r in cells[(first, c)]])
        lines.append("| %s | %d | %.0f | %+.1f%% | %s | %s | %.0f | %.0f |" % (
            name, c, rps, 100 * (rps / base - 1), fmt_us(mean([r["p50_us"] for r in rs])),
            fmt_us(mean([r["p99_us"] for r in rs])),
            mean([r["cpu_us_per_req"]["gateway"] for r in rs]),
            mean([r["other_cpu_pct"] for r in rs])))
    lines.append("")
    return lines


def derived(by):
    """The ratios issue 17's targets are written in."""
    lines = ["## Ratios (issue 17's targets)", ""]

    def get(name, c, key):
        r = by.get((name, c))
        return r[key] if r else None
    gw64, echo64, pk64 = get("gateway", 64, "rps"), get("echo", 64, "rps"), get("portkey", 64, "rps")
    gw256 = get("gateway", 256, "rps")
    if gw64 and echo64:
        lines.append("- gateway req/s at c=64 / echo's: %.0f%% (target >= 50%%)" % (100 * gw64 / echo64))
    if gw64 and pk64:
        lines.append("- gateway req/s at c=64 / Portkey's: %.1fx (target >= 20x)" % (gw64 / pk64))
    if gw64 and gw256:
        lines.append("- gateway req/s at c=256 vs c=64: %+.0f%% (target >= -10%%)" %
                     (100 * (gw256 / gw64 - 1)))
    for q, slack in (("p50_us", 30), ("p99_us", 100)):
        g, d, e = get("gateway", 1, q), get("nginx", 1, q), get("echo", 1, q)
        if g and d and e:
            lines.append("- c=1 %s: gateway %.0f µs vs direct + echo + %d = %.0f µs (%+.0f µs)" % (
                q[:3], g, slack, d + e + slack, g - (d + e + slack)))
    for c in (1, 64, 256):
        gs, ds = get("gateway-stream", c, "p50_us"), get("nginx-sse", c, "p50_us")
        if gs and ds:
            lines.append("- streaming c=%d: whole 1-delta stream p50 %.0f µs vs direct SSE %.0f µs: "
                         "added %.0f µs (an upper bound of the added time to first token; "
                         "target <= 100 µs)" % (c, gs, ds, gs - ds))
    g1, g50 = by.get(("gateway-stream", 64)), by.get(("gateway-stream50", 64))
    if g1 and g50:
        per = (g50["cpu_us_per_req"]["gateway"] - g1["cpu_us_per_req"]["gateway"]) / 49
        lines.append("- per-chunk relay cost (c=64, 50 vs 1 delta): %.1f µs of gateway CPU a delta"
                     % per)
    g1, g50 = by.get(("gateway-stream", 1)), by.get(("gateway-stream50", 1))
    n1, n50 = by.get(("nginx-sse", 1)), by.get(("nginx-sse50", 1))
    if g1 and g50 and n1 and n50:
        added = ((g50["p50_us"] - n50["p50_us"]) - (g1["p50_us"] - n1["p50_us"])) / 49
        lines.append("- per-chunk added latency (c=1, 50 vs 1 delta, over direct): %.1f µs a delta"
                     % added)
    lines.append("")
    return lines


if __name__ == "__main__":
    sys.exit(main())
