package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Starts the process tree of one function instance with whatever isolation and limits the driver
 * can give. The plain {@link ProcessSandboxDriver} is portable and isolates little; drivers built
 * on namespaces and cgroups plug in behind this interface without the invoker noticing.
 */
public interface SandboxDriver {

  Sandbox start(SandboxSpec spec) throws IOException;

  /**
   * Gives a new instance a network of its own, before it starts, when this driver isolates
   * networks: the instance then reaches the Runtime API at {@link InstanceNetwork#hostAddress}, and
   * the world beyond the host only if {@code outbound} (and the driver allows it at all). Empty
   * when instances share the host's network. The sandbox started with it releases it; call {@link
   * #releaseNetwork} if the instance is never started.
   */
  default Optional<InstanceNetwork> isolateNetwork(String instanceId, boolean outbound)
      throws IOException {
    return Optional.empty();
  }

  /** Frees a network {@link #isolateNetwork} gave to an instance that did not start. */
  default void releaseNetwork(InstanceNetwork network) {}

  /** Where an instance sees the function's code ({@code LAMBDA_TASK_ROOT}). */
  default Path taskRootInside(Path taskRoot) {
    return taskRoot;
  }

  /** Where an instance sees its runtime's bootstrap ({@code LAMBDA_RUNTIME_DIR}). */
  default Path runtimeDirInside(Path runtimeDir) {
    return runtimeDir;
  }

  /**
   * Where an instance sees its layers: {@code /opt} when the driver mounts them there, otherwise
   * wherever they are ({@code /opt} itself when the function has none).
   */
  default Path layersInside(Optional<Path> layers) {
    return layers.orElse(Path.of("/opt"));
  }

  /** Where an instance sees its own {@code /tmp}, given its {@link SandboxSpec#instanceDir}. */
  default Path tmpInside(Path instanceDir) {
    return instanceDir.resolve("tmp");
  }

  /** Where an instance sees its {@link SandboxSpec#runtimeCache}. */
  default Path runtimeCacheInside(Path runtimeCache) {
    return runtimeCache;
  }

  /** One line for the start-up banner: which isolation and limits are in force, which are not. */
  String describe();

  /**
   * Kills instance processes left behind by an earlier Kiln process that died without cleaning up
   * (kill -9, power loss), found through the records under {@code instancesRoot}, and removes
   * everything those instances left there.
   */
  default void reapLeftovers(Path instancesRoot) {
    reapLeftovers(instancesRoot, dir -> {});
  }

  /**
   * As {@link #reapLeftovers(Path)}, handing each leftover instance's directory to {@code salvage}
   * once its processes are killed and before it is removed (to read what they printed).
   */
  void reapLeftovers(Path instancesRoot, java.util.function.Consumer<Path> salvage);

  /** Undoes what the driver set up on the host for all instances; call after the last one ended. */
  default void close() {}
}
