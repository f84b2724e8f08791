#!/usr/bin/env bash
# The many-streams bench (bench/README.md, "Many streams"; issue 17's
# "10,000 concurrent streams" target): builds the gateway, fast_upstream and
# many_streams with --config=release, starts fast_upstream in its streaming
# mode and the gateway in front of it, opens N GenerateStream calls at once,
# samples the gateway's RSS and threads every 0.5 s, and prints what it saw
# and a markdown table row. Stops everything it started, on failure and on
# signals too. Not run in CI.
#
# Usage: bash bench/run_many_streams.sh [--streams N] [--deltas D] [--stream_ms MS]
#                                       [--channels C] [--warm N] [--rt] [--perf]
#                                       [-- many_streams flags...]
#   --warm N run N bursts of the same size into the gateway first, and
#            measure the next one (a warm gateway: see bench/README.md)
#   --rt     run the gateway, the upstream and the client under SCHED_FIFO
#            (`chrt -f 10`, root), as run_bench.sh --rt does: on a machine
#            shared with builds they then get the CPU whenever they can run
#            (the kernel's RT throttling still leaves others 5 % of it)
#   --perf   also `perf record -g` the gateway for the run (perf.data in WORKDIR)
# Environment:
#   BAZEL        the bazel command, startup options included (default "bazel")
#   BAZEL_FLAGS  extra build flags
#   WORKDIR      config, logs, samples, per-thread CPU (default: a new
#                /tmp/many-streams.* directory, kept)
#   GATEWAY_LIMITS  extra fields for the config's `limits { }` block
#                (default empty: the gateway's own defaults)
#   GATEWAY      a gateway binary to run instead of the one built here (an
#                A/B against another build)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
BAZEL="${BAZEL:-bazel}"
BAZEL_FLAGS="${BAZEL_FLAGS:-}"
GATEWAY_LIMITS="${GATEWAY_LIMITS:-}"

streams=10000
deltas=50
stream_ms=5000
channels=0
warm=0
perf=0
rt=()
client_flags=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --streams) streams="$2"; shift 2 ;;
    --deltas) deltas="$2"; shift 2 ;;
    --stream_ms) stream_ms="$2"; shift 2 ;;
    --channels) channels="$2"; shift 2 ;;
    --warm) warm="$2"; shift 2 ;;
    --perf) perf=1; shift ;;
    --rt) rt=(chrt -f 10); shift ;;
    --) shift; client_flags=("$@"); break ;;
    *) echo "run_many_streams: unknown argument $1" >&2; exit 2 ;;
  esac
done

# shellcheck disable=SC2086  # BAZEL and BAZEL_FLAGS are word lists
$BAZEL build --config=release $BAZEL_FLAGS //server:llm_gateway //bench:fast_upstream \
  //bench:many_streams
# shellcheck disable=SC2086
bin="$($BAZEL info --config=release $BAZEL_FLAGS bazel-bin 2>/dev/null)"
for binary in server/llm_gateway bench/fast_upstream bench/many_streams; do
  [[ -x "$bin/$binary" ]] || { echo "run_many_streams: $bin/$binary was not built" >&2; exit 1; }
done

# Descriptors: the gateway holds one upstream connection per stream (HTTP/1.1)
# plus the callers', fast_upstream one per stream. The soft limit goes up to
# the hard one; as root the hard one goes up too if it is short.
want_fds=$((2 * streams + 1024))
if [[ "$(ulimit -Hn)" != unlimited && "$(ulimit -Hn)" -lt "$want_fds" ]]; then
  ulimit -Hn "$want_fds" 2>/dev/null ||
    echo "run_many_streams: hard fd limit $(ulimit -Hn) < $want_fds and cannot be raised" >&2
fi
ulimit -n "$(ulimit -Hn)"
echo "run_many_streams: fd limit (ulimit -n) $(ulimit -n)"

