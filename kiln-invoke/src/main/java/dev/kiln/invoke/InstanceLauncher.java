package dev.kiln.invoke;

import dev.kiln.model.Account;
import dev.kiln.model.FunctionConfig;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.runtimeapi.RuntimeChannel;
import dev.kiln.runtimes.Architectures;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.sandbox.ExitStatus;
import dev.kiln.sandbox.InstanceNetwork;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.sandbox.SandboxDriver;
import dev.kiln.sandbox.SandboxSpec;
import dev.kiln.time.Ticker;
import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts instances: opens the instance's Runtime API channel, builds the environment Lambda gives a
 * function, and asks the sandbox driver for the process. It makes no threads: each instance is
 * given the invoker's write-up executor.
 */
final class InstanceLauncher {

  private final InstantSource clock;
  private final Ticker ticker;

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(InstanceLauncher.class);

  /**
   * How long a runtime's first Runtime API call may wait for {@code driver.start} to return the
   * sandbox whose processes it is checked against: the process can run before the call returns.
   */
  private static final java.time.Duration START_RACE_WAIT = java.time.Duration.ofSeconds(10);

  private static final DateTimeFormatter STREAM_DATE = DateTimeFormatter.ofPattern("yyyy/MM/dd");

  private final SandboxDriver driver;
  private final RuntimeApiServer runtimeApi;
  private final Path instancesRoot;
  private final Account account;
  private final ScaleGate gate;
  private final JavaClassCache classCache;
  private final FunctionLogs logs;
  private final KilnMetrics metrics;
  private final UsageMeter usage;
  private final InvocationTracer tracer;
  private final InstanceCredentials credentials;

  /** Given to each instance for its write-ups: the invoker's {@link Invoker.Tasks#writeUps}. */
  private final java.util.concurrent.Executor writeUps;

  InstanceLauncher(
      SandboxDriver driver,
      RuntimeApiServer runtimeApi,
      Path instancesRoot,
      Account account,
      ScaleGate gate,
      FunctionLogs logs,
      KilnMetrics metrics,
      UsageMeter usage,
      InvocationTracer tracer,
      InstanceCredentials credentials,
      InstantSource clock,
      Ticker ticker,
      java.util.concurrent.Executor writeUps) {
    this.writeUps = writeUps;
    this.clock = clock;
    this.ticker = ticker;
    this.credentials = credentials;
    this.usage = usage;
    this.tracer = tracer;
    this.gate = gate;
    this.logs = logs;
    this.metrics = metrics;
    this.driver = driver;
    this.runtimeApi = runtimeApi;
    this.instancesRoot = instancesRoot;
    this.account = account;
    this.classCache = new JavaClassCache(instancesRoot.resolveSibling("java-cds"));
  }

  /** Deletes what was prepared for versions whose code is gone. */
  void retainOnly(java.util.Set<String> referencedCode) {
    classCache.retainOnly(referencedCode);
  }

  /** A host slot for one on-demand start (see {@link ScaleGate#tryBeginStart}). */
  boolean tryBeginStart() {
    return gate.tryBeginStart();
  }

  /** Gives back the slot of a start that is ready, failed or was not needed. */
  void startEnded() {
    gate.startEnded();
  }

  /**
   * Starts an instance of {@code version}, once the scale gate lets it (429 when it does not). The
   * instance's memory goes back to the gate when its processes are gone.
   *
   * @param provisioned started ahead of demand for provisioned concurrency, which the runtime
   *     learns from {@code AWS_LAMBDA_INITIALIZATION_TYPE}
   */
  Instance start(FunctionVersion version, boolean provisioned) throws IOException {
    return start(version, provisioned, () -> true);
  }

  /**
   * Starts an instance for a call that may be served by another one meanwhile: null, having started
   * nothing, if {@code wanted} turns false while the start waits for room on the host.
   */
  Instance start(FunctionVersion version, java.util.function.BooleanSupplier wanted)
      throws IOException {
    return start(version, false, wanted);
  }

