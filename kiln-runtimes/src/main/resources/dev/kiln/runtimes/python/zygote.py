"""Kiln's Python zygote: a pre-initialised interpreter that forks each new instance into its sandbox.

The zygote runs as root on the host, as a child of Kiln, one per Python interpreter. At start it
imports what Kiln's bootstrap imports, compiles the bootstrap and loads its Runtime API client
(_kiln_bootstrap, under its path inside the sandbox), then listens on a unix socket
(argv[1]). Each connection is one instance: the zygote hands it to a spare (below) and answers
{"pid": N} (the spare's init's pid on the host); when that init exits it answers {"exit": C} (C as
the JDK reports exit values: 128 + N for death by signal N) and closes.

Spares. A fork costs what the child then writes of the memory it shares with its parent, page by
page (about 10 ms for each of the two forks an instance needs, on a virtual machine where a page
fault costs 15-20 us: BENCHMARKS.md, "zygote spares"). So the zygote forks instances ahead of
need: a spare is a child in a new pid namespace (its pid 1, the instance's init) that has already
forked the runtime's process (its pid 2), both waiting, holding nothing but their sockets. A
connection goes to the oldest spare (to a new one made at once when there is none); the zygote
keeps as many spares as connections came in the last SPARE_WINDOW seconds, at least MIN_SPARES
and at most MAX_SPARES, makes them only while no instance is starting (Kiln writes a line on an
instance's connection once its runtime has initialised) and SPARE_QUIET seconds after the last
one did, and lets the surplus go when demand falls. A spare pair costs about 8 MB (PSS) while it waits.

The zygote never reads a spec: the spare's init reads it from the connection, so the zygote's
memory, which every spare inherits, holds nothing of any instance (no environment, no credentials).

The init (pid 1 of its namespace, like bubblewrap's), once it has its connection:
  reads the spec (one JSON line), opens its output file, joins its cgroups, enters its network
  namespace (and sets up its inside, when Kiln made it on demand with the host's side only),
  unshares mount, ipc, uts and cgroup namespaces, builds its root from the spec's mounts
  on a fresh tmpfs (its /tmp an ext4 image it attaches to a loop device that clears itself, mounted
  only in its own mount namespace, so the kernel frees both when the instance's last process ends)
  and pivots into it, then hands the runtime's process the spec, its output file,
  its cgroups (the process joins each itself) and its namespaces (it enters each, mount last, and
  unshares its own cgroup namespace).
  It forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to the runtime, reaps orphans, and exits with the
  runtime's status. When it dies the kernel kills everything else in the pid namespace.
The runtime (pid 2): default signal handlers, stdin /dev/null, stdout and stderr the output
  file, no other fd, a new session, no capabilities (bounding set dropped), uid 993/gid 990 with no
  supplementary groups, no_new_privs, the spec's environment only, a reseeded `random`, then the
  bootstrap's code as __main__.
"""

import ctypes
import errno
import fcntl
import gc
import io
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
import types
from collections import deque

# what the bootstrap imports, loaded once here so that no instance pays for it
import http.client  # noqa: F401
import importlib  # noqa: F401
import logging  # noqa: F401
import traceback

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
LOOP_SET_FD = 0x4C00
LOOP_CLR_FD = 0x4C01
LOOP_SET_STATUS64 = 0x4C04
LOOP_CONFIGURE = 0x4C0A
LOOP_CTL_GET_FREE = 0x4C82
LO_FLAGS_AUTOCLEAR = 4
SIOCADDRT = 0x890B
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
SIOCSIFADDR = 0x8916
SIOCSIFNETMASK = 0x891C
SIOCSARP = 0x8955
IFF_UP = 1
ATF_COM = 2
ATF_PERM = 4
ARPHRD_ETHER = 1
RTF_UP = 1
RTF_GATEWAY = 2
LOOP_INFO64 = struct.Struct("=QQQQQIIII64s64s32s16x")  # struct loop_info64, 232 bytes
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine, 155)
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine, 126)

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
LIBC.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
LIBC.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

