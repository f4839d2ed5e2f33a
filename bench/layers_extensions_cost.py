#!/usr/bin/env python3
"""What layers and an external extension add to a cold start, against the same function without.

Usage (as root, with bubblewrap and curl installed; builds nothing, so run ./kiln build once
before):
    python3 bench/layers_extensions_cost.py [-n 20]

Starts one Kiln (Linux sandbox) and creates the same no-op Python function three times:
  - plain: no layers;
  - layered: five layers of 200 small Python modules each, merged into /opt;
  - extended: one layer holding an external extension, a shell script that registers over curl
    for INVOKE and loops on next (the extension's own start is part of what it costs).
Cold invokes are forced by updating each function's configuration. Reports the medians of the
client-side cold invoke and of Init Duration, and their ratios to the plain function.
"""
import argparse
import base64
import io
import json
import statistics
import zipfile

from sandbox_cost import Kiln

EXTENSION = """#!/bin/sh
API="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
H=$(mktemp)
curl -sS -D "$H" -o /dev/null -X POST "$API/register" -H "Lambda-Extension-Name: bench.sh" \\
  -d '{"events": ["INVOKE"]}'
ID=$(grep -i '^Lambda-Extension-Identifier:' "$H" | tr -d '[:space:]' | cut -d: -f2)
while true; do curl -sS -o /dev/null "$API/event/next" -H "Lambda-Extension-Identifier: $ID"; done
"""


def zip_of(files, executable=()):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            z.writestr(info, text)
    return base64.b64encode(out.getvalue()).decode()


def publish(kiln, name, files, executable=()):
    status, _, body = kiln.call("POST", "/2018-10-31/layers/%s/versions" % name, json.dumps(
        {"Content": {"ZipFile": zip_of(files, executable)}}))
    if status != 201:
        raise SystemExit("publish %s: %s" % (name, body))
    return json.loads(body)["LayerVersionArn"]


def with_layers(kiln, name, layers):
    status, _, text = kiln.call(
        "PUT", "/2015-03-31/functions/%s/configuration" % name, json.dumps({"Layers": layers}))
    if status != 200:
        raise SystemExit("layers for %s: %s" % (name, text))


def cold(kiln, name, n):
    kiln.invoke(name)
    clients, inits = [], []
    for i in range(n):
        kiln.retire(name, i)
        elapsed, init, _ = kiln.invoke(name)
        clients.append(elapsed)
        inits.append(init)
    return statistics.median(clients), statistics.median(inits)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20)
    args = parser.parse_args()
    kiln = Kiln("linux", 9304)
    try:
        layers = [publish(kiln, "libs%d" % i, {"python/lib%d_%d.py" % (i, j): "X = %d\n" % j
                                               for j in range(200)}) for i in range(5)]
        extension = publish(kiln, "ext", {"extensions/bench.sh": EXTENSION},
                            executable={"extensions/bench.sh"})
        for name in ("plain", "layered", "extended"):
            kiln.create(name, 1769)
        with_layers(kiln, "layered", layers)
        with_layers(kiln, "extended", [extension])
        results = {name: cold(kiln, name, args.n) for name in ("plain", "layered", "extended")}
    finally:
        kiln.close()
    plain_client, plain_init = results["plain"]
    print("| median, ms (Linux sandbox, python3.12, 1769 MB) | cold invoke | ratio | Init Duration | ratio |")
    print("|---|---|---|---|---|")
    for name, label in (("plain", "no layers"), ("layered", "5 layers, 1000 modules in /opt"),
                        ("extended", "1 external extension (sh + curl)")):
        client, init = results[name]
        print("| %s | %.1f | %.2f | %.1f | %.2f |" % (
            label, client, client / plain_client, init, init / plain_init))


if __name__ == "__main__":
    main()