  private Instance start(
      FunctionVersion version, boolean provisioned, java.util.function.BooleanSupplier wanted)
      throws IOException {
    int memory = version.config().memorySize();
    if (!gate.admit(version.name(), memory, wanted)) {
      return null;
    }
    String id = UUID.randomUUID().toString().replace("-", "");
    Instance instance;
    try {
      instance = launch(version, provisioned, id);
    } catch (IOException | RuntimeException e) {
      gate.release(memory);
      if (loggedFailure(e)) {
        // a sandbox that could not start, or anything else of Kiln's that failed: the caller
        // answers the invocation; the server's log says what went wrong, once
        LOG.warn(
            "instance {} of function {} version {} could not start: {}",
            id,
            version.name(),
            version.version(),
            e.toString());
      }
      throw e;
    }
    Instance started = instance;
    instance.onExit().thenRun(() -> gate.release(memory, started));
    return instance;
  }

  /**
   * Whether {@link #start} logs {@code e} as a failure of the platform: not when the scale gate or
   * the host's memory refused the start (a throttle, counted in the metrics) nor when the
   * function's code has no bootstrap (the function's fault, answered as Lambda answers it).
   */
  static boolean loggedFailure(Throwable e) {
    return !(e instanceof dev.kiln.model.LambdaError) && !(e instanceof InvalidEntrypoint);
  }

  /**
   * A custom runtime whose code has no executable {@code bootstrap}: Lambda answers the invocation
   * with {@code Runtime.InvalidEntrypoint}, and so does the invoker on catching this.
   */
  static final class InvalidEntrypoint extends RuntimeException {
    InvalidEntrypoint(String message) {
      super(message, null, false, false);
    }
  }

