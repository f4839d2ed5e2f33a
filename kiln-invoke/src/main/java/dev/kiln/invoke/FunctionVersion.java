package dev.kiln.invoke;

import dev.kiln.model.FunctionConfig;
import dev.kiln.runtimes.RuntimeTable;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Everything needed to run one revision of one version of a function, resolved once: its
 * configuration, where its code is unpacked and how its runtime starts. Instances belong to exactly
 * one of these; a changed configuration is a different value with its own instances.
 *
 * @param layers the function's layers merged in their order, for {@code /opt}; empty when it has
 *     none
 * @param outboundNetwork whether its instances may reach beyond the host: off when the function is
 *     tagged {@code kiln:outbound-network=off} (see {@link #NETWORK_TAG})
 */
public record FunctionVersion(
    FunctionConfig config,
    String functionArn,
    Path taskRoot,
    RuntimeTable.Launch launch,
    Optional<Path> layers,
    boolean outboundNetwork) {

  /** The tag that cuts a function off the network beyond the host, with the value {@code off}. */
  public static final String NETWORK_TAG = "kiln:outbound-network";

  /** Identifies the revision: instances of a different key never receive this one's events. */
  public String key() {
    return config.functionName()
        + ":"
        + config.version()
        + "#"
        + config.revisionId()
        + (outboundNetwork ? "" : "#offline");
  }

  public String name() {
    return config.functionName();
  }

  public String version() {
    return config.version();
  }
}
