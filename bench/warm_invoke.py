#!/usr/bin/env python3
"""Warm invoke latency of a no-op Python function on Kiln, against two baselines in the same run.

Usage: start Kiln (./kiln server), then: python3 bench/warm_invoke.py [--endpoint URL] [-n N]

Baselines, measured here with the same client on the same machine:
  (a) floor: a loopback HTTP round trip to a minimal Python HTTP server that answers at once;
  (b) direct: the same no-op handler called inside that server, i.e. the function served
      without any platform. For a no-op handler (a) and (b) coincide within noise.
Reports p50/p90/p99 of each and Kiln's added overhead in microseconds and as a ratio.
This is the first instrument; the kiln-bench module (issue 9) replaces it.
"""
import argparse
import http.client
import io
import json
import threading
import time
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handler(event, context):  # the function under test, here and on Kiln
    return None


class Direct(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        body = json.dumps(handler(event, None)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def measure(host, port, path, n, warmup=300):
    conn = http.client.HTTPConnection(host, port)
    samples = []
    for i in range(n + warmup):
        started = time.perf_counter_ns()
        conn.request("POST", path, body=b"{}")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit("HTTP %d from %s%s" % (response.status, host, path))
        if i >= warmup:
            samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {q: samples[min(len(samples) - 1, int(len(samples) * q))] for q in (0.5, 0.9, 0.99)}


def ensure_function(host, port, name):
    conn = http.client.HTTPConnection(host, port)
    conn.request("GET", "/2015-03-31/functions/%s" % name)
    response = conn.getresponse()
    response.read()
    if response.status == 200:
        return
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return None\n")
    import base64

    body = json.dumps(
        {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Handler": "app.handler",
            # a full vCPU: at 128 MB the sandbox's CPU quota (7.2 ms per 100 ms, as on Lambda)
            # would throttle a tight loop of invocations, and this measures the platform, not that
            "MemorySize": 1769,
            "Role": "arn:aws:iam::000000000000:role/bench",
            "Code": {"ZipFile": base64.b64encode(code.getvalue()).decode()},
        }
    )
    conn.request("POST", "/2015-03-31/functions", body=body)
    response = conn.getresponse()
    text = response.read()
    if response.status != 201:
        raise SystemExit("could not create %s: %s" % (name, text))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default="http://127.0.0.1:9000")
    parser.add_argument("-n", type=int, default=3000)
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.endpoint)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Direct)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ensure_function(url.hostname, url.port, "bench-noop-python")

    direct = measure("127.0.0.1", server.server_address[1], "/", args.n)
    kiln = measure(
        url.hostname, url.port, "/2015-03-31/functions/bench-noop-python/invocations", args.n
    )
    print("| | p50 µs | p90 µs | p99 µs |")
    print("|---|---|---|---|")
    print("| baseline: same handler behind a minimal Python HTTP server | %.0f | %.0f | %.0f |"
          % (direct[0.5], direct[0.9], direct[0.99]))
    print("| Kiln warm invoke (python3.12, no-op) | %.0f | %.0f | %.0f |"
          % (kiln[0.5], kiln[0.9], kiln[0.99]))
    print("| Kiln overhead (µs) | %.0f | %.0f | %.0f |"
          % tuple(kiln[q] - direct[q] for q in (0.5, 0.9, 0.99)))
    print("| ratio Kiln / baseline | %.2f | %.2f | %.2f |"
          % tuple(kiln[q] / direct[q] for q in (0.5, 0.9, 0.99)))


if __name__ == "__main__":
    main()