workdir="${WORKDIR:-$(mktemp -d /tmp/many-streams.XXXXXX)}"
mkdir -p "$workdir"
pids=()
sampler=""
cleanup() {
  if [[ -n "$sampler" ]]; then kill "$sampler" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Waits for "listening on HOST:PORT" in a log; prints PORT.
port_from_log() {
  local log="$1" pid="$2"
  for _ in $(seq 1 300); do
    if grep -qo 'listening on [0-9.]*:[0-9]*' "$log" 2>/dev/null; then
      grep -o 'listening on [0-9.]*:[0-9]*' "$log" | head -1 | sed 's/.*://'
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "run_many_streams: $log: exited" >&2; cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "run_many_streams: $log: no port after 30 s" >&2
  return 1
}

"${rt[@]}" "$bin/bench/fast_upstream" --port=0 --stream_deltas="$deltas" --stream_ms="$stream_ms" \
  >"$workdir/upstream.log" 2>&1 &
upstream=$!
pids+=("$upstream")
upstream_port="$(port_from_log "$workdir/upstream.log" "$upstream")"

cat >"$workdir/gateway.textproto" <<EOF
listen: "127.0.0.1:0"
batch { store_path: "$workdir/gateway.db" }
default_provider: "up"
# No max_connections: one upstream connection per stream, none queued.
providers { name: "up" kind: "openai" base_url: "http://127.0.0.1:$upstream_port/v1" }
limits { $GATEWAY_LIMITS }
EOF
gateway_binary="${GATEWAY:-$bin/server/llm_gateway}"
echo "run_many_streams: gateway binary $gateway_binary"
"${rt[@]}" "$gateway_binary" --config="$workdir/gateway.textproto" >"$workdir/gateway.log" 2>&1 &
gateway=$!
pids+=("$gateway")
gateway_port="$(port_from_log "$workdir/gateway.log" "$gateway")"

clk_tck="$(getconf CLK_TCK)"
# utime + stime of a process in ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# Each thread: tid, name, ns on a CPU and ns runnable but waiting for one
# (/proc/PID/task/TID/schedstat): a thread that waits a lot is starved of
# CPU, one that neither runs nor waits is blocked (idle).
thread_times() {
  for t in /proc/"$1"/task/*; do
    [[ -r "$t/schedstat" ]] || continue
    printf '%s %s %s\n' "${t##*/}" "$(tr ' ' '_' <"$t/comm")" \
      "$(cut -d' ' -f1-2 "$t/schedstat" 2>/dev/null || echo '0 0')"
  done
}
# TCP listen-queue overflows and SYN retransmissions, machine-wide: a
# connect that overflowed a backlog costs its caller a 1 s SYN retry.
tcp_counters() {
  awk '/^TcpExt:/ { if (!h) { split($0, n); h = 1 } else { split($0, v);
       for (i = 2; i <= NF; i++) if (n[i] ~ /^(ListenOverflows|ListenDrops|TCPSynRetrans)$/)
         printf "%s=%s ", n[i], v[i] } }' /proc/net/netstat
}

# Every 0.5 s: time, gateway VmRSS and VmHWM (kB), threads, upstream CPU ticks.
sample() {
  while kill -0 "$gateway" 2>/dev/null; do
    awk -v t="$(date +%s.%N)" -v up="$(cpu_ticks "$upstream" 2>/dev/null || echo 0)" \
      '/^VmRSS/ { rss = $2 } /^VmHWM/ { hwm = $2 } /^Threads/ { th = $2 }
       END { printf "%.1f %d %d %d %d\n", t, rss, hwm, th, up }' "/proc/$gateway/status"
    sleep 0.5
  done
}
# --warm N: N bursts first, so the measured one meets a gateway whose
# allocator already holds its memory (a cold gateway's first touch of fresh
# pages made its ramp about twice as long). VmHWM then includes them.
for ((i = 1; i <= warm; i++)); do
  if ! "${rt[@]}" "$bin/bench/many_streams" --target="127.0.0.1:$gateway_port" \
      --streams="$streams" --channels="$channels" --expect_deltas="$deltas" \
      "${client_flags[@]}" >"$workdir/warm$i.out" 2>&1; then
    echo "run_many_streams: warm-up burst $i failed:" >&2
    cat "$workdir/warm$i.out" >&2
    exit 1
  fi
  echo "run_many_streams: warm-up burst $i:$(grep 'time to first delta' "$workdir/warm$i.out" | cut -d: -f2-)"
  sleep 2
done

sample >"$workdir/samples.txt" &
sampler=$!

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
gw_before="$(cpu_ticks "$gateway")"
up_before="$(cpu_ticks "$upstream")"
up_sched_before="$(cut -d' ' -f1-2 "/proc/$upstream/schedstat")"
thread_times "$gateway" >"$workdir/threads.before"
tcp_before="$(tcp_counters)"
if [[ "$perf" == 1 ]]; then
  perf record -g -o "$workdir/perf.data" -p "$gateway" >"$workdir/perf.log" 2>&1 &
  perf_pid=$!
  pids+=("$perf_pid")
fi

echo "run_many_streams: $streams streams of $deltas deltas over $stream_ms ms;" \
  "gateway pid $gateway on :$gateway_port, upstream pid $upstream on :$upstream_port;" \
  "load average $load_before; ${rt[*]:-no chrt}; work dir $workdir"
