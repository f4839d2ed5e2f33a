package dev.kiln.sandbox;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one instance needs from its sandbox.
 *
 * @param instanceDir private to this instance; holds its {@code /tmp} and the driver's records
 * @param taskRoot the function's unpacked code, to be seen read-only
 * @param runtimeDir the bootstrap Kiln ships for the runtime, read-only
 * @param layers the function's layers merged into one directory, to be seen read-only at {@code
 *     /opt}; empty when it has none
 * @param runtimeCache a directory the runtime reads what Kiln prepared for this function version
 *     from (a Java class data sharing archive), to be seen read-only ({@link
 *     SandboxDriver#runtimeCacheInside}); empty when there is none
 * @param heldAtStart the command's standard input is a pipe, on which {@link Sandbox#releaseStart}
 *     writes one line and which it then closes; otherwise {@code /dev/null}
 * @param network the instance's own network, from {@link SandboxDriver#isolateNetwork}; empty when
 *     it shares the host's
 */
public record SandboxSpec(
    String instanceId,
    List<String> command,
    Map<String, String> environment,
    Path taskRoot,
    Path runtimeDir,
    Path instanceDir,
    int memoryMb,
    int ephemeralStorageMb,
    Optional<Path> layers,
    Optional<Path> runtimeCache,
    boolean heldAtStart,
    Optional<InstanceNetwork> network) {

  public SandboxSpec {
    command = List.copyOf(command);
    environment = Map.copyOf(environment);
  }
}
