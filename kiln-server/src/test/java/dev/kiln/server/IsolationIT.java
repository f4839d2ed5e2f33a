package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Attack functions, written in Python, against a real server on the Linux sandbox: each tries to
 * break out of its instance or past its limits, and the test checks it was refused or held, and
 * that the next invocation is unharmed.
 *
 * <p>One instance of the class runs all its tests ({@code PER_CLASS}), so that the server is
 * started by an instance method {@link IsolationZygoteIT} overrides: a static {@code @BeforeAll} of
 * the same name in the subclass does not hide this class's from JUnit, which ran both and left the
 * first server, never closed, holding its spare namespace and disk on the host.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IsolationIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static KilnFixture kiln;
  static byte[] attackZip;

  @BeforeAll
  void start() throws Exception {
    startOn(zygote());
  }

  /** Bubblewrap here; {@link IsolationZygoteIT} runs the same attacks on forked instances. */
  boolean zygote() {
    return false;
  }

  /**
   * Starts the server with Python instances forked from zygotes or started by bubblewrap: the
   * attacks run on both start paths ({@link IsolationZygoteIT} is this class with zygotes on).
   */
  static void startOn(boolean zygote) throws Exception {
    boolean root = ProcessHandle.current().info().user().map("root"::equals).orElse(false);
    boolean bwrap = Tools.find("bwrap").isPresent();
    if (!root || !bwrap) {
      if (Boolean.getBoolean("kiln.requireTools")) {
        throw new AssertionError("CI runs as root with bubblewrap installed; here root=" + root);
      }
      Assumptions.abort("the Linux sandbox's full isolation needs root and bubblewrap");
    }
    kiln = new KilnFixture(Duration.ofMinutes(5), ServerSettings.SandboxChoice.LINUX, zygote);
    byte[] attack;
    try (var in = IsolationIT.class.getResourceAsStream("/attacks/attack.py")) {
      attack = in.readAllBytes();
    }
    byte[] zip = Zips.of("attack.py", new String(attack, StandardCharsets.UTF_8));
    attackZip = zip;
    create("attacker", 128, 30, zip);
    create("bystander", 128, 3, zip);
    create("big", 1769, 30, zip);
  }

  static void create(String name, int memory, int timeout, byte[] zip) {
    kiln.lambda.createFunction(
        b ->
            b.functionName(name)
                .runtime(Runtime.PYTHON3_12)
                .handler("attack.handler")
                .role(KilnFixture.ROLE)
                .memorySize(memory)
                .ephemeralStorage(e -> e.size(512))
                .timeout(timeout)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  @AfterAll
  void stop() {
    if (kiln != null) {
      kiln.close();
    }
  }

  static InvokeResponse invoke(String function, Map<String, Object> event) throws Exception {
    String payload = JSON.writeValueAsString(event);
    return kiln.lambda.invoke(
        b ->
            b.functionName(function)
                .logType(LogType.TAIL)
                .payload(SdkBytes.fromUtf8String(payload)));
  }

  static JsonNode call(String function, Map<String, Object> event) throws Exception {
    InvokeResponse r = invoke(function, event);
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    return JSON.readTree(r.payload().asUtf8String());
  }

  static String tail(InvokeResponse r) {
    return new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
  }

  static void assertHealthy(String function) throws Exception {
    assertThat(call(function, Map.of("action", "files")).get("uid").asInt()).isEqualTo(993);
  }

  @Test
  void theFilesystem_isReadOnly_andShowsNothingOfTheHostOrOtherInstances() throws Exception {
    Path code = kiln.dataDir.resolve("code");
    call("bystander", Map.of("action", "files", "tmp_name", "bystanders-secret"));
    JsonNode r =
        call(
            "attacker",
            Map.of(
                "action",
                "files",
                "paths",
                List.of(
                    kiln.dataDir.toString(),
                    code.toString(),
                    kiln.dataDir.resolve("instances").toString(),
                    "/root",
                    "/home",
                    "/var/lib")));
    assertThat(r.get("uid").asInt()).as("Lambda's sbx_user1051").isEqualTo(993);
    assertThat(r.get("task_root").asText()).isEqualTo("/var/task");
    assertThat(r.get("cwd").asText()).isEqualTo("/var/task");
    for (String write : List.of("write_task", "write_root", "write_etc", "write_usr")) {
      assertThat(r.get(write).get("allowed").asBoolean()).as(write).isFalse();
      assertThat(r.get(write).get("errno").asText()).as(write).isIn("EROFS", "EACCES", "ENOENT");
    }
    assertThat(r.get("read_shadow").get("allowed").asBoolean()).isFalse();
    r.get("paths_visible")
        .properties()
        .forEach(e -> assertThat(e.getValue().asBoolean()).as(e.getKey()).isFalse());
    assertThat(r.get("write_tmp").get("allowed").asBoolean()).isTrue();
    assertThat(r.get("tmp_listing").toString())
        .as("an instance's /tmp is its own, and empty to begin with")
        .isEqualTo("[\"mine\"]");
  }

  @Test
  void processes_seeOnlyTheirOwnInstance_andCannotSignalTheHost() throws Exception {
    JsonNode r =
        call("attacker", Map.of("action", "processes", "host_pid", ProcessHandle.current().pid()));
    assertThat(r.get("pids").size())
        .as("bubblewrap's init and the runtime, nothing of the host")
        .isLessThanOrEqualTo(3);
    assertThat(r.get("kill_init").get("allowed").asBoolean()).isFalse();
    assertThat(r.get("signal_host").get("allowed").asBoolean()).isFalse();
    assertThat(ProcessHandle.current().isAlive()).isTrue();
  }

  @Test
  void theNetwork_reachesItsOwnRuntimeApiOnly() throws Exception {
    String bystanderApi =
        call(
                "bystander",
                Map.of("action", "network", "host_port", 1, "other_runtime_api", "127.0.0.1:1"))
            .get("runtime_api")
            .asText();
    JsonNode r =
        call(
            "attacker",
            Map.of(
                "action",
                "network",
                "host_port",
                kiln.server.port(),
                "other_runtime_api",
                bystanderApi));
    assertThat(r.get("runtime_api").asText()).isNotEqualTo(bystanderApi);
    assertThat(r.get("host_loopback").get("allowed").asBoolean())
        .as("Kiln's own API on the host's 127.0.0.1")
        .isFalse();
    assertThat(r.get("other_runtime_api").get("allowed").asBoolean())
        .as("another instance's Runtime API")
        .isFalse();
    assertThat(r.get("default_route").asBoolean()).as("outbound access is on by default").isTrue();
    assertHealthy("bystander");
  }

  @Test
  void aFunctionTaggedOffline_hasNoRouteBeyondTheHost_untilTheTagGoes() throws Exception {
    create("hermit", 128, 3, attackZip);
    String arn =
        kiln.lambda.getFunction(b -> b.functionName("hermit")).configuration().functionArn();
    Map<String, Object> probe =
        Map.of("action", "network", "host_port", 1, "other_runtime_api", "127.0.0.1:1");
    assertThat(call("hermit", probe).get("default_route").asBoolean()).isTrue();
    kiln.lambda.tagResource(b -> b.resource(arn).tags(Map.of("kiln:outbound-network", "off")));
    JsonNode offline = call("hermit", probe);
    assertThat(offline.get("default_route").asBoolean())
        .as("a new instance, without the route")
        .isFalse();
    kiln.lambda.untagResource(b -> b.resource(arn).tagKeys("kiln:outbound-network"));
    assertThat(call("hermit", probe).get("default_route").asBoolean()).isTrue();
  }

  @Test
  void anIdleInstance_isFrozen_andThawedForItsNextEvent() throws Exception {
    create("sleepy", 128, 3, attackZip);
    String stream = call("sleepy", Map.of("action", "instance")).asText();
    Path state =
        kilnGroups("freezer")
            .resolve(stream.substring(stream.lastIndexOf(']') + 1))
            .resolve("freezer.state");
    Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> Files.readString(state).trim().equals("FROZEN"));
    assertThat(call("sleepy", Map.of("action", "instance")).asText())
        .as("the same instance, thawed")
        .isEqualTo(stream);
    assertThat(Files.readString(state).trim()).isEqualTo("THAWED");
  }

  @Test
  void aForkBomb_stopsAtTheProcessLimit() throws Exception {
    JsonNode r = call("big", Map.of("action", "fork"));
    assertThat(r.get("errno").asText()).isEqualTo("EAGAIN");
    assertThat(r.get("children").asInt()).isBetween(900, 1023);
    assertHealthy("big");
  }

  @Test
  void aMemoryHog_isKilledAtMemorySize_asLambdaReportsIt() throws Exception {
    InvokeResponse r = invoke("attacker", Map.of("action", "hog"));
    assertThat(r.functionError()).isEqualTo("Unhandled");
    JsonNode error = JSON.readTree(r.payload().asUtf8String());
    assertThat(error.get("errorType").asText()).isEqualTo("Runtime.OutOfMemory");
    assertThat(error.get("errorMessage").asText())
        .endsWith("Error: Runtime exited with error: signal: killed");
    assertThat(tail(r)).contains("Memory Size: 128 MB\tMax Memory Used: 128 MB");
    assertHealthy("attacker");
  }

  @Test
  void tmp_holdsEphemeralStorageAndNoMore() throws Exception {
    JsonNode r = call("big", Map.of("action", "fill"));
    assertThat(r.get("errno").asText()).isEqualTo("ENOSPC");
    assertThat(r.get("written_mb").asInt()).isBetween(500, 530);
    assertHealthy("big");
  }

  @Test
  void theCpuQuota_isInProportionToMemory() throws Exception {
    // the quota is what the kernel enforces; the speed it gives is measured by the benchmark
    call("attacker", Map.of("action", "files"));
    call("big", Map.of("action", "files"));
    Map<Integer, Long> quotas = new java.util.TreeMap<>();
    for (Path group : cpuGroups()) {
      if (Files.readString(group.resolve("cgroup.procs")).isBlank()) {
        continue; // an instance being killed, its quota lifted so that it dies quickly
      }
      long quota = Long.parseLong(Files.readString(group.resolve("cpu.cfs_quota_us")).trim());
      long limit =
          Long.parseLong(
              Files.readString(memoryGroupOf(group).resolve("memory.limit_in_bytes")).trim());
      quotas.put((int) (limit >> 20), quota);
    }
    assertThat(quotas).containsEntry(128, 7236L).containsEntry(1769, 100000L);
  }

  @Test
  void processesLeftByAnInstance_dieWithIt() throws Exception {
    String marker = "4" + (System.nanoTime() % 100000);
    call("bystander", Map.of("action", "daemon", "marker", marker));
    // the daemon is forked as the function returns: it may not have exec'd its command yet
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !Processes.withArgument(marker).isEmpty());
    // a timeout kills the instance: everything it started goes too
    InvokeResponse r =
        kiln.lambda.invoke(
            b ->
                b.functionName("bystander")
                    .payload(SdkBytes.fromUtf8String("{\"action\":\"spin\"}")));
    assertThat(r.functionError()).isEqualTo("Unhandled");
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Processes.withArgument(marker).isEmpty());
    assertHealthy("bystander");
  }

  static List<Path> cpuGroups() throws Exception {
    try (var s = Files.list(kilnGroups("cpu"))) {
      return s.filter(Files::isDirectory).toList();
    }
  }

  static Path memoryGroupOf(Path cpuGroup) throws Exception {
    return kilnGroups("memory").resolve(cpuGroup.getFileName());
  }

  /**
   * Where this test's Kiln makes instances' groups in a cgroup v1 hierarchy: below its own group,
   * in the sub-tree of its server id (other Kilns on the host have theirs beside it).
   */
  static Path kilnGroups(String controller) throws Exception {
    String own =
        Files.readString(Path.of("/proc/self/cgroup"))
            .lines()
            .filter(l -> List.of(l.split(":", 3)[1].split(",")).contains(controller))
            .map(l -> l.split(":", 3)[2])
            .findFirst()
            .orElseThrow();
    return Path.of("/sys/fs/cgroup/" + controller + (own.equals("/") ? "" : own), "kiln")
        .resolve(dev.kiln.sandbox.LinuxSandboxDriver.serverId(kiln.dataDir.resolve("sandbox")));
  }
}