  private Instance launch(FunctionVersion version, boolean provisioned, String id)
      throws IOException {
    if (version.launch().custom() && customBootstrap(version).isEmpty()) {
      // Lambda's words, which name where Lambda looks (the Linux sandbox's layout too)
      throw new InvalidEntrypoint(
          "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]");
    }
    if (version.launch().custom()) {
      emulator(version); // a bootstrap of the wrong architecture fails before anything starts
    }
    long startedNanos = ticker.read();
    // a runtime may call the Runtime API before driver.start returns: its first call waits here
    CompletableFuture<Sandbox> started = new CompletableFuture<>();
    Optional<InstanceNetwork> network = driver.isolateNetwork(id, version.outboundNetwork());
    long networkNanos = ticker.read() - startedNanos;
    RuntimeChannel channel =
        network.isPresent()
            ? runtimeApi.openIsolated(
                id, network.get().hostAddress(), network.get().instanceAddress())
            : runtimeApi.open(
                id,
                () -> {
                  try {
                    return started.get(START_RACE_WAIT.toMillis(), TimeUnit.MILLISECONDS).pids();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Set.of();
                  } catch (ExecutionException | TimeoutException e) {
                    return Set.of();
                  }
                });
    String logStream =
        LocalDate.now(ZoneOffset.UTC).format(STREAM_DATE) + "/[" + version.version() + "]" + id;
    Map<String, String> env =
        environment(version, channel.runtimeApiAddress(), logStream, provisioned);
    FunctionConfig config = version.config();
    List<String> extensions = externalExtensions(version);
    Optional<JavaClassCache.Plan> cds = classDataSharing(version);
    List<String> command = command(version, instancesRoot.resolve(id), cds);
    // internal extensions may register even when there are no external ones
    channel.expectExtensions(
        java.util.Set.copyOf(extensions),
        new RuntimeChannel.FunctionInfo(
            config.functionName(), config.version(), config.handler(), account.accountId()));
    if (!extensions.isEmpty()) {
      command = withExtensions(version, extensions, command);
    }
    // issued last, so that every failure from here on gives it back
    Optional<InstanceCredentials.Issued> key =
        credentials.issue(version.functionArn(), config.role(), id);
    key.ifPresent(k -> putCredentials(env, k, channel.runtimeApiAddress()));
    // where its output goes, for a Kiln that restarts after a crash (InstanceLog)
    try {
      InstanceLog.label(instancesRoot.resolve(id), version, logStream);
    } catch (IOException e) {
      channel.close();
      credentials.revoke(id);
      throw e;
    }
    SandboxSpec spec =
        new SandboxSpec(
            id,
            command,
            env,
            version.taskRoot(),
            version.launch().runtimeDir(),
            instancesRoot.resolve(id),
            config.memorySize(),
            config.ephemeralStorageSize(),
            version.layers(),
            cds.map(JavaClassCache.Plan::dir),
            !extensions.isEmpty(),
            network);
    Sandbox sandbox;
    long sandboxReadyNanos;
    try {
      long before = ticker.read();
      sandbox = driver.start(spec);
      sandboxReadyNanos = ticker.read();
      metrics.sandboxStarted(java.time.Duration.ofNanos(sandboxReadyNanos - before));
      Map<String, java.time.Duration> phases = new java.util.HashMap<>(sandbox.startPhases());
      // a namespace made on demand has its inside set up by the driver's start: one phase
      java.time.Duration insideNetwork = phases.remove("network");
      if (network.isPresent()) {
        java.time.Duration taken = java.time.Duration.ofNanos(networkNanos);
        metrics.coldStartPhase(
            "network", insideNetwork == null ? taken : taken.plus(insideNetwork));
      }
      metrics.coldStartPhase(
          "prepare", java.time.Duration.ofNanos(before - startedNanos - networkNanos));
      phases.forEach(metrics::coldStartPhase);
    } catch (IOException | RuntimeException e) {
      // the driver has released the network; the channel and the key are ours to give back
      started.completeExceptionally(e);
      channel.close();
      credentials.revoke(id);
      cds.filter(JavaClassCache.Plan::dump)
          .ifPresent(
              plan -> classCache.finished(plan, new ExitStatus(1, 0, false), Optional.empty()));
      throw e;
    }
    started.complete(sandbox);
    // the instance's key ends with it
    sandbox.onExit().thenRun(() -> credentials.revoke(id));
    if (!extensions.isEmpty()) {
      // the runtime starts once every extension has registered, as on Lambda
      channel.extensionsRegistered().thenRun(sandbox::releaseStart);
    }
    InstanceLog log = new InstanceLog(sandbox.outputFile());
    Instance.Epilogue epilogue =
        cds.filter(JavaClassCache.Plan::dump)
            .<Instance.Epilogue>map(
                plan ->
                    new Instance.Epilogue() {
                      @Override
                      public java.time.Duration terminateGrace() {
                        // the JVM writes the archive on its way out; an AOT cache's training
                        // JVM starts another to assemble it, which takes longer
                        return plan.aot() ? AOT_CACHE_GRACE : ARCHIVE_GRACE;
                      }

                      @Override
                      public String lastWords(String output) {
                        return JavaClassCache.withoutTrainingReport(output);
                      }

                      @Override
                      public void stopped(Sandbox stoppedSandbox, boolean graceful) {
                        ExitStatus killed = new ExitStatus(137, 9, false);
                        ExitStatus exit = killed;
                        if (graceful) {
                          try {
                            // the process is gone; its exit status arrives a moment later
                            exit =
                                stoppedSandbox
                                    .onExit()
                                    .get(5, java.util.concurrent.TimeUnit.SECONDS);
                          } catch (Exception e) {
                            exit = killed;
                          }
                        }
                        classCache.finished(plan, exit, stoppedSandbox.tmpOnHost());
                      }
                    })
            .orElse(Instance.Epilogue.NONE);
    return new Instance(
        id,
        version,
        logStream,
        sandbox,
        channel,
        log,
        startedNanos,
        sandboxReadyNanos,
        tracer,
        epilogue,
        logs,
        metrics,
        usage,
        provisioned,
        key,
        clock,
        ticker,
        writeUps);
  }

  /** How long a JVM that writes a class data sharing archive may take to exit. */
  private static final java.time.Duration ARCHIVE_GRACE = java.time.Duration.ofSeconds(10);

