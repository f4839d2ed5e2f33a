"""Times two Python bootstraps against a bare interpreter start, interleaved in one run.

Usage: /usr/bin/python3 python_bootstrap_ab.py ROUNDS BEFORE_DIR AFTER_DIR

Each directory holds a Kiln Python runtime directory (bootstrap.py and what it imports). Every
round runs `python3 -c pass`, then each bootstrap with a no-op handler and a Runtime API address
that refuses, so each run ends at its first GET /next: interpreter start, bootstrap and handler
import, as Kiln's runtime_init phase but without the sandbox. Prints the medians as a table, each
as a ratio to the bare start (BENCHMARKS.md, "cold start, phase by phase").
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

rounds, before, after = int(sys.argv[1]), sys.argv[2], sys.argv[3]
task = tempfile.mkdtemp(prefix="kiln-bootstrap-ab-")
with open(os.path.join(task, "noop.py"), "w") as f:
    f.write("def handler(event, context):\n    return None\n")
env = dict(os.environ, AWS_LAMBDA_RUNTIME_API="127.0.0.1:1", _HANDLER="noop.handler",
           LAMBDA_TASK_ROOT=task)
python = "/usr/bin/python3"
commands = {
    "bare: `python3 -c pass`": [python, "-c", "pass"],
    "before: " + before: [python, "-S", os.path.join(before, "bootstrap.py")],
    "after: " + after: [python, "-S", os.path.join(after, "bootstrap.py")],
}
times = {name: [] for name in commands}
for _ in range(rounds):
    for name, command in commands.items():
        t = time.perf_counter()
        subprocess.run(command, env=env, cwd=task, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times[name].append((time.perf_counter() - t) * 1000)
bare = statistics.median(times["bare: `python3 -c pass`"])
print("| to the first GET /next | median ms | ratio to bare |")
print("|---|---|---|")
for name, values in times.items():
    median = statistics.median(values)
    print("| %s | %.1f | %.2f |" % (name, median, median / bare))
