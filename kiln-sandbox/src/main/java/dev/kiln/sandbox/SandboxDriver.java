package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Starts the process tree of one function instance with whatever isolation and limits the driver
 * can give. The plain {@link ProcessSandboxDriver} is portable and isolates little; drivers built
 * on namespaces and cgroups plug in behind this interface without the invoker noticing.
 */
public interface SandboxDriver {

  Sandbox start(SandboxSpec spec) throws IOException;

  /** One line for the start-up banner: which isolation and limits are in force, which are not. */
  String describe();

  /**
   * Kills instance processes left behind by an earlier Kiln process that died without cleaning up
   * (kill -9, power loss), found through the records under {@code instancesRoot}, and removes
   * everything those instances left there.
   */
  void reapLeftovers(Path instancesRoot);
}
