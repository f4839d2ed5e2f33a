package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Linux driver: each instance in namespaces of its own, made by bubblewrap, inside cgroups that
 * hold it to its memory, CPU share and process count.
 *
 * <p>What an instance sees is built from nothing: an empty read-only root with the host's {@code
 * /usr} (and the {@code /bin}, {@code /lib} that point into it) and a few files of {@code /etc}
 * read-only; the function's code read-only at {@code /var/task}; Kiln's bootstrap for the runtime
 * read-only at {@code /var/runtime}; its layers read-only at {@code /opt} (empty without); a fresh
 * {@code /proc} for its own pid namespace; a minimal {@code /dev}; and its own {@code /tmp} (see
 * {@link ScratchDisks}). Kiln's data directory, other functions' code and other instances' {@code
 * /tmp} are not there to be seen. The code runs as uid 993 ({@code sbx_user1051}, as on Lambda),
 * with no capabilities and no way to gain any.
 *
 * <p>Why bubblewrap: measured on the machines Kiln is built on, it adds about 10 ms to a {@code
 * python3 -c pass} start, where crun adds 15 ms and cannot use a hybrid cgroup layout, and runc
 * adds 30 ms; it needs no image, no daemon and no configuration file. It makes no cgroups, so Kiln
 * makes them ({@link Cgroups}), and the first process of the instance, a one-line shell, joins them
 * before it execs bubblewrap, so nothing of the instance ever runs outside its limits.
 *
 * <p>As root, bubblewrap sets up the mounts with root's rights (it must read the code under Kiln's
 * data directory, which uid 993 cannot) and {@code setpriv} drops to uid 993 as the last step. As a
 * normal user, bubblewrap makes a user namespace in which the user appears as uid 993; the limits a
 * normal user cannot set are reported as not in force.
 *
 * <p>Several Kiln servers may share a host. Everything host-wide the driver makes is named after
 * the server ({@link #serverId}, from its data directory): its cgroup sub-tree, its nftables table,
 * its network namespaces and veth links. So its start-up sweep of what a Kiln killed with -9 left
 * behind finds only its own leftovers, and its firewall rules match only its own links. The one
 * thing servers must share, the address range of instance networks, is claimed slot by slot through
 * host-wide file locks ({@link HostSlots}). Scratch disks and state records live under the state
 * directory, which is the server's alone (the data directory is locked by one server).
 *
 * <p>Two start paths build that same sandbox from one list of mounts ({@link #rootMounts}):
 * bubblewrap, for every runtime, and, for Python as root with zygotes on, a fork from a
 * pre-initialised interpreter ({@link ZygoteStarter}) that skips the interpreter's start and the
 * bootstrap's imports. Either way the instance is a {@link LinuxSandbox} over the pid of its first
 * process and a future of its exit value.
 *
 * <p>The pid namespace is what guarantees no orphans: bubblewrap's init is pid 1 inside and dies
 * with bubblewrap's outer process, and when the pid 1 of a namespace dies the kernel kills every
 * other process in it.
 */
public final class LinuxSandboxDriver implements SandboxDriver {

  private static final Logger LOG = LoggerFactory.getLogger(LinuxSandboxDriver.class);

  /** Lambda's sandbox user, {@code sbx_user1051}. */
  public static final int SANDBOX_UID = 993;

  public static final int SANDBOX_GID = 990;

  public static final Path TASK_ROOT = Path.of("/var/task");
  public static final Path OPT = Path.of("/opt");
  public static final Path RUNTIME_CACHE = Path.of("/var/kiln-cache");
  public static final Path RUNTIME_DIR = Path.of("/var/runtime");

  /**
   * The instance's first process: writes its own pid into each cgroup's {@code cgroup.procs} given
   * before {@code --}, then becomes the command after it.
   */
  private static final String ENTER_CGROUPS =
      "for f; do shift; [ \"$f\" = -- ] && break; echo $$ > \"$f\" || exit 125; done; exec \"$@\"";

  /** The files of the host's {@code /etc} a runtime needs: name resolution, TLS roots, time. */
  private static final List<String> HOST_ETC =
      List.of(
          "resolv.conf",
          "hosts",
          "nsswitch.conf",
          "host.conf",
          "gai.conf",
          "protocols",
          "services",
          "localtime",
          "ld.so.cache",
          "ld.so.conf",
          "ld.so.conf.d",
          "alternatives",
          "ssl",
          "ca-certificates",
          "pki",
          "mime.types",
          "os-release");

  private static final List<Path> RUNTIME_ETC = runtimeEtc();

  private static List<Path> runtimeEtc() {
    try (var dirs = Files.newDirectoryStream(Path.of("/etc"), "{java*,mono}")) {
      List<Path> out = new ArrayList<>();
      dirs.forEach(out::add);
      return out;
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  private final String bwrap;
  private final String setpriv;
  private final String setsid;
  private final boolean root;
  private final Optional<Cgroups> cgroups;
  private final Optional<ScratchDisks> scratch;
  private final Path etc;
  private final Optional<NetworkNamespaces> networks;
  private final String nsenter;
  private final Optional<ZygoteStarter> zygotes;

  /** Instances' clean-ups (unmount, cgroup, network) not yet done; close() waits for them. */
  private final Set<CompletableFuture<Void>> cleanUps = ConcurrentHashMap.newKeySet();

  /** Clean-ups and the making of spares, off the invocation path. */
  private final ExecutorService background;

  private LinuxSandboxDriver(
      String bwrap,
      String setpriv,
      String setsid,
      Optional<Cgroups> cgroups,
      Optional<ScratchDisks> scratch,
      Path etc,
      Optional<NetworkNamespaces> networks,
      String nsenter,
      ExecutorService background,
      Optional<ZygoteStarter> zygotes) {
    this.zygotes = zygotes;
    this.background = background;
    this.bwrap = bwrap;
    this.setpriv = setpriv;
    this.setsid = setsid;
    this.root = isRoot();
    this.cgroups = cgroups;
    this.scratch = scratch;
    this.etc = etc;
    this.networks = networks;
    this.nsenter = nsenter;
  }

  /**
   * The Linux driver, if this host can run it: bubblewrap installed and namespaces allowed. The
   * exception says what is missing.
   *
   * @param stateDir where the driver keeps what it makes once ({@code /etc/passwd} for the sandbox,
   *     formatted {@code /tmp} templates); its path names the server ({@link #serverId})
   * @param runtimeApiPort the port of the Runtime API, the one port instances may reach the host on
   * @param outbound whether instances may reach the network beyond the host
   */
  public static LinuxSandboxDriver open(Path stateDir, int runtimeApiPort, boolean outbound)
      throws IOException {
    return open(stateDir, runtimeApiPort, outbound, false);
  }

  /**
   * As {@link #open(Path, int, boolean)}; with {@code zygote}, Python instances are forked from a
   * pre-initialised interpreter ({@link ZygoteStarter}) when Kiln runs as root with cgroups, and
   * started by bubblewrap otherwise.
   */
  public static LinuxSandboxDriver open(
      Path stateDir, int runtimeApiPort, boolean outbound, boolean zygote) throws IOException {
    String bwrap =
        ProcessTrees.executable("bwrap")
            .orElseThrow(
                () ->
                    new IOException(
                        "bubblewrap is not installed (apt-get install bubblewrap; it provides"
                            + " bwrap)"));
    String setsid =
        ProcessTrees.executable("setsid")
            .orElseThrow(() -> new IOException("setsid is missing (package util-linux)"));
    String setpriv =
        ProcessTrees.executable("setpriv")
            .orElseThrow(() -> new IOException("setpriv is missing (package util-linux)"));
    String nsenter =
        ProcessTrees.executable("nsenter")
            .orElseThrow(() -> new IOException("nsenter is missing (package util-linux)"));
    probe(bwrap);
    String serverId = serverId(stateDir);
    Path etc = stateDir.resolve("etc");
    Files.createDirectories(etc);
    Files.writeString(
        etc.resolve("passwd"),
        "root:x:0:0:root:/root:/sbin/nologin\n"
            + "sbx_user1051:x:"
            + SANDBOX_UID
            + ":"
            + SANDBOX_GID
            + "::/home/sbx_user1051:/sbin/nologin\n");
    Files.writeString(etc.resolve("group"), "root:x:0:\nsbx_user1051:x:" + SANDBOX_GID + ":\n");
    ExecutorService background =
        Executors.newCachedThreadPool(
            r -> {
              Thread t =
                  new Thread(
                      () -> {
                        // spares made ahead and ended instances undone: nothing waits on them
                        ProcessSpawner.lowerPriorityOfThisThread();
                        r.run();
                      },
                      "kiln-sandbox-background");
              t.setDaemon(true);
              return t;
            });
    return new LinuxSandboxDriver(
        bwrap,
        setpriv,
        setsid,
        Cgroups.detect(serverId),
        ScratchDisks.create(stateDir, SANDBOX_UID, SANDBOX_GID, background),
        etc,
        NetworkNamespaces.create(stateDir, serverId, runtimeApiPort, outbound, background),
        nsenter,
        background,
        zygote && isRoot() ? Optional.of(new ZygoteStarter(stateDir)) : Optional.empty());
  }

  /** Python zygotes running now (0 when instances are not started from zygotes). */
  public int zygotesRunning() {
    return zygotes.map(ZygoteStarter::running).orElse(0);
  }

  /** Python instances forked ahead of need, waiting to be given a spec (zygote.py, "Spares"). */
  public int zygoteSpares() {
    return zygotes.map(ZygoteStarter::spares).orElse(0);
  }

  /** Network namespaces made ahead of need, ready for the next instances ({@code Spare}). */
  public int spareNetworks() {
    return networks.map(NetworkNamespaces::spares).orElse(0);
  }

  /** {@code /tmp} disks made ahead of need, ready for the next instances ({@code Spare}). */
  public int spareTmpDisks() {
    return scratch.map(ScratchDisks::spares).orElse(0);
  }

  /** Python zygotes that died and were replaced since the driver opened. */
  public long zygoteRestarts() {
    return zygotes.map(ZygoteStarter::restarts).orElse(0L);
  }

  /** Whether Python instances are forked from zygotes rather than started by bubblewrap. */
  public boolean forksPython() {
    return zygotes.isPresent() && cgroups.isPresent();
  }

  /**
   * The short, stable name of the server whose sandbox state is in {@code stateDir}: the first 8
   * hex digits of the SHA-256 of the directory's real path. The same data directory gives the same
   * name at every start (so a restarted server finds its own leftovers), another gives another.
   */
  public static String serverId(Path stateDir) throws IOException {
    Files.createDirectories(stateDir);
    try {
      byte[] digest =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(
                  stateDir
                      .toRealPath()
                      .toString()
                      .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest, 0, 4);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every JDK has SHA-256
    }
  }

  /** Starts a trivial sandbox, to learn whether this kernel lets us make the namespaces. */
  private static void probe(String bwrap) throws IOException {
    List<String> command = new ArrayList<>(List.of(bwrap));
    if (!isRoot()) {
      command.add("--unshare-user");
    }
    command.addAll(
        List.of(
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--ro-bind",
            "/",
            "/",
            "--proc",
            "/proc",
            "--",
            "/bin/true"));
    try {
      ProcessTrees.run(command, "");
    } catch (IOException e) {
      throw new IOException("bubblewrap cannot make namespaces on this host: " + e.getMessage(), e);
    }
  }

  static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2].equals("0"); // the effective uid
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return false;
  }

  @Override
  public Optional<InstanceNetwork> isolateNetwork(String instanceId, boolean outbound)
      throws IOException {
    return networks.isPresent() ? Optional.of(networks.get().take(outbound)) : Optional.empty();
  }

  @Override
  public void releaseNetwork(InstanceNetwork network) {
    networks.ifPresent(n -> n.remove(network));
  }

  @Override
  public Path taskRootInside(Path taskRoot) {
    return TASK_ROOT;
  }

  @Override
  public Path runtimeDirInside(Path runtimeDir) {
    return RUNTIME_DIR;
  }

  @Override
  public Path layersInside(Optional<Path> layers) {
    return OPT;
  }

  @Override
  public Path runtimeCacheInside(Path runtimeCache) {
    return RUNTIME_CACHE;
  }

  @Override
  public Path tmpInside(Path instanceDir) {
    return Path.of("/tmp");
  }

  @Override
  public Sandbox start(SandboxSpec spec) throws IOException {
    Path dir = spec.instanceDir();
    Files.createDirectories(dir);
    Optional<Cgroups.InstanceCgroup> cgroup = Optional.empty();
    Optional<ScratchDisks.Disk> disk = Optional.empty();
    // each part's time, for kiln_cold_start_phase_seconds
    java.util.Map<String, Duration> phases = new java.util.LinkedHashMap<>();
    try {
      long t = System.nanoTime();
      if (cgroups.isPresent()) {
        cgroup =
            Optional.of(
                cgroups.get().create(spec.instanceId(), CgroupLimits.forMemory(spec.memoryMb())));
        t = phase(phases, "cgroup", t);
      }
      Optional<Path> zygoteProgram =
          zygotes.isPresent() && root && cgroup.isPresent()
              ? ZygoteStarter.zygoteFor(spec)
              : Optional.empty();
      Optional<InstanceNetwork> network = spec.network();
      if (network.isPresent() && !network.get().configured() && zygoteProgram.isEmpty()) {
        // made on demand, the host's side only: a forked instance sets up its inside itself
        network = Optional.of(networks.get().configureInside(network.get()));
        t = phase(phases, "network", t);
      }
      if (scratch.isPresent()) {
        // bubblewrap binds a disk mounted here; a forked instance binds a ready one too, or else
        // mounts an image itself (a burst's starts: no mount process for each)
        disk =
            Optional.of(
                zygoteProgram.isPresent()
                    ? scratch.get().readyOrImage(spec.ephemeralStorageMb())
                    : scratch.get().take(spec.ephemeralStorageMb()));
        t = phase(phases, "tmp_disk", t);
      }
      Path output = dir.resolve("output.log");
      ProcessHandle main;
      CompletableFuture<Integer> exitValue;
      Optional<Process> started;
      Runnable whenInitialised = () -> {};
      if (zygoteProgram.isPresent()) {
        ZygoteStarter.Forked forked =
            zygotes
                .get()
                .start(
                    spec.command().get(0),
                    zygoteProgram.get(),
                    spec.runtimeDir(),
                    spec.environment().get(ZygoteStarter.LOADER_PATH),
                    zygoteSpec(spec, cgroup.get(), disk, output, network));
        main =
            ProcessHandle.of(forked.pid())
                .orElseThrow(() -> new IOException("the forked instance ended at once"));
        exitValue = forked.exit();
        whenInitialised = forked.initialised();
        started = Optional.empty();
      } else {
        ProcessBuilder builder = new ProcessBuilder(command(spec, cgroup, disk));
        builder.environment().clear();
        builder.environment().putAll(spec.environment());
        builder.directory(dir.toFile());
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        builder.redirectInput(ProcessTrees.stdin(spec));
        Process process = ProcessSpawner.start(builder);
        main = process.toHandle();
        exitValue = process.onExit().thenApply(Process::exitValue);
        started = Optional.of(process);
      }
      ProcessTrees.recordPid(dir, main);
      phase(phases, "spawn", t);
      return new LinuxSandbox(
          main,
          exitValue,
          started,
          dir,
          output,
          cgroup,
          CgroupLimits.forMemory(spec.memoryMb()),
          spec.network(),
          disk,
          java.util.Map.copyOf(phases),
          whenInitialised);
    } catch (IOException | RuntimeException e) {
      cgroup.ifPresent(Cgroups.InstanceCgroup::remove);
      disk.ifPresent(d -> scratch.get().remove(d));
      spec.network().ifPresent(this::releaseNetwork);
      throw e;
    }
  }

  /** The JSON line the zygote's child builds the instance from (see zygote.py). */
  private String zygoteSpec(
      SandboxSpec spec,
      Cgroups.InstanceCgroup cgroup,
      Optional<ScratchDisks.Disk> disk,
      Path output,
      Optional<InstanceNetwork> network)
      throws IOException {
    List<String> program = new ArrayList<>(spec.command());
    List<java.util.Map<String, Object>> mounts = new ArrayList<>();
    for (RootMount m : rootMounts(spec, disk, program)) {
      java.util.Map<String, Object> mount = new java.util.LinkedHashMap<>();
      mount.put("kind", m.kind().name().toLowerCase(java.util.Locale.ROOT));
      mount.put("source", m.source());
      mount.put("target", m.target());
      mount.put("readOnly", m.readOnly());
      mount.put("optional", m.optional());
      mount.put("size", m.size());
      mounts.add(mount);
    }
    java.util.Map<String, Object> line = new java.util.LinkedHashMap<>();
    line.put("output", output.toString());
    line.put("cgroupProcs", cgroup.procsFiles().stream().map(Path::toString).toList());
    line.put("netns", network.map(n -> n.namespacePath().toString()).orElse(null));
    network
        .filter(n -> !n.configured())
        .ifPresent(
            n -> {
              // the inside, for the init to set up (zygote.py), as configureInside would
              java.util.Map<String, Object> inside = new java.util.LinkedHashMap<>();
              inside.put("address", n.instanceAddress());
              inside.put("gateway", n.hostAddress());
              inside.put("gatewayMac", n.hostMac());
              inside.put("defaultRoute", n.defaultRoute());
              line.put("network", inside);
            });
    line.put("hostname", "localhost");
    line.put("uid", SANDBOX_UID);
    line.put("gid", SANDBOX_GID);
    line.put("cwd", TASK_ROOT.toString());
    line.put("argv", program.subList(2, program.size()));
    line.put("environment", spec.environment());
    line.put("mounts", mounts);
    return ZygoteStarter.JSON.writeValueAsString(line);
  }

  /** Records the part {@code name} as having run from {@code since} to now; returns now. */
  private static long phase(java.util.Map<String, Duration> phases, String name, long since) {
    long now = System.nanoTime();
    phases.put(name, Duration.ofNanos(now - since));
    return now;
  }

  private List<String> command(
      SandboxSpec spec, Optional<Cgroups.InstanceCgroup> cgroup, Optional<ScratchDisks.Disk> disk)
      throws IOException {
    List<String> c = new ArrayList<>(List.of(setsid, "/bin/sh", "-c", ENTER_CGROUPS, "kiln-enter"));
    cgroup.ifPresent(g -> g.procsFiles().forEach(f -> c.add(f.toString())));
    c.add("--");
    spec.network().ifPresent(n -> c.addAll(List.of(nsenter, "--net=" + n.namespacePath(), "--")));
    c.add(bwrap);
    if (!root) {
      c.addAll(
          List.of(
              "--unshare-user",
              "--uid",
              Integer.toString(SANDBOX_UID),
              "--gid",
              Integer.toString(SANDBOX_GID)));
    }
    c.addAll(
        List.of(
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "localhost"));
    List<String> program = new ArrayList<>(spec.command());
    for (RootMount m : rootMounts(spec, disk, program)) {
      switch (m.kind()) {
        case BIND ->
            c.addAll(
                List.of(
                    m.optional() ? "--ro-bind-try" : (m.readOnly() ? "--ro-bind" : "--bind"),
                    m.source(),
                    m.target()));
        case SYMLINK -> c.addAll(List.of("--symlink", m.source(), m.target()));
        // bubblewrap as root makes missing parents of a mount point private (0700) to root
        case DIR -> c.addAll(List.of("--perms", "0755", "--dir", m.target()));
        case TMPFS -> c.addAll(List.of("--size", Long.toString(m.size()), "--tmpfs", m.target()));
        case PROC -> c.addAll(List.of("--proc", m.target()));
        case DEV -> c.addAll(List.of("--dev", m.target()));
        case LOOP ->
            throw new IllegalArgumentException(
                "bubblewrap binds a disk mounted on the host, not an image: " + m.source());
      }
    }
    c.addAll(List.of("--chdir", TASK_ROOT.toString(), "--remount-ro", "/"));
    c.add("--");
    if (root) {
      c.addAll(
          List.of(
              setpriv,
              "--reuid=" + SANDBOX_UID,
              "--regid=" + SANDBOX_GID,
              "--clear-groups",
              "--inh-caps=-all",
              "--bounding-set=-all",
              "--no-new-privs",
              "--"));
    }
    c.addAll(program);
    return c;
  }

  /**
   * What an instance's root is made of, in order: one list for both start paths, so that bubblewrap
   * and the zygote build the same root. Resolves {@code program}'s interpreter in place to its real
   * path, binding an installation outside the system directories where it is.
   */
  List<RootMount> rootMounts(
      SandboxSpec spec, Optional<ScratchDisks.Disk> disk, List<String> program) throws IOException {
    List<RootMount> m = new ArrayList<>();
    m.add(RootMount.bind("/usr", "/usr"));
    for (String top : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
      Path host = Path.of("/", top);
      if (Files.isSymbolicLink(host)) {
        m.add(RootMount.of(Kind.SYMLINK, Files.readSymbolicLink(host).toString(), host.toString()));
      } else if (Files.isDirectory(host)) {
        m.add(RootMount.bind(host.toString(), host.toString()));
      }
    }
    m.add(RootMount.of(Kind.DIR, null, "/etc"));
    m.add(RootMount.of(Kind.DIR, null, "/var"));
    for (String name : HOST_ETC) {
      m.add(new RootMount(Kind.BIND, "/etc/" + name, "/etc/" + name, true, true, 0));
    }
    // a distribution's JDK keeps its configuration in /etc/java-NN-openjdk, Mono in /etc/mono
    for (Path conf : RUNTIME_ETC) {
      m.add(RootMount.bind(conf.toString(), conf.toString()));
    }
    m.add(RootMount.bind(etc.resolve("passwd").toString(), "/etc/passwd"));
    m.add(RootMount.bind(etc.resolve("group").toString(), "/etc/group"));
    m.add(RootMount.bind(spec.taskRoot().toString(), TASK_ROOT.toString()));
    m.add(RootMount.bind(spec.runtimeDir().toString(), RUNTIME_DIR.toString()));
    spec.runtimeCache()
        .ifPresent(cache -> m.add(RootMount.bind(cache.toString(), RUNTIME_CACHE.toString())));
    if (spec.layers().isPresent()) {
      m.add(RootMount.bind(spec.layers().get().toString(), OPT.toString()));
    } else {
      m.add(RootMount.of(Kind.DIR, null, OPT.toString()));
    }
    if (disk.isPresent() && disk.get().mounted()) {
      m.add(new RootMount(Kind.BIND, disk.get().mountPoint().toString(), "/tmp", false, false, 0));
    } else if (disk.isPresent()) {
      m.add(new RootMount(Kind.LOOP, disk.get().image().toString(), "/tmp", false, false, 0));
    } else {
      m.add(
          new RootMount(
              Kind.TMPFS, null, "/tmp", false, false, spec.ephemeralStorageMb() * 1024L * 1024L));
    }
    Path interpreter = Path.of(program.get(0));
    if (interpreter.isAbsolute() && Files.exists(interpreter)) {
      // an interpreter outside the system directories (a version manager's, an operator's build)
      // is bound read-only where it is, with the installation it belongs to
      Path real = interpreter.toRealPath();
      program.set(0, real.toString());
      if (!isUnderSystemDirs(real)
          && real.getParent() != null
          && real.getParent().getParent() != null) {
        Path prefix = real.getParent().getParent();
        for (int i = 1; i < prefix.getNameCount(); i++) {
          m.add(RootMount.of(Kind.DIR, null, "/" + prefix.subpath(0, i)));
        }
        m.add(RootMount.bind(prefix.toString(), prefix.toString()));
      }
    }
    m.add(RootMount.of(Kind.PROC, null, "/proc"));
    m.add(RootMount.of(Kind.DEV, null, "/dev"));
    return m;
  }

  enum Kind {
    BIND,
    SYMLINK,
    DIR,
    TMPFS,
    /** An ext4 image the instance's init mounts through a loop device of its own (zygote only). */
    LOOP,
    PROC,
    DEV
  }

  /**
   * One step of building an instance's root: a bind of {@code source} (read-only unless said;
   * skipped if missing when {@code optional}), a symlink to {@code source}, a 0755 directory, a
   * tmpfs of {@code size} bytes, an ext4 image at {@code source} mounted through a loop device, a
   * fresh {@code /proc}, a minimal {@code /dev}.
   */
  record RootMount(
      Kind kind, String source, String target, boolean readOnly, boolean optional, long size) {
    static RootMount bind(String source, String target) {
      return new RootMount(Kind.BIND, source, target, true, false, 0);
    }

    static RootMount of(Kind kind, String source, String target) {
      return new RootMount(kind, source, target, true, false, 0);
    }
  }

  private static boolean isUnderSystemDirs(Path p) {
    return p.startsWith("/usr") || p.startsWith("/bin") || p.startsWith("/lib");
  }

  @Override
  public String describe() {
    List<String> in = new ArrayList<>();
    List<String> out = new ArrayList<>();
    in.add("own pid, ipc, uts and mount namespaces");
    in.add("code read-only at /var/task");
    in.add(root ? "uid 993 with no capabilities" : "uid 993 inside a user namespace");
    Set<String> enforced = cgroups.map(Cgroups::enforced).orElse(Set.of());
    if (scratch.isPresent()) {
      in.add("/tmp an ext4 disk of EphemeralStorage");
    } else {
      in.add(
          "/tmp a tmpfs of EphemeralStorage"
              + (enforced.contains("memory") ? " (its files count towards the memory limit)" : ""));
    }
    String via = cgroups.map(c -> " via " + c.describe()).orElse("");
    for (String[] limit :
        List.of(
            new String[] {"memory", "memory limit at MemorySize"},
            new String[] {"cpu", "CPU quota in proportion to memory"},
            new String[] {"pids", "1024 processes"})) {
      (enforced.contains(limit[0]) ? in : out).add(limit[1]);
    }
    if (networks.isPresent()) {
      in.add(
          "own network namespace reaching only its Runtime API"
              + (networks.get().outbound() ? " and, through NAT, the outside" : ""));
    } else {
      out.add("network isolation (instances share the host's network)");
    }
    return "linux sandbox (bubblewrap"
        + (forksPython() ? ", Python forked from zygotes" : "")
        + via
        + "): "
        + String.join(", ", in)
        + (out.isEmpty() ? "" : "; NOT in force: " + String.join(", ", out));
  }

  @Override
  public void close() {
    try {
      CompletableFuture.allOf(cleanUps.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("some instances were not cleaned up: {}", e.toString());
    }
    zygotes.ifPresent(ZygoteStarter::close);
    networks.ifPresent(NetworkNamespaces::close);
    scratch.ifPresent(ScratchDisks::close);
    cgroups.ifPresent(Cgroups::close);
    background.shutdown();
  }

  /**
   * Runs an ended instance's clean-up in the background, or right here once {@link #close} has shut
   * the background down: an instance the server's shutdown stopped may end after the driver closed,
   * and a clean-up the closed executor refused left its {@code /tmp} disk mounted on the host,
   * under a data directory a test then deleted around it.
   */
  private void cleanUpSoon(Runnable cleanUp) {
    try {
      background.execute(cleanUp);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      cleanUp.run();
    }
  }

  @Override
  public void reapLeftovers(Path instancesRoot, java.util.function.Consumer<Path> salvage) {
    for (Path dir : ProcessTrees.instanceDirs(instancesRoot)) {
      ProcessTrees.killRecorded(dir);
      cgroups.ifPresent(c -> c.reapLeftover(dir.getFileName().toString()));
      salvage.accept(dir);
      ProcessTrees.deleteTree(dir);
    }
    // groups whose instance directory was already gone; the sub-tree is this server's alone
    cgroups.ifPresent(Cgroups::reapAllLeftovers);
    // the disks and networks of those instances, and the spares made for the next ones
    networks.ifPresent(NetworkNamespaces::sweep);
    scratch.ifPresent(ScratchDisks::sweep);
    networks.ifPresent(NetworkNamespaces::prepare);
    scratch.ifPresent(ScratchDisks::prepare);
  }

  /**
   * An instance's process tree, started either way: {@code main} is bubblewrap's outer process or
   * the zygote-forked init, {@code exitValue} its exit value as the JDK reports it, and {@code
   * started} the bubblewrap process when Kiln started it itself (its stdin holds it at start).
   */
  private final class LinuxSandbox implements Sandbox {
    private final ProcessHandle main;
    private final Optional<Process> started;
    private final Path dir;
    private final Path output;
    private final Optional<Cgroups.InstanceCgroup> cgroup;
    private final CgroupLimits limits;
    private final Optional<InstanceNetwork> network;
    private final Optional<ScratchDisks.Disk> disk;
    private final java.util.Map<String, Duration> startPhases;
    private final CompletableFuture<ExitStatus> exit;

    /** Tells whatever started the instance that its runtime has initialised (the zygote). */
    private final Runnable whenInitialised;

    /**
     * The cgroup's peak memory, read as the instance ended, before anything that follows its exit
     * (the removal of the cgroup among them) can run; -1 while it runs.
     */
    private volatile long peakAtExit = -1;

    LinuxSandbox(
        ProcessHandle main,
        CompletableFuture<Integer> exitValue,
        Optional<Process> started,
        Path dir,
        Path output,
        Optional<Cgroups.InstanceCgroup> cgroup,
        CgroupLimits limits,
        Optional<InstanceNetwork> network,
        Optional<ScratchDisks.Disk> disk,
        java.util.Map<String, Duration> startPhases,
        Runnable whenInitialised) {
      this.startPhases = startPhases;
      this.whenInitialised = whenInitialised;
      this.network = network;
      this.disk = disk;
      this.main = main;
      this.started = started;
      this.limits = limits;
      this.dir = dir;
      this.output = output;
      this.cgroup = cgroup;
      this.exit =
          exitValue.thenApply(
              value -> {
                ExitStatus status = ExitStatus.fromExitValue(value);
                peakAtExit = cgroup.map(Cgroups.InstanceCgroup::peakMemoryBytes).orElse(0L);
                cgroup.ifPresent(Cgroups.InstanceCgroup::killAll);
                return cgroup.map(Cgroups.InstanceCgroup::oomKilled).orElse(false)
                    ? status.asOutOfMemory()
                    : status;
              });
    }

    @Override
    public java.util.Map<String, Duration> startPhases() {
      return startPhases;
    }

    @Override
    public long pid() {
      return main.pid();
    }

    @Override
    public Path outputFile() {
      return output;
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
      return exit;
    }

    @Override
    public Set<Long> pids() {
      Set<Long> pids = new HashSet<>();
      pids.add(main.pid());
      if (cgroup.isPresent()) {
        String listed = Cgroups.read(cgroup.get().procsFiles().get(0)).orElse("").trim();
        for (String pid : listed.isEmpty() ? new String[0] : listed.split("\\s+")) {
          pids.add(Long.parseLong(pid));
        }
      } else {
        main.descendants().forEach(p -> pids.add(p.pid()));
      }
      return pids;
    }

    @Override
    public long maxMemoryUsedBytes() {
      long atExit = peakAtExit;
      long peak =
          atExit >= 0 ? atExit : cgroup.map(Cgroups.InstanceCgroup::peakMemoryBytes).orElse(0L);
      return peak > 0 ? peak : ProcessTrees.treePeakRss(main.pid());
    }

    @Override
    public boolean freeze(boolean frozen) {
      return cgroup.map(g -> g.freeze(frozen)).orElse(false);
    }

    @Override
    public void initialised() {
      cgroup.ifPresent(g -> g.limitCpu(limits.cpuQuotaMicros()));
      whenInitialised.run();
    }

    @Override
    public void removeFiles() {
      CompletableFuture<Void> cleanUp =
          exit.thenRunAsync(
              () -> {
                disk.ifPresent(d -> scratch.get().remove(d));
                cgroup.ifPresent(Cgroups.InstanceCgroup::remove);
                network.ifPresent(LinuxSandboxDriver.this::releaseNetwork);
                ProcessTrees.deleteTree(dir);
              },
              LinuxSandboxDriver.this::cleanUpSoon);
      cleanUps.add(cleanUp);
      cleanUp.whenComplete((v, e) -> cleanUps.remove(cleanUp));
    }

    @Override
    public void releaseStart() {
      started.ifPresent(ProcessTrees::releaseStart);
    }

    @Override
    public Optional<Path> tmpOnHost() {
      // a forked instance's disk is mounted only inside its own mount namespace
      return disk.filter(ScratchDisks.Disk::mounted).map(ScratchDisks.Disk::mountPoint);
    }

    @Override
    public void kill() {
      // bubblewrap's death takes its pid namespace with it; the cgroup catches the rest at once
      main.destroyForcibly();
      cgroup.ifPresent(Cgroups.InstanceCgroup::killAll);
      ProcessTrees.killTree(main);
    }

    @Override
    public void terminate(Duration grace) {
      // SIGTERM to the runtime and its children, not to bubblewrap: its death would SIGKILL them
      // before the grace period. bubblewrap's init ignores a signal from outside its namespace.
      // A frozen instance is thawed first, or the signal would wait for a thaw that never comes.
      freeze(false);
      main.descendants().forEach(ProcessHandle::destroy);
      try {
        exit.get(grace.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
      }
    }
  }
}
