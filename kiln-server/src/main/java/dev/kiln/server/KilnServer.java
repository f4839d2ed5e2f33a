package dev.kiln.server;

import dev.kiln.api.LambdaApi;
import dev.kiln.api.auth.AccessKeys;
import dev.kiln.api.auth.CodeLinks;
import dev.kiln.api.auth.SessionKeys;
import dev.kiln.api.auth.SigV4Verifier;
import dev.kiln.invoke.AsyncDispatcher;
import dev.kiln.invoke.AsyncInvocations;
import dev.kiln.invoke.BufferedLogWriter;
import dev.kiln.invoke.Catalog;
import dev.kiln.invoke.ConcurrencyBudget;
import dev.kiln.invoke.FunctionUrlAddress;
import dev.kiln.invoke.InvocationTracer;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.Invoker;
import dev.kiln.invoke.KilnMetrics;
import dev.kiln.invoke.ScaleGate;
import dev.kiln.invoke.UsageMeter;
import dev.kiln.runtimeapi.ClientTimeout;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.sandbox.LinuxSandboxDriver;
import dev.kiln.sandbox.ProcessSandboxDriver;
import dev.kiln.sandbox.SandboxDriver;
import dev.kiln.store.CodeStore;
import dev.kiln.store.EventQueue;
import dev.kiln.store.LogStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.Storage;
import dev.kiln.store.UsageStore;
import dev.kiln.time.Ticker;
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kiln node on the embedded defaults: SQLite metadata and a local code store under the data
 * directory, the Runtime API for instances, and the Lambda API for clients. This class only wires
 * the parts together and takes them down in the reverse order.
 */
