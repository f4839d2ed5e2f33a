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
          "import subprocess\n"
              + "child = subprocess.Popen(['sleep', '6007'])\n"
              + "def handler(e, c):\n    return c.log_stream_name\n");
      String logStream =
          kiln.lambda
              .invoke(b -> b.functionName("short-lived").payload(SdkBytes.fromUtf8String("{}")))
              .payload()
              .asUtf8String();
      ProcessHandle instance =
          ProcessHandle.of(Processes.instancePid(kiln.dataDir, logStream)).orElseThrow();
      // the child as the host sees it: the one sleep with this argument below the instance
      ProcessHandle child =
          instance
              .descendants()
              .filter(
                  p ->
                      p.info()
                          .arguments()
                          .map(a -> a.length == 1 && a[0].equals("6007"))
                          .orElse(false))
              .findFirst()
              .orElseThrow();
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