BOOTSTRAP_INSIDE = "/var/runtime/bootstrap.py"
CLIENT = "_kiln_bootstrap"
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
# the namespaces the runtime's process enters, in this order (mount last: it changes /proc)
NAMESPACES = (("net", CLONE_NEWNET), ("ipc", CLONE_NEWIPC), ("uts", CLONE_NEWUTS),
              ("mnt", CLONE_NEWNS))
HANDOFF_FDS = 2 + 8 + len(NAMESPACES)  # output, /dev/null, cgroup.procs files, namespaces
SPARE_NICE = 19  # a spare made ahead sets itself up at this niceness, then waits at Kiln's
MIN_SPARES = 1
MAX_SPARES = 8
SPARE_WINDOW = 10.0  # seconds of connections the number of spares follows
SPARE_QUIET = 0.05  # seconds after the last start before spares are made: its first event (a fork
                    # made beside a start slowed it by more than the fork saved, on two cores)
HANDOFF_MAX = 1 << 20  # bytes: a spec is a few KB (a 4 KB environment, some 40 mounts)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def _b(path):
    return None if path is None else os.fsencode(path)


def unshare(flags):
    _check(LIBC.unshare(flags), "unshare")


def setns(fd, nstype):
    _check(LIBC.setns(fd, nstype), "setns")


def mount(source, target, fstype, flags, data=None):
    _check(LIBC.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), "mount %s" % target)


def prctl(option, arg2=0, arg3=0):
    _check(LIBC.prctl(option, arg2, arg3, 0, 0), "prctl %d" % option)


def _exit_value(status):
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


# --- the instance's init (pid 1 of its namespace) -------------------------------------------------


def _mkdirs(path, mode=0o755):
    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        p = "/" + "/".join(parts[:i])
        if not os.path.lexists(p):
            os.mkdir(p, mode)
            os.chmod(p, mode)


def _mount_point(target, is_dir):
    _mkdirs(os.path.dirname(target) or "/")
    if not os.path.lexists(target):
        if is_dir:
            os.mkdir(target, 0o755)
        else:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))


def _bind(source, target, read_only, devices=False):
    _mount_point(target, os.path.isdir(source))
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | (0 if devices else MS_NODEV)
    flags |= MS_RDONLY if read_only else 0
    mount(None, target, None, flags)


class _Sockaddr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("data", ctypes.c_ubyte * 14)]


class _IfreqAddr(ctypes.Structure):  # struct ifreq with ifr_addr
    _fields_ = [("name", ctypes.c_char * 16), ("addr", _Sockaddr), ("pad", ctypes.c_ubyte * 8)]


class _IfreqFlags(ctypes.Structure):  # struct ifreq with ifr_flags
    _fields_ = [("name", ctypes.c_char * 16), ("flags", ctypes.c_short),
                ("pad", ctypes.c_ubyte * 22)]


class _Arpreq(ctypes.Structure):
    _fields_ = [("pa", _Sockaddr), ("ha", _Sockaddr), ("flags", ctypes.c_int),
                ("netmask", _Sockaddr), ("dev", ctypes.c_char * 16)]


class _Rtentry(ctypes.Structure):
    _fields_ = [("pad1", ctypes.c_ulong), ("dst", _Sockaddr), ("gateway", _Sockaddr),
                ("genmask", _Sockaddr), ("flags", ctypes.c_ushort), ("pad2", ctypes.c_short),
                ("pad3", ctypes.c_ulong), ("pad4", ctypes.c_void_p), ("metric", ctypes.c_short),
                ("dev", ctypes.c_char_p), ("mtu", ctypes.c_ulong), ("window", ctypes.c_ulong),
                ("irtt", ctypes.c_ushort)]


def _sockaddr(family, data):
    return _Sockaddr(family, (ctypes.c_ubyte * 14).from_buffer_copy(data.ljust(14, b"\0")))


