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
      ExecutorService background) {
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
              Thread t = new Thread(r, "kiln-sandbox-background");
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
        background);
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
    Optional<Path> disk = Optional.empty();
    try {
      if (cgroups.isPresent()) {
        cgroup =
            Optional.of(
                cgroups.get().create(spec.instanceId(), CgroupLimits.forMemory(spec.memoryMb())));
      }
      if (scratch.isPresent()) {
        disk = Optional.of(scratch.get().take(spec.ephemeralStorageMb()));
      }
      ProcessBuilder builder = new ProcessBuilder(command(spec, cgroup, disk));
      builder.environment().clear();
      builder.environment().putAll(spec.environment());
      builder.directory(dir.toFile());
      builder.redirectErrorStream(true);
      Path output = dir.resolve("output.log");
      builder.redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
      builder.redirectInput(ProcessTrees.stdin(spec));
      Process process = ProcessSpawner.start(builder);
      ProcessTrees.recordPid(dir, process.toHandle());
      return new LinuxSandbox(
          process,
          dir,
          output,
          cgroup,
          CgroupLimits.forMemory(spec.memoryMb()),
          spec.network(),
          disk);
    } catch (IOException | RuntimeException e) {
      cgroup.ifPresent(Cgroups.InstanceCgroup::remove);
      disk.ifPresent(d -> scratch.get().remove(d));
      spec.network().ifPresent(this::releaseNetwork);
      throw e;
    }
  }

  private List<String> command(
      SandboxSpec spec, Optional<Cgroups.InstanceCgroup> cgroup, Optional<Path> disk)
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
            "localhost",
            "--ro-bind",
            "/usr",
            "/usr"));
    for (String top : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
      Path host = Path.of("/", top);
      if (Files.isSymbolicLink(host)) {
        c.addAll(List.of("--symlink", Files.readSymbolicLink(host).toString(), host.toString()));
      } else if (Files.isDirectory(host)) {
        c.addAll(List.of("--ro-bind", host.toString(), host.toString()));
      }
    }
    // bubblewrap as root makes missing parents of a mount point private (0700) to root
    c.addAll(List.of("--perms", "0755", "--dir", "/etc", "--perms", "0755", "--dir", "/var"));
    for (String name : HOST_ETC) {
      c.addAll(List.of("--ro-bind-try", "/etc/" + name, "/etc/" + name));
    }
    // a distribution's JDK keeps its configuration in /etc/java-NN-openjdk, Mono in /etc/mono
    for (Path conf : RUNTIME_ETC) {
      c.addAll(List.of("--ro-bind", conf.toString(), conf.toString()));
    }
    c.addAll(List.of("--ro-bind", etc.resolve("passwd").toString(), "/etc/passwd"));
    c.addAll(List.of("--ro-bind", etc.resolve("group").toString(), "/etc/group"));
    c.addAll(List.of("--ro-bind", spec.taskRoot().toString(), TASK_ROOT.toString()));
    c.addAll(List.of("--ro-bind", spec.runtimeDir().toString(), RUNTIME_DIR.toString()));
    spec.runtimeCache()
        .ifPresent(
            cache -> c.addAll(List.of("--ro-bind", cache.toString(), RUNTIME_CACHE.toString())));
    if (spec.layers().isPresent()) {
      c.addAll(List.of("--ro-bind", spec.layers().get().toString(), OPT.toString()));
    } else {
      c.addAll(List.of("--dir", OPT.toString()));
    }
    if (disk.isPresent()) {
      c.addAll(List.of("--bind", disk.get().toString(), "/tmp"));
    } else {
      c.addAll(
          List.of(
              "--size",
              Long.toString(spec.ephemeralStorageMb() * 1024L * 1024L),
              "--tmpfs",
              "/tmp"));
    }
    List<String> program = new ArrayList<>(spec.command());
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
          c.addAll(List.of("--perms", "0755", "--dir", "/" + prefix.subpath(0, i)));
        }
        c.addAll(List.of("--ro-bind", prefix.toString(), prefix.toString()));
      }
    }
    c.addAll(
        List.of(
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--chdir",
            TASK_ROOT.toString(),
            "--remount-ro",
            "/"));
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
    networks.ifPresent(NetworkNamespaces::close);
    scratch.ifPresent(ScratchDisks::close);
    cgroups.ifPresent(Cgroups::close);
    background.shutdown();
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

  private final class LinuxSandbox implements Sandbox {
    private final Process process;
    private final Path dir;
    private final Path output;
    private final Optional<Cgroups.InstanceCgroup> cgroup;
    private final CgroupLimits limits;
    private final Optional<InstanceNetwork> network;
    private final Optional<Path> disk;
    private final CompletableFuture<ExitStatus> exit;

    LinuxSandbox(
        Process process,
        Path dir,
        Path output,
        Optional<Cgroups.InstanceCgroup> cgroup,
        CgroupLimits limits,
        Optional<InstanceNetwork> network,
        Optional<Path> disk) {
      this.network = network;
      this.disk = disk;
      this.process = process;
      this.limits = limits;
      this.dir = dir;
      this.output = output;
      this.cgroup = cgroup;
      this.exit =
          process
              .onExit()
              .thenApply(
                  p -> {
                    ExitStatus status = ExitStatus.fromExitValue(p.exitValue());
                    cgroup.ifPresent(Cgroups.InstanceCgroup::killAll);
                    return cgroup.map(Cgroups.InstanceCgroup::oomKilled).orElse(false)
                        ? status.asOutOfMemory()
                        : status;
                  });
    }

    @Override
    public long pid() {
      return process.pid();
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
      pids.add(process.pid());
      if (cgroup.isPresent()) {
        String listed = Cgroups.read(cgroup.get().procsFiles().get(0)).orElse("").trim();
        for (String pid : listed.isEmpty() ? new String[0] : listed.split("\\s+")) {
          pids.add(Long.parseLong(pid));
        }
      } else {
        process.descendants().forEach(p -> pids.add(p.pid()));
      }
      return pids;
    }

    @Override
    public long maxMemoryUsedBytes() {
      long peak = cgroup.map(Cgroups.InstanceCgroup::peakMemoryBytes).orElse(0L);
      return peak > 0 ? peak : ProcessTrees.treePeakRss(process.pid());
    }

    @Override
    public boolean freeze(boolean frozen) {
      return cgroup.map(g -> g.freeze(frozen)).orElse(false);
    }

    @Override
    public void initialised() {
      cgroup.ifPresent(g -> g.limitCpu(limits.cpuQuotaMicros()));
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
              background);
      cleanUps.add(cleanUp);
      cleanUp.whenComplete((v, e) -> cleanUps.remove(cleanUp));
    }

    @Override
    public void releaseStart() {
      ProcessTrees.releaseStart(process);
    }

    @Override
    public Optional<Path> tmpOnHost() {
      return disk;
    }

    @Override
    public void kill() {
      // bubblewrap's death takes its pid namespace with it; the cgroup catches the rest at once
      process.destroyForcibly();
      cgroup.ifPresent(Cgroups.InstanceCgroup::killAll);
      ProcessTrees.killTree(process.toHandle());
    }

    @Override
    public void terminate(Duration grace) {
      // SIGTERM to the runtime and its children, not to bubblewrap: its death would SIGKILL them
      // before the grace period. bubblewrap's init ignores a signal from outside its namespace.
      // A frozen instance is thawed first, or the signal would wait for a thaw that never comes.
      freeze(false);
      process.descendants().forEach(ProcessHandle::destroy);
      try {
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          kill();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
      }
    }
  }
}
