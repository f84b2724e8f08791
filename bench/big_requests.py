#!/usr/bin/env python3
"""Many large Generate requests at once (issue 16 item 5): the gateway's RSS
peak while they are in flight and after. Debian's python3-grpcio; the request
is encoded by hand (GenerateRequest: model = 1, prompt = 3), so no stubs.

  bench/big_requests.py --port 50051 --pid PID --calls 16 --mib 60 \
      --model 'fake-model?delay_ms=2000'
"""
import argparse
import threading
import time

import grpc


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--mib", type=int, default=60)
    parser.add_argument("--model", default="fake-model?delay_ms=2000")
    parser.add_argument("--after", type=float, default=8.0)
    args = parser.parse_args()
    request = field(1, args.model.encode()) + field(3, b"x" * (args.mib << 20))
    channel = grpc.insecure_channel(
        f"127.0.0.1:{args.port}",
        options=[("grpc.max_send_message_length", 1 << 30),
                 ("grpc.max_receive_message_length", 1 << 30)])
    call = channel.unary_unary("/llmgateway.v1.Generation/Generate")
    before = rss_kib(args.pid)
    peak = before
    codes = {}
    lock = threading.Lock()

    def one():
        try:
            call(request, timeout=120)
            code = "OK"
        except grpc.RpcError as e:
            code = f"{e.code().name}: {e.details()[:120]}"
        with lock:
            codes[code] = codes.get(code, 0) + 1

    threads = [threading.Thread(target=one) for _ in range(args.calls)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_kib(args.pid))
        time.sleep(0.05)
    time.sleep(args.after)
    print(f"{args.calls} x {args.mib} MiB: {codes}")
    print(f"gateway RSS: before {before // 1024} MiB, peak {peak // 1024} MiB, "
          f"{args.after:.0f}s after {rss_kib(args.pid) // 1024} MiB")


if __name__ == "__main__":
    main()
