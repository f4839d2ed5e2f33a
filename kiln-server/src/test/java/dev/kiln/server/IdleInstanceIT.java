package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyStatusEnum;

/**
 * A warm instance stays warm however long it idles within the keep-alive: past the 30 s after which
 * an idle virtual thread's carrier retires and the 60 s after which a cached pool's thread does
 * (threads an instance may have been started from), frozen or not, on demand or provisioned.
 *
 * <p>The instances idle together, once, for {@link #IDLE}: the JDK's keep-alives cannot be
 * shortened from outside, so this test takes over a minute.
 */
class IdleInstanceIT {

  /**
   * Past every keep-alive of the JDK's pools (virtual threads' carriers 30 s, cached pools 60 s).
   */
  static final Duration IDLE = Duration.ofSeconds(70);

  static final String CODE = "def handler(event, context):\n    return context.log_stream_name\n";

  static KilnFixture linux;
  static KilnFixture process;
  static String frozen;
  static String thawed;
  static String provisioned;
  static String plain;
  static boolean freezer;
  static double frozenGauge;
  static double processFrozenGauge;

  @BeforeAll
  static void idleThemAll() throws Exception {
    linux = new KilnFixture(Duration.ofMinutes(5), ServerSettings.SandboxChoice.LINUX);
    process = new KilnFixture(Duration.ofMinutes(5), ServerSettings.SandboxChoice.PROCESS);
    linux.python("frozen", CODE);
    linux.python("thawed", CODE);
    linux.python("provisioned", CODE);
    process.python("plain", CODE);

    // provisioned instances are started in the background, off any request's thread
    linux.lambda.publishVersion(b -> b.functionName("provisioned"));
    linux.lambda.createAlias(b -> b.functionName("provisioned").name("live").functionVersion("1"));
    linux.lambda.putProvisionedConcurrencyConfig(
        b -> b.functionName("provisioned").qualifier("live").provisionedConcurrentExecutions(1));
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                linux
                        .lambda
                        .getProvisionedConcurrencyConfig(
                            b -> b.functionName("provisioned").qualifier("live"))
                        .status()
                    == ProvisionedConcurrencyStatusEnum.READY);

    frozen = call(linux.lambda, "frozen", null);
    thawed = call(linux.lambda, "thawed", null);
    provisioned = call(linux.lambda, "provisioned", "live");
    plain = call(process.lambda, "plain", null);

    // idle instances are frozen after a second; one of them is thawed again from outside, so
    // that it idles as it does on a host without a freezer
    Optional<Path> frozenState = freezerState(frozen);
    Optional<Path> thawedState = freezerState(thawed);
    freezer = frozenState.isPresent() && thawedState.isPresent();
    if (freezer) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> isFrozen(frozenState.get()) && isFrozen(thawedState.get()));
      // as /metrics counts them, while Kiln holds both for frozen
      frozenGauge =
          Awaitility.await()
              .atMost(Duration.ofSeconds(15))
              .until(
                  () -> MetricsIT.value(MetricsIT.scrape(linux), "kiln_instances_frozen"),
                  v -> v >= 2);
      thaw(thawedState.get());
    }
    processFrozenGauge = MetricsIT.value(MetricsIT.scrape(process), "kiln_instances_frozen");
    Thread.sleep(IDLE.toMillis());
  }

  @AfterAll
  static void stop() {
    if (linux != null) {
      linux.close();
    }
    if (process != null) {
      process.close();
    }
  }

  @Test
  void aFrozenInstance_servesItsNextCall() {
    assumeTrue(freezer, "no cgroup freezer on this host");
    assertThat(call(linux.lambda, "frozen", null)).as("the same instance, warm").isEqualTo(frozen);
  }

  @Test
  void frozenInstances_areCountedInMetrics() {
    assumeTrue(freezer, "no cgroup freezer on this host");
    assertThat(frozenGauge)
        .as("kiln_instances_frozen with two idle on-demand instances frozen")
        .isGreaterThanOrEqualTo(2);
    assertThat(processFrozenGauge)
        .as("kiln_instances_frozen of a process-sandbox server, which cannot freeze")
        .isZero();
  }

  @Test
  void anInstanceThatIsNotFrozen_servesItsNextCall() {
    assumeTrue(freezer, "no cgroup freezer on this host");
    assertThat(call(linux.lambda, "thawed", null)).as("the same instance, warm").isEqualTo(thawed);
  }

  @Test
  void aProvisionedInstance_servesItsNextCall() {
    assertThat(call(linux.lambda, "provisioned", "live"))
        .as("the same instance, warm")
        .isEqualTo(provisioned);
  }

  @Test
  void anInstanceOfTheProcessSandbox_servesItsNextCall() {
    assertThat(call(process.lambda, "plain", null)).as("the same instance, warm").isEqualTo(plain);
  }

  /** Invokes {@code function}, expecting success: the log stream of the instance that served it. */
  static String call(LambdaClient lambda, String function, String qualifier) {
    InvokeResponse r = lambda.invoke(b -> b.functionName(function).qualifier(qualifier));
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    return r.payload().asUtf8String();
  }

  /**
   * The freezer file of the instance whose log stream is {@code stream}: {@code freezer.state}
   * (cgroup v1) or {@code cgroup.freeze} (v2) in the cgroup named by its id.
   */
  static Optional<Path> freezerState(String stream) throws Exception {
    String id = stream.substring(stream.lastIndexOf(']') + 1).replace("\"", "");
    try (Stream<Path> dirs =
        Files.find(
            Path.of("/sys/fs/cgroup"),
            12,
            (p, a) -> a.isDirectory() && p.getFileName().toString().equals(id))) {
      return dirs.flatMap(d -> Stream.of(d.resolve("freezer.state"), d.resolve("cgroup.freeze")))
          .filter(Files::exists)
          .findFirst();
    }
  }

  static boolean isFrozen(Path state) throws Exception {
    String s = Files.readString(state).trim();
    return s.equals("FROZEN") || s.equals("1");
  }

  static void thaw(Path state) throws Exception {
    Files.writeString(state, state.endsWith("cgroup.freeze") ? "0" : "THAWED");
  }
}