def _inet(address):
    return _sockaddr(socket.AF_INET, b"\0\0" + socket.inet_aton(address))


def _configure_network(n):
    """Sets up the inside of a network namespace Kiln made on demand, host's side only, as its
    `ip -n <ns> -batch` would (NetworkNamespaces.configureInside): eth0's address on its /30, lo and
    eth0 up, a permanent neighbour entry for the host's end, and the default route through it if
    the instance may reach beyond the host. The classic ioctls, from the init (root, already in the
    namespace: the socket belongs to the namespace it is made in), so no process is started."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        _up(s, b"lo")
        fcntl.ioctl(s, SIOCSIFADDR, _IfreqAddr(b"eth0", _inet(n["address"])))
        fcntl.ioctl(s, SIOCSIFNETMASK, _IfreqAddr(b"eth0", _inet("255.255.255.252")))
        _up(s, b"eth0")
        mac = bytes.fromhex(n["gatewayMac"].replace(":", ""))
        fcntl.ioctl(s, SIOCSARP, _Arpreq(_inet(n["gateway"]), _sockaddr(ARPHRD_ETHER, mac),
                                         ATF_COM | ATF_PERM, _Sockaddr(), b"eth0"))
        if n.get("defaultRoute"):
            fcntl.ioctl(s, SIOCADDRT, _Rtentry(dst=_inet("0.0.0.0"), gateway=_inet(n["gateway"]),
                                               genmask=_inet("0.0.0.0"),
                                               flags=RTF_UP | RTF_GATEWAY))
    finally:
        s.close()


def _up(s, name):
    flags = _IfreqFlags(name)
    fcntl.ioctl(s, SIOCGIFFLAGS, flags)
    flags.flags |= IFF_UP
    fcntl.ioctl(s, SIOCSIFFLAGS, flags)


def _attach(loop, backing, info):
    """Attaches backing to the loop device; False if another process took the device first. In one
    step where the kernel can (LOOP_CONFIGURE, Linux 5.8+): LOOP_SET_STATUS64 after LOOP_SET_FD
    freezes the device's queue, 12-15 ms here, on the instance's start."""
    try:
        fcntl.ioctl(loop, LOOP_CONFIGURE, struct.pack("=II", backing, 0) + info + bytes(64))
        return True
    except OSError as e:
        if e.errno == errno.EBUSY:
            return False
        if e.errno not in (errno.EINVAL, errno.ENOTTY):  # an older kernel's answers
            raise
    try:
        fcntl.ioctl(loop, LOOP_SET_FD, backing)
    except OSError as e:
        if e.errno == errno.EBUSY:
            return False
        raise
    try:
        fcntl.ioctl(loop, LOOP_SET_STATUS64, info)
    except BaseException:
        fcntl.ioctl(loop, LOOP_CLR_FD)
        raise
    return True


def _loop_mount(image, target):
    """Mounts the ext4 image at target through a free loop device that clears itself once the last
    mount of it goes (with this mount namespace, when the instance's last process ends)."""
    _mount_point(target, True)
    control = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)
    backing = os.open(image, os.O_RDWR | os.O_CLOEXEC)
    info = LOOP_INFO64.pack(0, 0, 0, 0, 0, 0, 0, 0, LO_FLAGS_AUTOCLEAR, os.fsencode(image)[-63:],
                            b"", b"")
    try:
        for _ in range(16):  # another process may take the free device first: ask again
            device = "/dev/loop%d" % fcntl.ioctl(control, LOOP_CTL_GET_FREE)
            loop = os.open(device, os.O_RDWR | os.O_CLOEXEC)
            try:
                if not _attach(loop, backing, info):
                    continue
                try:
                    mount(device, target, "ext4", MS_NOSUID | MS_NODEV)
                except BaseException:
                    fcntl.ioctl(loop, LOOP_CLR_FD)
                    raise
                return
            finally:
                os.close(loop)  # the mount holds the device now; its last close clears it
        raise OSError(errno.EBUSY, "mount %s: no free loop device" % target)
    finally:
        os.close(backing)
        os.close(control)