public final class KilnServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KilnServer.class);

  /** How long a new instance may wait for host memory before its invocation is throttled. */
  private static final java.time.Duration CAPACITY_WAIT = java.time.Duration.ofSeconds(2);

  /** Threads that deliver asynchronous events; the functions' concurrency limits still apply. */
  private static final int ASYNC_WORKERS = 16;

  private final ServerSettings settings;

  /** Everything this server started, stopped in the reverse order by {@link #close}. */
  private final Components parts = new Components();

  private final Optional<ServerTls.Loaded> tls;
  private final AccessKeys accessKeys;
  private final RuntimeApiServer runtimeApi;
  private final SandboxDriver driver;
  private final RuntimeTable runtimes;
  private final Invoker invoker;
  private final WebServer web;
  private boolean closed;

  /**
   * Assembles the server: each part is started, in the order the later ones need them, and joins
   * {@link #parts} in the same line, so that it stops in the reverse order. If any part cannot
   * start, the ones already started stop again and the data directory is released.
   */
  private KilnServer(ServerSettings settings) throws IOException {
    this.settings = settings;
    Path data = settings.dataDir();
    Files.createDirectories(data);
    parts.add("the data directory's lock", DataDirectoryLock.take(data));
    try {
      // a certificate that cannot be used, or a port that is taken, is refused before anything
      // starts (instances' spare disks and networks, the Runtime API)
      this.tls = settings.tls().map(t -> ServerTls.load(t, data));
      requirePortFree(settings);
      // the server's clocks, which every component that tells time is given
      InstantSource clock = InstantSource.system();
      Ticker ticker = Ticker.system();
      java.time.Clock utc = java.time.Clock.systemUTC();
      // serving from the end of this constructor, with the Lambda API beside the Runtime API
      this.runtimeApi = parts.add("the Runtime API", RuntimeApiServer.create(clock, ticker));
      this.driver =
          parts.add(
              "the sandbox driver",
              sandboxDriver(
                  settings.sandbox(),
                  data.resolve("sandbox"),
                  runtimeApi.port(),
                  settings.outboundNetwork(),
                  settings.zygote()),
              SandboxDriver::close);
      Path instances = data.resolve("instances");
      // the stores the --store setting names (by default, SQLite files in the data directory)
      Storage storage = parts.add("the stores", Storage.open(settings.store(), data, clock));
      MetadataStore store = storage.metadata();
      CodeStore code = storage.code();
      LogStore logStore = storage.logs();
      UsageStore usageStore = storage.usage();
      EventQueue events = storage.events();
      // roles and policies, which decide what keys and functions' sessions may do
      dev.kiln.api.auth.IdentityPolicies identities =
          new dev.kiln.api.auth.IdentityPolicies(storage.iam(), settings.account(), settings.iam());
      // what instances of a Kiln that was killed printed, and its log store never got, goes into
      // their log streams before their files go
      driver.reapLeftovers(instances, dir -> BufferedLogWriter.ingestLeftover(dir, logStore));
      logStore.forgetAllOutput();
      Files.createDirectories(instances);
      this.runtimes = RuntimeTable.install(data.resolve("runtimes"), settings.interpreters());
      var prometheus =
          new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
              io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
      KilnMetrics metrics = new KilnMetrics(prometheus);
      BuildInfo build = BuildInfo.current();
      parts.add("the JVM's meters", bindProcessMetrics(prometheus, build));
      UsageMeter usageMeter =
          parts.add("the usage meter", UsageMeter.builder(usageStore).clock(clock).build());
      InvocationTracer tracer =
          parts.add(
              "the tracer",
              settings
                  .otlpEndpoint()
                  .map(endpoint -> InvocationTracer.otlp(endpoint, clock))
                  .orElse(InvocationTracer.NONE));
      ScaleGate gate =
          new ScaleGate(
              settings.scaleOutRate(),
              settings.instanceMemoryMb(),
              CAPACITY_WAIT,
              ScaleGate.defaultStartsAtOnce(),
              clock,
              ticker);
      BufferedLogWriter logWriter =
          parts.add(
              "the log writer",
              BufferedLogWriter.builder(logStore, settings.logRetention(), settings.logMaxBytes())
                  .clock(clock)
                  .build());
      SessionKeys sessions =
          new SessionKeys(utc, settings.instanceCredentialsLifetime(), identities::roleId);
      // stopped by the drain below, the first step on the way down
      this.invoker =
          Invoker.builder(driver, runtimeApi, instances)
              .account(settings.account())
              .clock(clock)
              .ticker(ticker)
              .keepAlive(settings.keepAlive())
              .budget(
                  new ConcurrencyBudget(settings.concurrencyLimit(), store.reservedConcurrency()))
              .gate(gate)
              .logs(logWriter)
              .metrics(metrics)
              .usage(usageMeter)
              .tracer(tracer)
              .credentials(sessions)
              .build();
      invoker.watchInstances();
      metrics.gauge(
          "kiln.instance.memory.reserved.bytes",
          "Host memory held by instances: their MemorySize summed",
          gate,
          g -> g.reservedMb() * 1024.0 * 1024.0);
      if (driver instanceof dev.kiln.sandbox.LinuxSandboxDriver linux) {
        metrics.gauge(
            "kiln.zygotes",
            "Python zygotes running (pre-initialised interpreters instances are forked from)",
            linux,
            LinuxSandboxDriver::zygotesRunning);
        metrics.gauge(
            "kiln.zygote.spares",
            "Python instances forked from a zygote ahead of need, waiting for a spec",
            linux,
            LinuxSandboxDriver::zygoteSpares);
        io.micrometer.core.instrument.Gauge.builder(
                "kiln.sandbox.spares", linux, LinuxSandboxDriver::spareNetworks)
            .description("Sandbox parts made ahead of need, ready for the next instances' starts")
            .tag("part", "network")
            .register(metrics.registry());
        io.micrometer.core.instrument.Gauge.builder(
                "kiln.sandbox.spares", linux, LinuxSandboxDriver::spareTmpDisks)
            .description("Sandbox parts made ahead of need, ready for the next instances' starts")
            .tag("part", "tmp_disk")
            .register(metrics.registry());
        io.micrometer.core.instrument.FunctionCounter.builder(
                "kiln.zygote.restarts", linux, LinuxSandboxDriver::zygoteRestarts)
            .description("Python zygotes that died and were replaced")
            .register(metrics.registry());
      }
      // the URL a client can call: the real scheme and port (known once the listener is up)
      FunctionUrlAddress urlAddress =
          settings
              .functionUrlDomain()
              .map(d -> FunctionUrlAddress.domain(settings.account().region(), d))
              .orElseGet(
                  () ->
                      FunctionUrlAddress.localhost(
                          tls.isPresent() ? "https" : "http",
                          settings.account().region(),
                          this::port));
      Catalog catalog =
          Catalog.of(store, code, runtimes, invoker, settings.account(), clock, urlAddress);
      Invocations invocations = Invocations.of(catalog.functions(), invoker);
      AsyncDispatcher dispatcher =
          parts.add(
              "the async dispatcher",
              AsyncDispatcher.builder(
                      events, catalog.eventInvokeConfigs(), settings.account(), invocations)
                  .clock(clock)
                  .retryBase(settings.asyncRetryDelay())
                  .workers(ASYNC_WORKERS)
                  .metrics(metrics)
                  .build());
      dispatcher.watchQueue();
      AsyncInvocations async = new AsyncInvocations(events, dispatcher, clock);
      catalog.functions().declareAll();
      // event source mappings: pollers that read queues, streams and tables into functions
      dev.kiln.esm.EventSourceKinds kinds = dev.kiln.esm.EventSourceKinds.builtIn();
      java.util.concurrent.ExecutorService pollerThreads =
          parts.add(
              "the event source pollers' threads",
              java.util.concurrent.Executors.newThreadPerTaskExecutor(
                  Thread.ofVirtual().name("esm-", 0).factory()),
              java.util.concurrent.ExecutorService::shutdownNow);
      dev.kiln.esm.MappingPollers pollers =
          dev.kiln.esm.MappingPollers.builder()
              .store(store)
              .kinds(kinds)
              .invocations(invocations)
              .onFailure(
                  (mapping, arn, record) ->
                      async.accept(
                          dev.kiln.model.FunctionRef.parse(arn, "destination", settings.account()),
                          record.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                          Optional.empty()))
              .registry(metrics.registry())
              .clock(clock)
              .executor(pollerThreads)
              .context(
                  new ServerSourceContext(clock, settings.account().region(), settings.triggers()))
              .filters(patterns -> dev.kiln.esm.filter.RecordFilter.compile(patterns)::matches)
              .account(settings.account())
              .build();
      dev.kiln.esm.EventSourceMappings mappings =
          new dev.kiln.esm.EventSourceMappings(
              store,
              catalog.functions(),
              kinds,
              pollers,
              settings.account(),
              clock,
              (role, action, resource) -> roleAllows(identities, role, action, resource));
      this.accessKeys = AccessKeys.openOrCreate(data);
      LambdaApi api =
          new LambdaApi(
              catalog,
              invocations,
              invoker.budget(),
              async,
              logStore,
              usageStore,
              settings.authentication()
                  ? Optional.of(new SigV4Verifier(accessKeys, sessions, settings.account(), utc))
                  : Optional.empty(),
              new CodeLinks(utc),
              identities,
              new dev.kiln.api.iam.IamApi(storage.iam(), settings.account(), clock),
              Optional.of(mappings),
              clock);
      // the router's meters, shared by rules, schedules and push sources
      dev.kiln.events.RouterMetrics routerMetrics =
          new dev.kiln.events.RouterMetrics(metrics.registry());
      // EventBridge: buses, rules and targets; matched events go through the async queue
      dev.kiln.events.bus.FunctionTargets ruleTargets =
          dev.kiln.events.bus.FunctionTargets.of(catalog);
      dev.kiln.events.bus.EventRouter eventRouter =
          new dev.kiln.events.bus.EventRouter(
              storage.buses(),
              settings.account(),
              ruleTargets,
              dev.kiln.events.bus.TargetQueue.of(async),
              routerMetrics,
              clock);
      // the push sources: Alertmanager's alarms and object stores' notifications, which also put
      // their events on the default bus
      Optional<dev.kiln.events.EventPublisher> bus = Optional.of(eventRouter);
      dev.kiln.events.s3.BucketNotifications buckets =
          new dev.kiln.events.s3.BucketNotifications(
              storage.bucketNotifications(), catalog, settings.account());
      // EventBridge Scheduler: one firing engine, its due times into the async queue exactly once
      dev.kiln.time.Scheduler firing =
          parts.add("the schedules' firing engine", dev.kiln.time.Scheduler.onThread("schedules"));
      dev.kiln.events.schedule.ScheduleRunner scheduleRunner =
          new dev.kiln.events.schedule.ScheduleRunner(
              List.of(
                  new dev.kiln.events.schedule.ScheduleTimers(
                      storage.schedules(),
                      new dev.kiln.events.schedule.LambdaTarget(
                          dev.kiln.events.schedule.LambdaTarget.Enqueue.through(async),
                          ref -> {
                            try {
                              catalog.functions().get(ref);
                              return true;
                            } catch (dev.kiln.model.LambdaError gone) {
                              return false;
                            }
                          },
                          (role, action, resource) ->
                              roleAllows(identities, role, action, resource),
                          settings.account(),
                          routerMetrics,
                          firing,
                          clock)),
                  // EventBridge's scheduled rules, fired by the same engine
                  new dev.kiln.events.bus.ScheduledRuleTimers(eventRouter, clock)),
              firing,
              clock,
              dev.kiln.events.schedule.ScheduleRunner.SERVER_TICK);
      api.withServices(
          List.of(
              new dev.kiln.api.scheduler.SchedulerApi(
                  new dev.kiln.events.schedule.Schedules(
                      storage.schedules(), settings.account(), clock, scheduleRunner::changed)),
              new dev.kiln.api.events.EventsApi(
                  new dev.kiln.events.bus.EventBuses(
                      storage.buses(),
                      eventRouter,
                      settings.account(),
                      ruleTargets,
                      dev.kiln.events.bus.ScheduleExpressionValidator.EVENTBRIDGE,
                      clock)),
              new dev.kiln.api.push.PushApi(
                  new dev.kiln.events.alarms.Alarms(
                      catalog, async, bus, routerMetrics, settings.account(), clock),
                  new dev.kiln.events.s3.ObjectNotifications(
                      buckets, async, bus, routerMetrics, settings.account(), clock),
                  buckets,
                  settings.authentication()
                      ? Optional.of(new dev.kiln.api.push.WebhookTokens(accessKeys::find))
                      : Optional.empty())));
      Map<String, Runnable> stores = new java.util.LinkedHashMap<>();
      stores.put("metadata", store::check);
      stores.put("events", events::check);
      stores.put("logs", logStore::check);
      stores.put("usage", usageStore::check);
      stores.put("iam", storage.iam()::check);
      HealthCheck health = new HealthCheck(build.version(), stores);
      // The Runtime API listens before anything can start an instance (an invocation through the
      // Lambda API, a queued event, provisioned concurrency): its port was only reserved until
      // now, and a runtime that connected meanwhile would be reset (AWS's Java runtime client then
      // exits, "Failed to get next invocation. No Response from endpoint")
      runtimeApi.serve(api::routes, settings.clientTimeout());
      this.web =
          parts.add(
              "the API listener",
              listen(settings, tls, ticker, health, metrics, prometheus, api),
              WebServer::stop);
      // on the way down, before the listener stops: load balancers see 503 at once, and running
      // invocations get their grace period and can still answer; then every instance is killed
      parts.onClose(
          "the drain of running invocations",
          () -> {
            health.stopping();
            invoker.shutdown(settings.shutdownGrace());
          });
      dispatcher.start();
      // stopped before the drain, so that no poller starts a batch on an instance being killed
      parts.add("the event source pollers", pollers.start());
      catalog.concurrency().restoreProvisioning();
      // client commands on this data directory find this server where it really listens
      new EndpointRecord(endpoint(), settings.account().region()).write(data);
    } catch (IOException | RuntimeException e) {
      parts.close();
      throw e;
    }
  }

  /** The Lambda and Logs APIs, health and metrics, on the address and port the settings say. */
  private static WebServer listen(
      ServerSettings settings,
      Optional<ServerTls.Loaded> tls,
      Ticker ticker,
      HealthCheck health,
      KilnMetrics metrics,
      io.micrometer.prometheusmetrics.PrometheusMeterRegistry prometheus,
      LambdaApi api) {
    var webBuilder = WebServer.builder();
    // a client that stalls mid-request is cut off (Helidon's server has no read timeout)
    ClientTimeout.apply(webBuilder, settings.clientTimeout(), ticker);
    tls.ifPresent(t -> webBuilder.tls(b -> b.privateKey(t.key()).privateKeyCertChain(t.chain())));
    WebServer web =
        webBuilder
            .host(settings.bind())
            .port(settings.port())
            // Kiln stops its servers itself, after running invocations had their grace period
            .shutdownHook(false)
            .directHandlers(dev.kiln.api.AwsErrors.transportErrors())
            .routing(
                r -> {
                  // a function URL's paths are its function's, /health's included
                  api.urlRoutes(r);
                  // for load balancers and service managers, unsigned (see HealthCheck)
                  r.get("/health", health).get("/ping", health);
                  // Prometheus's scrape, beside the AWS APIs
                  r.get(
                      "/metrics",
                      (req, res) -> {
                        metrics.refresh();
                        res.header(
                                io.helidon.http.HeaderNames.CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8")
                            .send(prometheus.scrape());
                      });
                  api.routes(r);
                })
            .build()
            .start();
    if (!web.isRunning()) {
      // taken between the check and now: Helidon has logged why
      web.stop();
      throw new IllegalStateException(cannotServe(settings, "the listener did not start"));
    }
    return web;
  }

  /**
   * The JVM's and the process's own meters (memory, garbage collection, threads, CPU, uptime, open
   * files, classes) and {@code kiln_build_info{version}}, always 1, which says what runs. Returns
   * the garbage-collection meters, which listen to the JVM until closed.
   */
  private static io.micrometer.core.instrument.binder.jvm.JvmGcMetrics bindProcessMetrics(
      io.micrometer.core.instrument.MeterRegistry registry, BuildInfo build) {
    new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.system.UptimeMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.system.FileDescriptorMetrics().bindTo(registry);
    var gc = new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics();
    gc.bindTo(registry);
    io.micrometer.core.instrument.Gauge.builder("kiln.build.info", () -> 1)
        .description("Always 1; its labels say which Kiln, on which Java, is running")
        .tag("version", build.version())
        .tag("java_version", Runtime.version().toString())
        .strongReference(true)
        .register(registry);
    return gc;
  }

  /**
   * Refuses a port another program listens on (or an address this host does not have) with a
   * message that says so; Helidon would log a stack trace and serve nothing.
   */
  private static void requirePortFree(ServerSettings settings) {
    if (settings.port() == 0) {
      return;
    }
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.setReuseAddress(true); // as Helidon binds: a port in TIME_WAIT is free
      probe.bind(new java.net.InetSocketAddress(settings.bind(), settings.port()));
    } catch (IOException e) {
      throw new IllegalStateException(cannotServe(settings, e.getMessage()));
    }
  }

  private static String cannotServe(ServerSettings settings, String why) {
    return "cannot serve on "
        + settings.bind()
        + ":"
        + settings.port()
        + ": "
        + why
        + " (another server may be using the port: choose another with --port, or an address"
        + " with --bind)";
  }

  /** The driver the settings ask for; {@code auto} falls back to plain processes, loudly. */
  private static SandboxDriver sandboxDriver(
      ServerSettings.SandboxChoice choice,
      Path state,
      int runtimeApiPort,
      boolean outbound,
      boolean zygote)
      throws IOException {
    if (choice == ServerSettings.SandboxChoice.PROCESS) {
      return new ProcessSandboxDriver();
    }
    try {
      return LinuxSandboxDriver.open(state, runtimeApiPort, outbound, zygote);
    } catch (IOException e) {
      if (choice == ServerSettings.SandboxChoice.LINUX) {
        throw new IOException("--sandbox=linux is not possible here: " + e.getMessage(), e);
      }
      LOG.warn("instances run as plain processes, WITHOUT isolation or limits: {}", e.getMessage());
      return new ProcessSandboxDriver();
    }
  }

  static {
    // Helidon logs through java.util.logging; send it where Kiln's own logs go
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
  }

  /** Starts a server; it serves until {@link #close}. */
  public static KilnServer start(ServerSettings settings) {
    try {
      return new KilnServer(settings);
    } catch (IOException e) {
      throw new UncheckedIOException("Kiln could not start: " + e.getMessage(), e);
    }
  }

  public URI endpoint() {
    String host = settings.bind().equals("0.0.0.0") ? "127.0.0.1" : settings.bind();
    return URI.create((tls.isPresent() ? "https://" : "http://") + host + ":" + web.port());
  }

  public int port() {
    return web.port();
  }

  /** The port of the Runtime API, where instances (and their calls to the Lambda API) arrive. */
  public int runtimeApiPort() {
    return runtimeApi.port();
  }

  /** For tests: the Runtime API, whose streamed-response limits a test may lower. */
  RuntimeApiServer runtimeApi() {
    return runtimeApi;
  }

  /** For tests: the invoker, to drive reaping and count instances. */
  public Invoker invoker() {
    return invoker;
  }

  public ServerSettings settings() {
    return settings;
  }

  /** The access keys that may call this server. */
  public AccessKeys accessKeys() {
    return accessKeys;
  }

  /** What the start-up banner says, line by line. */
  public List<String> banner() {
    List<String> lines = new ArrayList<>();
    String url = endpoint().toString();
    lines.add("Kiln is serving the AWS Lambda API at " + url);
    lines.add("  data directory: " + settings.dataDir().toAbsolutePath());
    lines.add(
        "  account "
            + settings.account().accountId()
            + " in region "
            + settings.account().region()
            + "; idle instances kept warm for "
            + settings.keepAlive().toSeconds()
            + " s");
    lines.add(
        "  concurrency limit "
            + settings.concurrencyLimit()
            + "; each function may start "
            + settings.scaleOutRate()
            + " instances per 10 s; instances may hold "
            + settings.instanceMemoryMb()
            + " MB of memory together");
    lines.add("  " + driver.describe());
    lines.add("  " + dev.kiln.runtimes.Architectures.describe());
    for (Map.Entry<String, String> r : runtimes.describe().entrySet()) {
      lines.add(
          "  runtime "
              + r.getKey()
              + ": "
              + r.getValue()
              + runtimes
                  .interpreterFor(r.getKey())
                  .flatMap(i -> InterpreterVersions.describe(r.getKey(), i))
                  .map(v -> " (" + v + ")")
                  .orElse(""));
    }
    lines.add("");
    if (!settings.authentication()) {
      lines.add(
          "WARNING: --insecure-no-auth is on: every request is accepted, signed or not, from"
              + " anyone who can reach "
              + url);
      lines.add("");
    }
    tls.ifPresent(
        t ->
            lines.add(
                "  HTTPS with the certificate "
                    + t.caBundle()
                    + " (clients trust it with AWS_CA_BUNDLE, which kiln credentials exports)"));
    lines.add(
        "Use it with the AWS CLI (requests are signed with this Kiln's admin key, kept in "
            + accessKeys.file()
            + "):");
    boolean defaultDir =
        settings.dataDir().toAbsolutePath().equals(KilnCli.DEFAULT_DATA_DIR.toAbsolutePath());
    lines.add(
        "  eval \"$(./kiln credentials"
            + (defaultDir ? "" : " --data-dir " + settings.dataDir())
            + ")\"   # exports the key, the region, and this endpoint for the services Kiln serves only");
    // --endpoint-url works with every AWS CLI; AWS_ENDPOINT_URL_LAMBDA only with 2.13+ and 1.29+
    lines.add("  aws --endpoint-url " + url + " lambda list-functions");
    return lines;
  }

  /**
   * Stops in order, the reverse of the start: running invocations get the shutdown grace to finish,
   * then every instance is killed, then the listener, the dispatcher, the writers, the stores and
   * the Runtime API stop, and the data directory is released.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    parts.close();
  }

  /**
   * Whether an execution role allows {@code action} on {@code resource}, as IAM decides it from the
   * role's policies; a role Kiln's IAM does not know allows it ({@code --iam compat}). What Kiln
   * checks where AWS checks a service's role: an SQS mapping's role reading its queue, a schedule's
   * role invoking its function.
   */
  private boolean roleAllows(
      dev.kiln.api.auth.IdentityPolicies identities, String role, String action, String resource) {
    return identities
        .role(role)
        .map(
            policies ->
                dev.kiln.iam.PolicyEvaluator.evaluate(
                            new dev.kiln.iam.AccessRequest(
                                new dev.kiln.iam.Principal(
                                    "AWS", role, settings.account().accountId()),
                                action,
                                resource,
                                Map.of()),
                            policies,
                            List.of())
                        .decision()
                    == dev.kiln.iam.Decision.ALLOW)
        .orElse(true);
  }
}
