package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Kiln run by a normal user: the Linux sandbox still isolates the filesystem and processes through
 * a user namespace, and the start-up banner tells the truth about the limits a normal user cannot
 * set (checked by going past one).
 */
class UnprivilegedSandboxIT {

  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void asANormalUser_theSandboxIsolates_andTheBannerSaysWhichLimitsAreNotInForce()
      throws Exception {
    boolean root = ProcessHandle.current().info().user().map("root"::equals).orElse(false);
    if (!root || Tools.find("bwrap").isEmpty() || Tools.find("setpriv").isEmpty()) {
      if (Boolean.getBoolean("kiln.requireTools")) {
        throw new AssertionError("CI runs as root with bubblewrap and setpriv; root=" + root);
      }
      Assumptions.abort("needs root (to become a normal user), bubblewrap and setpriv");
    }
    Path data = dev.kiln.testing.TempDirs.create("kiln-unprivileged-");
    try (ServerProcess server =
            ServerProcess.startAsNobody(data, ServerProcess.freePort(), "--sandbox", "linux");
        LambdaClient lambda = KilnFixture.client(server)) {
      String banner = server.output();
      assertThat(banner)
          .contains("linux sandbox (bubblewrap")
          .contains("uid 993 inside a user namespace")
          .contains("NOT in force: memory limit at MemorySize")
          .contains("network isolation (instances share the host's network)");
      byte[] attack;
      try (var in = getClass().getResourceAsStream("/attacks/attack.py")) {
        attack = in.readAllBytes();
      }
      lambda.createFunction(
          b ->
              b.functionName("unprivileged")
                  .runtime(Runtime.PYTHON3_12)
                  .handler("attack.handler")
                  .role(KilnFixture.ROLE)
                  .memorySize(128)
                  .timeout(30)
                  .code(
                      c ->
                          c.zipFile(
                              SdkBytes.fromByteArray(
                                  Zips.of(
                                      "attack.py", new String(attack, StandardCharsets.UTF_8))))));
      JsonNode files = call(lambda, "{\"action\": \"files\", \"paths\": [\"" + data + "\"]}");
      assertThat(files.get("uid").asInt()).isEqualTo(993);
      assertThat(files.get("task_root").asText()).isEqualTo("/var/task");
      assertThat(files.get("write_task").get("allowed").asBoolean()).isFalse();
      assertThat(files.get("write_etc").get("allowed").asBoolean()).isFalse();
      assertThat(files.get("paths_visible").get(data.toString()).asBoolean())
          .as("Kiln's data directory")
          .isFalse();
      JsonNode processes = call(lambda, "{\"action\": \"processes\", \"host_pid\": 1}");
      assertThat(processes.get("pids").size()).isLessThanOrEqualTo(3);
      // as the banner says, 128 MB is not enforced here: 200 MB can be had
      JsonNode allocated = call(lambda, "{\"action\": \"allocate\", \"mb\": 200}");
      assertThat(allocated.get("allocated_mb").asInt()).isEqualTo(200);
    }
  }

  static JsonNode call(LambdaClient lambda, String event) throws Exception {
    InvokeResponse r =
        lambda.invoke(b -> b.functionName("unprivileged").payload(SdkBytes.fromUtf8String(event)));
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    return JSON.readTree(r.payload().asUtf8String());
  }
}