  /**
   * How long a JVM that trains an AOT cache may take to exit: its assembling JVM took 2.5 s on an
   * idle 2-core machine, several times that while the machine was busy.
   */
  private static final java.time.Duration AOT_CACHE_GRACE = java.time.Duration.ofSeconds(30);

  /**
   * The class data sharing plan of a Java instance; empty for other runtimes, or when the cache
   * cannot be prepared (the instance then starts without it).
   */
  private Optional<JavaClassCache.Plan> classDataSharing(FunctionVersion version) {
    if (version.launch().family() != RuntimeTable.Family.JAVA) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          classCache.plan(
              version,
              version.launch().command().get(0),
              version.launch().jdk().map(RuntimeTable.Jdk::feature).orElse(0)));
    } catch (IOException | RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(InstanceLauncher.class)
          .warn("no class data sharing for {}: {}", version.key(), e.toString());
      return Optional.empty();
    }
  }

  /** The runtime's command, naming its bootstrap where the instance sees it. */
  private List<String> command(
      FunctionVersion version, Path instanceDir, Optional<JavaClassCache.Plan> cds) {
    if (version.launch().custom()) {
      // a custom runtime: the function's own bootstrap, or a layer's, where the instance sees it,
      // under qemu when it is built for the architecture the function asks for but not the host's
      String bootstrap = customBootstrap(version).orElseThrow();
      return emulator(version)
          .map(qemu -> List.of(qemu.toString(), bootstrap))
          .orElse(List.of(bootstrap));
    }
    if (version.launch().family() == RuntimeTable.Family.JAVA) {
      return javaCommand(version, instanceDir, cds);
    }
    Path runtimeDir = version.launch().runtimeDir();
    Path inside = driver.runtimeDirInside(runtimeDir);
    List<String> command = new ArrayList<>();
    for (String arg : version.launch().command()) {
      Path p = Path.of(arg);
      command.add(
          p.isAbsolute() && p.startsWith(runtimeDir)
              ? inside.resolve(runtimeDir.relativize(p)).toString()
              : arg);
    }
    return command;
  }

  /**
   * The external extensions of a version: the executable files in its layers' {@code extensions}
   * directory, by name, which is the order Lambda starts them in.
   */
  static List<String> externalExtensions(FunctionVersion version) {
    if (version.layers().isEmpty()) {
      return List.of();
    }
    Path dir = version.layers().get().resolve("extensions");
    if (!java.nio.file.Files.isDirectory(dir)) {
      return List.of();
    }
    try (var files = java.nio.file.Files.list(dir)) {
      return files
          .filter(f -> java.nio.file.Files.isRegularFile(f) && java.nio.file.Files.isExecutable(f))
          .map(f -> f.getFileName().toString())
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot list the extensions in " + dir, e);
    }
  }

  /**
   * The instance's first process with extensions: a shell that starts each extension in the
   * background, waits on its standard input until Kiln says they have all registered, then becomes
   * the runtime. The extensions are children of the runtime's process from then on, and go with it.
   */
  private List<String> withExtensions(
      FunctionVersion version, List<String> extensions, List<String> runtime) {
    Path dir = driver.layersInside(version.layers()).resolve("extensions");
    List<String> command = new ArrayList<>();
    command.add("/bin/sh");
    command.add("-c");
    command.add(
        "while [ \"$1\" != -- ]; do \"$1\" & shift; done; shift;"
            + " read -r _ || true; exec \"$@\" </dev/null");
    command.add("kiln-extensions");
    extensions.forEach(e -> command.add(dir.resolve(e).toString()));
    command.add("--");
    command.addAll(runtime);
    return command;
  }

  /**
   * The emulator a custom runtime's bootstrap needs: qemu's for the function's architecture when
   * the bootstrap is an executable built for it and the host is of the other one. A bootstrap built
   * for another architecture than the function's, or one that needs qemu where it is not installed,
   * cannot run: Lambda fails it at exec, and so does this, with Lambda's words (see {@link
   * Architectures}). A script runs on the host's interpreter, whatever the architecture.
   */
  private Optional<Path> emulator(FunctionVersion version) {
    Optional<String> built = customBootstrapOnHost(version).flatMap(Architectures::ofExecutable);
    if (built.isEmpty()) {
      return Optional.empty();
    }
    String requested = Architectures.requested(version.config().architectures());
    String execFormatError =
        "fork/exec " + customBootstrap(version).orElseThrow() + ": exec format error";
    if (!built.get().equals(requested)) {
      throw new InvalidEntrypoint(execFormatError);
    }
    if (requested.equals(Architectures.host())) {
      return Optional.empty();
    }
    Optional<Path> qemu = Architectures.emulator(requested);
    if (qemu.isEmpty()) {
      org.slf4j.LoggerFactory.getLogger(InstanceLauncher.class)
          .warn(
              "{}: its bootstrap is an {} program, which this {} host runs only under qemu's"
                  + " user-mode emulator, and it is not installed (apt-get install"
                  + " qemu-user-static)",
              version.key(),
              requested,
              Architectures.host());
      throw new InvalidEntrypoint(execFormatError);
    }
    return qemu;
  }

  /** A custom runtime's {@code bootstrap} on the host: the function's own, else a layer's. */
  static Optional<Path> customBootstrapOnHost(FunctionVersion version) {
    if (java.nio.file.Files.isExecutable(version.taskRoot().resolve("bootstrap"))) {
      return Optional.of(version.taskRoot().resolve("bootstrap"));
    }
    return version
        .layers()
        .map(layers -> layers.resolve("bootstrap"))
        .filter(java.nio.file.Files::isExecutable);
  }

  /**
   * Where a custom runtime's {@code bootstrap} is, as the instance sees it: the function's own
   * ({@code /var/task/bootstrap}) first, then a layer's ({@code /opt/bootstrap}), as on Lambda.
   */
  private Optional<String> customBootstrap(FunctionVersion version) {
    if (java.nio.file.Files.isExecutable(version.taskRoot().resolve("bootstrap"))) {
      return Optional.of(driver.taskRootInside(version.taskRoot()).resolve("bootstrap").toString());
    }
    if (version.layers().isPresent()
        && java.nio.file.Files.isExecutable(version.layers().get().resolve("bootstrap"))) {
      return Optional.of(driver.layersInside(version.layers()).resolve("bootstrap").toString());
    }
    return Optional.empty();
  }

  /**
   * A Java instance: AWS's runtime interface client on the function's JDK, with the JVM tuned for
   * short-lived instances as AWS's Java runtimes tune it (client compiler only, serial GC, native
   * access for the runtime interface client's JNI library, class data sharing: the JDK's archive,
   * and one per function version made by its first instance, an AOT cache on JDK 25 and later, see
   * {@link JavaClassCache}) and a heap of 85% of the function's memory. The code is the task root's
   * classes (packed into a jar for class data sharing) and its {@code lib/*.jar}, as in a Lambda
   * deployment package, then the layers' {@code java/lib/*.jar}.
   */
  private List<String> javaCommand(
      FunctionVersion version, Path instanceDir, Optional<JavaClassCache.Plan> cds) {
    Path runtime = driver.runtimeDirInside(version.launch().runtimeDir());
    Path task = driver.taskRootInside(version.taskRoot());
    Path opt = driver.layersInside(version.layers());
    int heapMb = Math.max(32, version.config().memorySize() * 85 / 100);
    List<String> command =
        new ArrayList<>(
            List.of(
                version.launch().command().get(0),
                "-XX:+TieredCompilation",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-Xmx" + heapMb + "m",
                "-Djava.net.preferIPv4Stack=true"));
    if (cds.isEmpty() || !cds.get().aot()) {
      // the JDK's archive (its default; the AOT options refuse to be named beside it)
      command.add(1, "-Xshare:auto");
    }
    if (version.launch().jdk().map(RuntimeTable.Jdk::feature).orElse(0) >= 17) {
      // the runtime interface client loads its native library with System.load, which JDK 24+
      // warns about at every start unless native access is granted, as Lambda's runtime grants it
      command.add("--enable-native-access=ALL-UNNAMED");
    }
    String code = task.toString();
    if (cds.isPresent()) {
      // jars only, as the JVM requires of a class path it archives (see JavaClassCache)
      Path cache = driver.runtimeCacheInside(cds.get().dir());
      code = cache.resolve(JavaClassCache.APP_JAR).toString();
      Optional<Path> mapped = cds.get().cacheToUse();
      String made = driver.tmpInside(instanceDir).resolve(cds.get().fileInTmp()).toString();
      if (mapped.isPresent()) {
        Path inside = cache.resolve(mapped.get().getFileName().toString());
        command.add((cds.get().aot() ? "-XX:AOTCache=" : "-XX:SharedArchiveFile=") + inside);
      } else if (cds.get().dump()) {
        command.add((cds.get().aot() ? "-XX:AOTCacheOutput=" : "-XX:ArchiveClassesAtExit=") + made);
      }
      // a cache the JVM cannot use (a JDK updated in place) is skipped without a word in the
      // function's log, and so is the AOT training's report as it assembles the cache
      command.add("-Xlog:cds=off");
      command.add("-Xlog:cds+dynamic=off");
      if (cds.get().aot()) {
        command.add("-Xlog:aot=off");
      }
    }
    command.addAll(
        List.of(
            "-cp",
            runtime.resolve("lib")
                + "/*:"
                + code
                + ":"
                + task.resolve("lib")
                + "/*:"
                + opt.resolve("java/lib")
                + "/*",
            RuntimeTable.JAVA_MAIN,
            version.config().handler()));
    return command;
  }

  /** The environment Lambda gives a function, then the function's own variables. */
  private Map<String, String> environment(
      FunctionVersion version, String runtimeApiAddress, String logStream, boolean provisioned) {
    FunctionConfig c = version.config();
    Map<String, String> env = new LinkedHashMap<>();
    Path opt = driver.layersInside(version.layers());
    env.put("PATH", "/usr/local/bin:/usr/bin:/bin:" + opt.resolve("bin"));
    env.put("LANG", "en_US.UTF-8");
    env.put("TZ", ":UTC");
    String taskRoot = driver.taskRootInside(version.taskRoot()).toString();
    Path runtimeDir = driver.runtimeDirInside(version.launch().runtimeDir());
    // Lambda's order: the system's libraries, the runtime's, the function's (its root and lib/),
    // then the layers'
    env.put(
        "LD_LIBRARY_PATH",
        String.join(
            ":",
            "/usr/local/lib:/usr/lib:/lib",
            runtimeDir.toString(),
            runtimeDir.resolve("lib").toString(),
            taskRoot,
            taskRoot + "/lib",
            opt.resolve("lib").toString()));
    env.put("HOME", taskRoot);
    env.put("_HANDLER", c.handler());
    env.put("LAMBDA_TASK_ROOT", taskRoot);
    env.put(
        "LAMBDA_RUNTIME_DIR", driver.runtimeDirInside(version.launch().runtimeDir()).toString());
    env.put("AWS_LAMBDA_RUNTIME_API", runtimeApiAddress);
    env.put("AWS_EXECUTION_ENV", "AWS_Lambda_" + c.runtime());
    env.put("AWS_LAMBDA_FUNCTION_NAME", c.functionName());
    env.put("AWS_LAMBDA_FUNCTION_VERSION", c.version());
    env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(c.memorySize()));
    env.put("AWS_LAMBDA_LOG_GROUP_NAME", c.logging().logGroup());
    env.put("AWS_LAMBDA_LOG_STREAM_NAME", logStream);
    env.put(
        "AWS_LAMBDA_INITIALIZATION_TYPE", provisioned ? "provisioned-concurrency" : "on-demand");
    env.put("AWS_REGION", account.region());
    env.put("AWS_DEFAULT_REGION", account.region());
    if (c.logging().logFormat().equals("JSON")) {
      env.put("AWS_LAMBDA_LOG_FORMAT", "JSON");
      env.put("AWS_LAMBDA_LOG_LEVEL", c.logging().applicationLogLevel().orElse("INFO"));
    }
    if (!opt.equals(Path.of("/opt"))) {
      // the layers are not at /opt (no mount namespace): tell Kiln's bootstraps where they are
      env.put("KILN_LAYERS_DIR", opt.toString());
    }
    layerSearchPaths(
        c.runtime(), taskRoot, opt, driver.runtimeDirInside(version.launch().runtimeDir()), env);
    env.putAll(c.environment());
    return env;
  }

  /**
   * The instance's own temporary key, and Kiln's API where its sandbox can reach it: the AWS SDK in
   * a function calls Kiln with no change to its code. Put after the function's own variables: the
   * key's names are reserved (as on Lambda), the endpoints are not, and a function that sets its
   * own keeps it.
   */
  private static void putCredentials(
      Map<String, String> env, InstanceCredentials.Issued issued, String runtimeApiAddress) {
    env.put("AWS_ACCESS_KEY_ID", issued.accessKeyId());
    env.put("AWS_SECRET_ACCESS_KEY", issued.secretAccessKey());
    env.put("AWS_SESSION_TOKEN", issued.sessionToken());
    // the services Kiln serves only: AWS_ENDPOINT_URL would send every other AWS client in the
    // function (S3, DynamoDB, ...) to Kiln too, which serves none of them
    env.putIfAbsent("AWS_ENDPOINT_URL_LAMBDA", "http://" + runtimeApiAddress);
    env.putIfAbsent("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://" + runtimeApiAddress);
    env.putIfAbsent("AWS_ENDPOINT_URL_IAM", "http://" + runtimeApiAddress);
    env.putIfAbsent("AWS_ENDPOINT_URL_STS", "http://" + runtimeApiAddress);
    // a function that puts events on a bus or makes schedules, as functions on AWS do
    env.putIfAbsent("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://" + runtimeApiAddress);
    env.putIfAbsent("AWS_ENDPOINT_URL_SCHEDULER", "http://" + runtimeApiAddress);
  }

  /**
   * Where each runtime looks for libraries in the function's layers, as AWS's runtimes set it up:
   * {@code nodejs/nodeNN/node_modules} and {@code nodejs/node_modules} on {@code NODE_PATH}, then
   * the runtime's own {@code node_modules} (the AWS SDK for JavaScript, {@code NodeSdk}), {@code
   * ruby/gems/X.Y.0} on {@code GEM_PATH} and {@code ruby/lib} on {@code RUBYLIB}. Python's {@code
   * python} and {@code python/lib/pythonX.Y/site-packages} are added by Kiln's bootstrap, Java's
   * {@code java/lib} is on the class path ({@link #javaCommand}).
   */
  private static void layerSearchPaths(
      String runtime, String taskRoot, Path opt, Path runtimeDir, Map<String, String> env) {
    if (runtime.startsWith("nodejs")) {
      String major = runtime.substring("nodejs".length(), runtime.indexOf('.'));
      env.put(
          "NODE_PATH",
          opt.resolve("nodejs/node" + major + "/node_modules")
              + ":"
              + opt.resolve("nodejs/node_modules")
              + ":"
              + runtimeDir.resolve("node_modules")
              + ":"
              + taskRoot
              + "/node_modules");
    }
    if (runtime.startsWith("ruby")) {
      String abi = runtime.substring("ruby".length()) + ".0";
      env.put("RUBYLIB", taskRoot + ":" + opt.resolve("ruby/lib"));
      env.put(
          "GEM_PATH",
          taskRoot + "/vendor/bundle/ruby/" + abi + ":" + opt.resolve("ruby/gems/" + abi));
      // RubyGems adds GEM_HOME to the path: the function's own, so that gems installed on the
      // host (gem install, /var/lib/gems) stay out of the function as they are out of Lambda's
      env.put("GEM_HOME", taskRoot + "/vendor/bundle/ruby/" + abi);
    }
  }
}
