package dev.kiln.bench;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The Python function the sandbox, CPU, deadline and layer suites measure with: a no-op by default,
 * and on request a CPU-bound loop of a given length ({@code {"spin": N}}, answering the CPU seconds
 * it took), a busy wait of a given wall time ({@code {"busyMs": N}}), or a loop that never ends
 * ({@code {"forever": true}}).
 */
final class ProbeFunction {

  static final String SOURCE =
      """
      import time

      def handler(event, context):
          if event.get("forever"):
              while True:
                  pass
          if event.get("busyMs"):
              until = time.monotonic() + event["busyMs"] / 1000
              while time.monotonic() < until:
                  pass
          if event.get("spin"):
              started = time.process_time()
              x = 0
              for i in range(event["spin"]):
                  x += i
              return time.process_time() - started
          return None
      """;

  private ProbeFunction() {}

  static byte[] zip() {
    return Language.zip(Map.of("app.py", SOURCE.getBytes(StandardCharsets.UTF_8)));
  }

  /** Creates the probe in {@code kiln} at {@code memoryMb} and {@code timeoutSeconds}. */
  static void create(
      KilnProcess kiln, String name, int memoryMb, int timeoutSeconds, List<String> layers) {
    kiln.lambda()
        .createFunction(
            b ->
                b.functionName(name)
                    .runtime(Language.PYTHON.runtime)
                    .handler(Language.PYTHON.handler)
                    .role("arn:aws:iam::000000000000:role/kiln-bench")
                    .memorySize(memoryMb)
                    .timeout(timeoutSeconds)
                    .layers(layers)
                    .code(
                        c -> c.zipFile(software.amazon.awssdk.core.SdkBytes.fromByteArray(zip()))));
    kiln.lambda().waiter().waitUntilFunctionActiveV2(b -> b.functionName(name));
  }
}