def _build_root(root, mounts, hostname):
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for m in mounts:
        kind, target = m["kind"], root + m["target"]
        if kind == "bind":
            if m.get("optional") and not os.path.exists(m["source"]):
                continue
            _bind(m["source"], target, m.get("readOnly", True))
        elif kind == "symlink":
            _mkdirs(os.path.dirname(target))
            os.symlink(m["source"], target)
        elif kind == "dir":
            _mkdirs(target, int(m.get("mode", "0755"), 8))
        elif kind == "tmpfs":
            _mount_point(target, True)
            mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=%d" % m["size"])
        elif kind == "loop":
            _loop_mount(m["source"], target)
        elif kind == "proc":
            _mount_point(target, True)
            mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        elif kind == "dev":
            _mount_point(target, True)
            mount("tmpfs", target, "tmpfs", MS_NOSUID, "mode=0755,size=64k")
            for name in DEVICES:
                _bind("/dev/" + name, target + "/" + name, False, devices=True)
            for name, to in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                             ("core", "/proc/kcore")):
                os.symlink(to, target + "/" + name)
            os.mkdir(target + "/shm", 0o755)  # as bubblewrap's: root's, nothing to write to
            os.mkdir(target + "/pts", 0o755)
            mount("devpts", target + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=620")
            os.symlink("pts/ptmx", target + "/ptmx")
        else:
            raise ValueError("unknown mount kind " + kind)
    os.chdir(root)
    _check(LIBC.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    _check(LIBC.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    socket.sethostname(hostname)


def _drop_privileges(uid, gid):
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        prctl(PR_CAPBSET_DROP, cap)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # permitted and effective capabilities go with root
    # the inheritable set goes too
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(LIBC.syscall(SYS_CAPSET, header, data), "capset")
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def _runtime(spec, bootstrap, output, devnull):
    """In the runtime's process: becomes the function's runtime. Never returns."""
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    for s in signal.valid_signals():
        try:
            signal.signal(s, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.closerange(3, 65536)
    os.setsid()
    _drop_privileges(spec["uid"], spec["gid"])
    env = spec["environment"]
    os.environ.clear()
    os.environ.update(env)
    os.chdir(spec["cwd"])
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=False,
                                  write_through=unbuffered)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True,
                                  write_through=unbuffered)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.__stdout__, sys.__stderr__, sys.__stdin__ = sys.stdout, sys.stderr, sys.stdin
    # what a fresh `python3 -S bootstrap.py` would have: the script's directory, PYTHONPATH, stdlib
    extra = [p for p in env.get("PYTHONPATH", "").split(":") if p]
    sys.path[:] = [os.path.dirname(BOOTSTRAP_INSIDE)] + extra + STDLIB_PATH
    sys.argv[:] = spec["argv"]
    if "random" in sys.modules:
        sys.modules["random"].seed()  # not the zygote's sequence
    main = types.ModuleType("__main__")
    main.__file__ = BOOTSTRAP_INSIDE
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    code = 0
    try:
        exec(bootstrap, main.__dict__)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(code)


def _high(fd):
    """The fd moved above 0-2, so that making it a standard stream cannot overwrite another."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class _CannedSocket:
    """A socket for _warm: takes what is sent, answers every request with one canned response."""

    ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
              b"Lambda-Runtime-Aws-Request-Id: 0\r\nLambda-Runtime-Deadline-Ms: 0\r\n"
              b"Lambda-Runtime-Invoked-Function-Arn: arn\r\nContent-Length: 2\r\n\r\n{}")

    def sendall(self, data):
        pass

    def makefile(self, mode):
        return io.BytesIO(self.ANSWER)

    def close(self):
        pass


def _warm(runtime):
    try:
        _warm_paths(runtime)
    except Exception:  # a spare that could not warm itself still starts its instance
        pass


def _warm_paths(runtime):
    """Runs, in a spare before it has an instance, what its start runs first: the JSON of a spec or
    an event, a line read from a socket, text streams and (in the runtime's process) the Runtime
    API client's requests, against a canned socket. Python writes to the objects it runs (their
    reference counts, the bytecode it specialises), and each page written is copied from the
    zygote's at a fault (15-20 us on the machines Kiln is built on); running them here copies those
    pages before the start. Nothing of an instance is in the spare yet, so nothing of one is kept."""
    json.loads(json.dumps({"output": "/o", "mounts": [{"kind": "bind", "readOnly": True,
                                                       "size": 0, "source": None}],
                           "uid": 993, "environment": {"A": "b"}}))
    mine, theirs = socket.socketpair()
    try:
        theirs.sendall(b"{}\n")
        mine.makefile("rb").readline()
    finally:
        mine.close()
        theirs.close()
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace",
                              line_buffering=True)
    stream.write("warm\n")
    stream.flush()
    if not runtime:
        return
    client = sys.modules.get(CLIENT)
    if client is not None and hasattr(client, "_Connection"):
        connection = client._Connection("127.0.0.1:9")
        connection.conn = http.client.HTTPConnection("127.0.0.1", 9)
        connection.conn.sock = _CannedSocket()
        connection.request("GET", "/warm")
        connection.request("POST", "/warm", body=b"{}", headers={"Content-Type": "application/json"})
        connection.conn = None


def _close_all_but(keep):
    os.closerange(0, keep)
    os.closerange(keep + 1, 65536)


def _spare(channel, bootstrap, root, ahead):
    """In the zygote's child, pid 1 of a new pid namespace: forks the runtime's process, waits for
    its instance's connection (passed on `channel`), then is the instance's init; a spare made
    `ahead` of need warms itself first. Never returns."""
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if ahead:  # made beside Kiln's work: it yields to it, until it waits
            os.setpriority(os.PRIO_PROCESS, 0, SPARE_NICE)
        _close_all_but(channel.fileno())
        to_runtime, from_init = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        runtime = os.fork()
        if runtime == 0:
            channel.close()
            to_runtime.close()
            _waiting_runtime(from_init, bootstrap, ahead)
        from_init.close()
        if ahead:
            _warm(False)
            os.setpriority(os.PRIO_PROCESS, 0, 0)
        _, fds, _, _ = socket.recv_fds(channel, 1, 1)
    except BaseException:
        os._exit(125)
    if not fds:
        os._exit(0)  # the zygote let this spare go (or died): the runtime's process follows
    _instance(socket.socket(fileno=fds[0]), channel, runtime, to_runtime, root)


def _waiting_runtime(from_init, bootstrap, ahead):
    """In the spare's pid 2: waits for the spec, output and namespaces, then is the runtime."""
    output = -1
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _close_all_but(from_init.fileno())
        if ahead:
            _warm(True)
            os.setpriority(os.PRIO_PROCESS, 0, 0)
        data, fds, _, _ = socket.recv_fds(from_init, HANDOFF_MAX, HANDOFF_FDS)
        if not data:
            os._exit(0)
        from_init.close()
        spec = json.loads(data)
        output, devnull = _high(fds[0]), _high(fds[1])
        for fd in fds[2:2 + len(spec["cgroupProcs"])]:
            os.write(fd, b"0")  # joins it: a process that moves itself moves at once
            os.close(fd)
        for fd, (_, nstype) in zip(fds[2 + len(spec["cgroupProcs"]):], NAMESPACES):
            setns(fd, nstype)
            os.close(fd)
        try:
            unshare(CLONE_NEWCGROUP)  # rooted at its own cgroup, as the init's
        except OSError:
            pass
        _runtime(spec, bootstrap, output, devnull)
    except BaseException as e:
        os.write(output if output >= 0 else 2,
                 ("kiln zygote: could not start the runtime: %r\n" % e).encode())
        os._exit(125)


def _instance(conn, channel, runtime, to_runtime, root):
    """In the spare's init, once it has its connection. Never returns."""
    output = -1
    try:
        line = conn.makefile("rb").readline()
        conn.close()
        # the zygote reads the connection only from here on (for Kiln's "initialised")
        channel.send(b"r")
        channel.close()
        spec = json.loads(line)
        output = _high(os.open(spec["output"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        devnull = _high(os.open("/dev/null", os.O_RDONLY))
        cgroups = []
        for procs in spec["cgroupProcs"]:
            with open(procs, "w") as f:
                f.write("0")
            # the runtime's process joins itself, from this fd: moving another process waits
            # about 1 ms per cgroup here, where moving oneself does not
            cgroups.append(os.open(procs, os.O_WRONLY))
        if spec.get("netns"):
            fd = os.open(spec["netns"], os.O_RDONLY)
            setns(fd, CLONE_NEWNET)
            os.close(fd)
            if spec.get("network"):
                _configure_network(spec["network"])
        unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS)
        try:
            unshare(CLONE_NEWCGROUP)
        except OSError:
            pass
        _build_root(root, spec["mounts"], spec.get("hostname", "localhost"))
        for s in FORWARDED:
            signal.signal(s, lambda n, _f: os.kill(runtime, n))
        spaces = [os.open("/proc/self/ns/" + name, os.O_RDONLY) for name, _ in NAMESPACES]
        socket.send_fds(to_runtime, [line], [output, devnull] + cgroups + spaces)
        for fd in cgroups + spaces + [devnull]:
            os.close(fd)
        to_runtime.close()
        while True:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                os._exit(1)
            except InterruptedError:
                continue
            if pid == runtime:
                os._exit(_exit_value(status))
    except BaseException as e:
        try:
            message = ("kiln zygote: could not start the instance: %s\n" % e).encode()
            os.write(output if output >= 0 else 2, message)
        finally:
            os._exit(125)


# --- the zygote ------------------------------------------------------------------------------------

STDLIB_PATH = [p for p in sys.path[1:]]


def _preload_client(host_dir):
    """Imports the bootstrap's Runtime API client (_kiln_bootstrap) here, once, under the name and
    path it has inside the sandbox, so that the bootstrap's `import _kiln_bootstrap` in each
    instance finds it loaded. The client reads nothing of an instance at import (its environment is
    read in main()), so what every instance inherits holds nothing of any other."""
    source = os.path.join(host_dir, CLIENT + ".py")
    if not os.path.exists(source):
        return
    with open(source, "rb") as f:
        code = compile(f.read(), os.path.join(os.path.dirname(BOOTSTRAP_INSIDE), CLIENT + ".py"),
                       "exec")
    module = types.ModuleType(CLIENT)
    module.__file__ = code.co_filename
    module.__builtins__ = __builtins__
    exec(code, module.__dict__)
    sys.modules[CLIENT] = module


class _Child:
    """A spare (`conn` None, `channel` its socket) or an instance (`conn` its connection)."""

    __slots__ = ("pid", "pidfd", "channel", "conn", "watched")

    def __init__(self, pid, pidfd, channel):
        self.pid, self.pidfd, self.channel, self.conn = pid, pidfd, channel, None
        self.watched = None  # the socket the zygote waits on while the instance starts


class _Zygote:
    def __init__(self, bootstrap, root, listener):
        self.bootstrap, self.root, self.listener = bootstrap, root, listener
        self.host_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)
        self.spares = deque()
        self.taken = deque()  # when connections came, for the last SPARE_WINDOW seconds
        self.starting = set()  # instances whose start Kiln has not yet reported over
        self.last_start_over = 0.0

    def fork_spare(self, ahead=False):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        gc.freeze()  # what the zygote holds now is never traversed by a child's collections
        unshare(CLONE_NEWPID)
        pid = os.fork()
        if pid == 0:
            _spare(theirs, self.bootstrap, self.root, ahead)
        setns(self.host_pid_ns, CLONE_NEWPID)
        theirs.close()
        child = _Child(pid, os.pidfd_open(pid), mine)
        self.selector.register(child.pidfd, selectors.EVENT_READ, child)
        return child

    def wanted(self, now):
        while self.taken and self.taken[0] < now - SPARE_WINDOW:
            self.taken.popleft()
        return max(MIN_SPARES, min(MAX_SPARES, len(self.taken)))

    def accept(self):
        conn, _ = self.listener.accept()
        self.taken.append(time.monotonic())
        while True:
            child = self.spares.popleft() if self.spares else self.fork_spare()
            try:
                socket.send_fds(child.channel, [b"c"], [conn.fileno()])
                break
            except OSError:
                os.kill(child.pid, signal.SIGKILL)  # a spare that died or hangs: the next one
                child.channel.close()
                child.channel = None
        child.conn = conn
        try:
            conn.sendall(b'{"pid": %d}\n' % child.pid)
        except OSError:
            pass
        # the init says on its channel when it has read its spec; from then on the connection is
        # the zygote's to read, and Kiln writes a line there once the runtime has initialised
        self.starting.add(child)
        self.watch(child, child.channel)

    def watch(self, child, sock):
        if child.watched is not None:
            self.selector.unregister(child.watched)
        child.watched = sock
        if sock is not None:
            self.selector.register(sock, selectors.EVENT_READ, child)

    def heard(self, child):
        """The init read its spec, or Kiln said that the runtime initialised."""
        sock = child.watched
        try:
            sock.recv(64)
        except OSError:
            pass
        if sock is child.channel:
            self.watch(child, child.conn)
            child.channel.close()
            child.channel = None
        else:
            self.start_over(child)

    def start_over(self, child):
        self.watch(child, None)
        if child in self.starting:
            self.starting.discard(child)
            self.last_start_over = time.monotonic()

    def ended(self, child):
        self.selector.unregister(child.pidfd)
        os.close(child.pidfd)
        _, status = os.waitpid(child.pid, 0)
        self.start_over(child)
        if child.channel is not None:
            child.channel.close()
            child.channel = None
        if child.conn is not None:
            try:
                child.conn.sendall(b'{"exit": %d}\n' % _exit_value(status))
            except OSError:
                pass
            child.conn.close()
        elif child in self.spares:  # a spare that died before it was given a connection
            self.spares.remove(child)

    def run(self):
        while True:
            now = time.monotonic()
            wanted = self.wanted(now)
            while len(self.spares) > wanted:
                surplus = self.spares.pop()
                surplus.channel.close()  # it exits; ended() reaps it
                surplus.channel = None
            # spares are made while no instance is starting, never beside a start
            short = len(self.spares) < wanted and not self.starting
            if short:
                timeout = max(0.0, self.last_start_over + SPARE_QUIET - now)
            else:
                timeout = SPARE_WINDOW if self.taken else None
            events = self.selector.select(timeout)
            for key, _ in events:
                if key.data is None:
                    self.accept()
                elif key.fileobj is key.data.watched:
                    self.heard(key.data)
                else:
                    self.ended(key.data)
            if short and not events:
                self.spares.append(self.fork_spare(ahead=True))


def main():
    socket_path, bootstrap_path = sys.argv[1], sys.argv[2]
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with Kiln, as bubblewrap's --die-with-parent
    with open(bootstrap_path, "rb") as f:
        bootstrap = compile(f.read(), BOOTSTRAP_INSIDE, "exec")
    _preload_client(os.path.dirname(bootstrap_path))
    root = os.path.join(os.path.dirname(socket_path), "zygote-root")
    os.makedirs(root, mode=0o755, exist_ok=True)
    try:
        os.unlink(socket_path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    os.chmod(socket_path, 0o600)
    listener.listen(128)
    zygote = _Zygote(bootstrap, root, listener)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    zygote.run()


if __name__ == "__main__":
    main()