status=0
"${rt[@]}" "$bin/bench/many_streams" --target="127.0.0.1:$gateway_port" --streams="$streams" \
  --channels="$channels" --expect_deltas="$deltas" "${client_flags[@]}" \
  | tee "$workdir/many_streams.out" || status=$?

gw_after="$(cpu_ticks "$gateway")"
up_after="$(cpu_ticks "$upstream")"
up_sched_after="$(cut -d' ' -f1-2 "/proc/$upstream/schedstat")"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
thread_times "$gateway" >"$workdir/threads.after"
tcp_after="$(tcp_counters)"
upstream_stats="$(curl -sS "http://127.0.0.1:$upstream_port/_stats" 2>&1 || true)"
sleep 0.6  # one more sample after the last stream
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=""
if [[ "$perf" == 1 ]]; then
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
fi

echo "gateway threads during the run: CPU s, runnable-but-waiting s, name (tid):"
join <(sort "$workdir/threads.before") <(sort "$workdir/threads.after") 2>/dev/null |
  awk '{ run = ($6 - $3) / 1e9; wait = ($7 - $4) / 1e9;
         if (run > 0.005) printf "  %7.2f %7.2f  %s (%s)\n", run, wait, $5, $1 }' |
  sort -rn | head -8
echo "TCP (machine-wide) before: $tcp_before"
echo "TCP (machine-wide) after:  $tcp_after"
echo "fast_upstream: $upstream_stats"
echo "$up_sched_before $up_sched_after" | awk '{ printf "fast_upstream thread: %.2f s CPU, %.2f s runnable-but-waiting\n", ($3 - $1) / 1e9, ($4 - $2) / 1e9 }'

python3 - "$workdir" "$streams" "$deltas" "$stream_ms" "$clk_tck" "$gw_before" "$gw_after" \
  "$up_before" "$up_after" "$load_before" "$load_after" <<'EOF'
import json, sys
(workdir, streams, deltas, stream_ms, hz, gw0, gw1, up0, up1, load0, load1) = sys.argv[1:]
hz = float(hz)
result = None
with open(f"{workdir}/many_streams.out") as f:
    for line in f:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
samples = [line.split() for line in open(f"{workdir}/samples.txt") if line.strip()]
rss_peak = max((int(s[1]) for s in samples), default=0) / 1024
hwm = max((int(s[2]) for s in samples), default=0) / 1024
threads = max((int(s[3]) for s in samples), default=0)
gw_cpu = (float(gw1) - float(gw0)) / hz
up_cpu = (float(up1) - float(up0)) / hz
import re
calls, attempts = [], []
for line in open(f"{workdir}/gateway.log"):
    if "rpc=GenerateStream" in line:
        m = re.search(r" ms=(\d+)", line)
        if m: calls.append(int(m.group(1)))
        m = re.search(r"/\d+:(\d+)ms\]", line)
        if m: attempts.append(int(m.group(1)))
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else 0
print(f"gateway log: {len(calls)} GenerateStream calls, call ms p50 {pct(calls, 50)} "
      f"p99 {pct(calls, 99)}; upstream attempt ms p50 {pct(attempts, 50)} p99 {pct(attempts, 99)}")
print(f"gateway: RSS peak sampled {rss_peak:.0f} MiB, VmHWM {hwm:.0f} MiB, threads max {threads}, "
      f"CPU {gw_cpu:.1f} s; upstream CPU {up_cpu:.1f} s; load average {load0} -> {load1}")
if result is None:
    print("run_many_streams: many_streams printed no RESULT line", file=sys.stderr)
    sys.exit(0)
t, w = result["ttfd_ms"], result["total_ms"]
print()
print("| streams x deltas / ms | ok / failed / lost | RSS peak (VmHWM) | threads | "
      "TTFD p50 / p99 | total p50 / p99 | gateway CPU | upstream CPU | client CPU | load avg |")
print("|---|---|---|---|---|---|---|---|---|---|")
print(f"| {int(streams):,} x {deltas} / {stream_ms} | {result['ok']:,} / {result['failed']:,} / "
      f"{result['lost']:,} | {hwm:.0f} MiB | {threads} | {t['p50']/1000:.2f} / {t['p99']/1000:.2f} s | "
      f"{w['p50']/1000:.2f} / {w['p99']/1000:.2f} s | {gw_cpu:.1f} s | {up_cpu:.1f} s | "
      f"{result['client_cpu_s']:.1f} s | {load0} |")
EOF
exit "$status"
