#!/usr/bin/env python3
"""What the Linux sandbox costs and enforces, against the plain process driver in the same run.

Usage (as root, with bubblewrap installed; builds nothing, so run ./kiln build once before):
    python3 bench/sandbox_cost.py [-n 30]

Starts two Kiln servers from this checkout, one with --sandbox process and one with
--sandbox linux, and on each measures:
  - cold invoke: UpdateFunctionConfiguration retires the warm instance, then one Invoke starts a
    fresh one (client-side time of the Invoke, and the Init Duration Kiln reports);
  - warm invoke of the same no-op function, as a check that the sandbox costs nothing once warm;
  - on the Linux sandbox, a CPU-bound loop at 128 MB against 1769 MB (Lambda's one vCPU);
  - on the Linux sandbox, how long after its 1 s deadline a spinning function is answered
    Sandbox.Timedout (the REPORT Duration against 1000 ms).
Reports medians and the ratios linux / process (and 128 MB / 1769 MB).
"""
import argparse
import base64
import http.client
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE = """
import time
def handler(event, context):
    if event.get("forever"):
        while True:
            pass
    if event.get("spin"):
        started = time.process_time()
        x = 0
        for i in range(event["spin"]):
            x += i
        return time.process_time() - started
    return None
"""


class Kiln:
    def __init__(self, sandbox, port):
        self.data = tempfile.mkdtemp(prefix="kiln-bench-")
        self.port = port
        self.process = subprocess.Popen(
            [os.path.join(ROOT, "kiln"), "server", "--port", str(port), "--data-dir", self.data,
             "--sandbox", sandbox],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in self.process.stdout:
            if "serving the AWS Lambda API" in line:
                break
        else:
            raise SystemExit("Kiln (%s) did not start" % sandbox)

    def call(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, dict(r.getheaders()), data

    def create(self, name, memory, timeout=60):
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as z:
            z.writestr("app.py", CODE)
        status, _, text = self.call("POST", "/2015-03-31/functions", json.dumps({
            "FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler",
            "Role": "arn:aws:iam::000000000000:role/bench", "MemorySize": memory, "Timeout": timeout,
            "Code": {"ZipFile": base64.b64encode(code.getvalue()).decode()}}))
        if status != 201:
            raise SystemExit("could not create %s: %s" % (name, text))

    def invoke(self, name, event=None):
        started = time.perf_counter()
        status, headers, body = self.call(
            "POST", "/2015-03-31/functions/%s/invocations" % name, json.dumps(event or {}),
            {"X-Amz-Log-Type": "Tail"})
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200 or "X-Amz-Function-Error" in headers:
            raise SystemExit("invoke %s: %s %s" % (name, status, body))
        tail = base64.b64decode(headers.get("X-Amz-Log-Result", "")).decode()
        init = re.search(r"Init Duration: ([0-9.]+) ms", tail)
        return elapsed, float(init.group(1)) if init else None, json.loads(body or b"null")

    def retire(self, name, i):
        status, _, text = self.call(
            "PUT", "/2015-03-31/functions/%s/configuration" % name,
            json.dumps({"Environment": {"Variables": {"ROUND": str(i)}}}))
        if status != 200:
            raise SystemExit("update %s: %s" % (name, text))

    def close(self):
        self.process.terminate()
        self.process.wait(60)
        shutil.rmtree(self.data, ignore_errors=True)


def cold(kiln, n):
    kiln.create("cold", 1769)
    kiln.invoke("cold")
    clients, inits = [], []
    for i in range(n):
        kiln.retire("cold", i)
        elapsed, init, _ = kiln.invoke("cold")
        clients.append(elapsed)
        inits.append(init)
    warm = [kiln.invoke("cold")[0] for _ in range(300)][100:]
    return statistics.median(clients), statistics.median(inits), statistics.median(warm)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=30)
    args = parser.parse_args()
    results = {}
    for sandbox, port in (("process", 9301), ("linux", 9302)):
        kiln = Kiln(sandbox, port)
        try:
            results[sandbox] = cold(kiln, args.n)
            if sandbox == "linux":
                kiln.create("cpu-128", 128)
                kiln.create("cpu-1769", 1769)
                spin = {"spin": 2_000_000}
                kiln.invoke("cpu-128", spin)
                kiln.invoke("cpu-1769", spin)
                small = statistics.median(kiln.invoke("cpu-128", spin)[0] for _ in range(3))
                big = statistics.median(kiln.invoke("cpu-1769", spin)[0] for _ in range(3))
                results["cpu"] = (small, big)
                kiln.create("deadline", 1769, timeout=1)
                kiln.invoke("deadline")
                overshoot = []
                for _ in range(10):
                    status, headers, body = kiln.call(
                        "POST", "/2015-03-31/functions/deadline/invocations",
                        json.dumps({"forever": True}), {"X-Amz-Log-Type": "Tail"})
                    tail = base64.b64decode(headers.get("X-Amz-Log-Result", "")).decode()
                    if b"Sandbox.Timedout" not in body:
                        raise SystemExit("expected a timeout: %s" % body)
                    duration = float(re.search(r"\tDuration: ([0-9.]+) ms", tail).group(1))
                    overshoot.append(duration - 1000)
                results["deadline"] = (statistics.median(overshoot), max(overshoot))
        finally:
            kiln.close()
    p, l = results["process"], results["linux"]
    print("| median, ms | process driver | Linux sandbox | ratio linux / process |")
    print("|---|---|---|---|")
    print("| cold invoke, client side | %.1f | %.1f | %.2f |" % (p[0], l[0], l[0] / p[0]))
    print("| Init Duration (REPORT) | %.1f | %.1f | %.2f |" % (p[1], l[1], l[1] / p[1]))
    print("| warm invoke, client side | %.2f | %.2f | %.2f |" % (p[2], l[2], l[2] / p[2]))
    small, big = results["cpu"]
    print()
    print("| CPU-bound loop (Linux sandbox), ms | 128 MB | 1769 MB | ratio 128 / 1769 |")
    print("|---|---|---|---|")
    print("| client side | %.0f | %.0f | %.1f |" % (small, big, small / big))
    median, worst = results["deadline"]
    print()
    print("| Sandbox.Timedout after a 1 s timeout | median | worst of 10 |")
    print("|---|---|---|")
    print("| REPORT Duration past the deadline, ms | %.1f | %.1f |" % (median, worst))


if __name__ == "__main__":
    main()
