"""Attacks on the sandbox, one per action. Each returns what happened, so the test can check that
the sandbox refused it or held it to its limit."""
import errno
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request


def attempt(action):
    try:
        result = action()
        return {"allowed": True, "result": repr(result)[:300]}
    except OSError as e:
        return {"allowed": False, "errno": errno.errorcode.get(e.errno, str(e.errno)), "error": str(e)}
    except Exception as e:  # timeouts and the like
        return {"allowed": False, "errno": None, "error": type(e).__name__ + ": " + str(e)}


def write(path):
    with open(path, "w") as f:
        f.write("pwned")


def read(path):
    with open(path) as f:
        return f.read(100)


def connect(host, port):
    s = socket.create_connection((host, port), timeout=2)
    s.close()
    return "connected"


def handler(event, context):
    action = event["action"]
    if action == "files":
        return {
            "uid": os.getuid(),
            "gid": os.getgid(),
            "task_root": os.environ["LAMBDA_TASK_ROOT"],
            "cwd": os.getcwd(),
            "write_task": attempt(lambda: write("/var/task/x")),
            "write_root": attempt(lambda: write("/x")),
            "write_etc": attempt(lambda: write("/etc/passwd")),
            "write_usr": attempt(lambda: write("/usr/bin/x")),
            "read_shadow": attempt(lambda: read("/etc/shadow")),
            "paths_visible": {p: os.path.exists(p) for p in event.get("paths", [])},
            "write_tmp": attempt(lambda: write("/tmp/" + event.get("tmp_name", "mine"))),
            "tmp_listing": sorted(os.listdir("/tmp")),
        }
    if action == "processes":
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        return {
            "pids": pids,
            "kill_init": attempt(lambda: os.kill(1, signal.SIGKILL)),
            "signal_host": attempt(lambda: os.kill(event["host_pid"], signal.SIGTERM)),
            "hostname": socket.gethostname(),
        }
    if action == "network":
        return {
            "runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"],
            "host_loopback": attempt(lambda: connect("127.0.0.1", event["host_port"])),
            "other_runtime_api": attempt(
                lambda: urllib.request.urlopen(
                    "http://" + event["other_runtime_api"] + "/2018-06-01/runtime/invocation/next",
                    timeout=2,
                ).status
            ),
            "default_route": any(
                line.split()[1] == "00000000" for line in open("/proc/net/route").readlines()[1:]
            ),
        }
    if action == "fork":
        # every child lives until the parent has hit the limit (it closes the pipe then), so the
        # limit is reached however slowly a loaded host forks; then they are all reaped
        children = 0
        hold, release = os.pipe()
        try:
            while True:
                if os.fork() == 0:
                    os.close(release)
                    os.read(hold, 1)
                    os._exit(0)
                children += 1
        except OSError as e:
            return {"children": children, "errno": errno.errorcode.get(e.errno)}
        finally:
            os.close(release)
            os.close(hold)
            for _ in range(children):
                try:
                    os.wait()
                except ChildProcessError:
                    break
    if action == "instance":
        return context.log_stream_name
    if action == "allocate":
        hoard = [bytearray(1024 * 1024) for _ in range(event["mb"])]
        return {"allocated_mb": len(hoard)}
    if action == "hog":
        hoard = []
        while True:
            hoard.append(bytearray(16 * 1024 * 1024))
    if action == "fill":
        written = 0
        try:
            with open("/tmp/fill", "wb") as f:
                chunk = b"\0" * (1024 * 1024)
                while True:
                    f.write(chunk)
                    f.flush()
                    written += 1
        except OSError as e:
            return {"written_mb": written, "errno": errno.errorcode.get(e.errno)}
        finally:
            os.remove("/tmp/fill")
    if action == "daemon":
        # a grandchild in a session of its own, which a naive kill of the runtime's tree misses
        subprocess.Popen(["setsid", "sleep", event["marker"]], start_new_session=True)
        return "spawned"
    if action == "spin":
        deadline = time.time() + 600
        while time.time() < deadline:
            pass
    raise ValueError("no such action: " + action)
