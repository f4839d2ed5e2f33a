package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;

/** Idle instances are kept for the keep-alive and then stopped, process tree and all. */
class InstanceLifecycleIT {

  @Test
  void idleInstances_areStoppedAfterTheKeepAlive() throws Exception {
    try (KilnFixture kiln = new KilnFixture(Duration.ofMillis(300))) {
      kiln.python(
          "short-lived",
          "import os, subprocess\n"
              + "child = subprocess.Popen(['sleep', '600'])\n"
              + "def handler(e, c):\n    return [os.getpid(), child.pid]\n");
      String[] pids =
          kiln.lambda
              .invoke(b -> b.functionName("short-lived").payload(SdkBytes.fromUtf8String("{}")))
              .payload()
              .asUtf8String()
              .replaceAll("[\\[\\] ]", "")
              .split(",");
      ProcessHandle instance = ProcessHandle.of(Long.parseLong(pids[0])).orElseThrow();
      ProcessHandle child = ProcessHandle.of(Long.parseLong(pids[1])).orElseThrow();
      // the reaper runs on its own; wait for it to stop both processes
      instance.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
      child.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(instance.isAlive()).isFalse();
      assertThat(child.isAlive()).as("the instance's children go with it").isFalse();
      assertThat(kiln.server.invoker().instanceCount()).isZero();
      // nor do its private /tmp and output: nothing of it is left on disk
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                try (var dirs = java.nio.file.Files.list(kiln.dataDir.resolve("instances"))) {
                  assertThat(dirs).isEmpty();
                }
              });
    }
  }
}
