#!/usr/bin/env python3
"""Cold start of a Java function on Kiln against a bare `java -version` of the same JDK, in one run.

Usage (builds nothing, so run ./kiln build once before; needs /usr/lib/jvm/java-17-openjdk-amd64):
    python3 bench/java_cold_start.py [-n 15] [--sandbox linux|process]

The function is a RequestHandler<Map, Map> compiled here against aws-lambda-java-core, at 1769 MB
(a full vCPU). A cold start is forced before each invoke by updating the function's configuration.
Reports medians: the bare JVM start, Kiln's Init Duration and client-side cold invoke, and ratios.
"""
import argparse
import glob
import io
import os
import statistics
import subprocess
import tempfile
import time
import zipfile

from sandbox_cost import Kiln

JDK = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
JAVAC = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/javac"
SOURCE = """
package example;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;
public class Hello implements RequestHandler<Map<String, Object>, Map<String, Object>> {
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    return Map.of("ok", true);
  }
}
"""


def bare_start(n):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        subprocess.run([JDK, "-version"], capture_output=True, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def handler_zip(core_jar):
    work = tempfile.mkdtemp(prefix="kiln-java-bench-")
    os.makedirs(os.path.join(work, "example"))
    with open(os.path.join(work, "example", "Hello.java"), "w") as f:
        f.write(SOURCE)
    subprocess.run([JAVAC, "--release", "17", "-cp", core_jar, "-d", work,
                    os.path.join(work, "example", "Hello.java")], check=True)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.write(os.path.join(work, "example", "Hello.class"), "example/Hello.class")
    return data.getvalue()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=15)
    parser.add_argument("--sandbox", default="linux")
    args = parser.parse_args()
    bare = bare_start(20)
    kiln = Kiln(args.sandbox, 9303)
    try:
        core = glob.glob(os.path.join(kiln.data, "runtimes/java/lib/aws-lambda-java-core-*.jar"))[0]
        code = handler_zip(core)
        import base64
        import json
        status, _, text = kiln.call("POST", "/2015-03-31/functions", json.dumps({
            "FunctionName": "java-cold", "Runtime": "java17",
            "Handler": "example.Hello::handleRequest", "Role": "arn:aws:iam::000000000000:role/b",
            "MemorySize": 1769, "Timeout": 60,
            "Code": {"ZipFile": base64.b64encode(code).decode()}}))
        if status != 201:
            raise SystemExit("could not create the function: %s" % text)
        kiln.invoke("java-cold")
        clients, inits = [], []
        for i in range(args.n):
            kiln.retire("java-cold", i)
            elapsed, init, _ = kiln.invoke("java-cold")
            clients.append(elapsed)
            inits.append(init)
        warm = statistics.median(kiln.invoke("java-cold")[0] for _ in range(50))
    finally:
        kiln.close()
    init, client = statistics.median(inits), statistics.median(clients)
    print("| median, ms (%s sandbox) | value | ratio to bare `java -version` |" % args.sandbox)
    print("|---|---|---|")
    print("| bare `java -version`, JDK 17 | %.1f | 1.00 |" % bare)
    print("| Kiln Init Duration, java17 RequestHandler | %.1f | %.2f |" % (init, init / bare))
    print("| Kiln cold invoke, client side | %.1f | %.2f |" % (client, client / bare))
    print("| Kiln warm invoke, client side | %.2f | |" % warm)


if __name__ == "__main__":
    main()
