package dev.kiln.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.runtimes.Architectures;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * {@code FunctionConfiguration} as the Lambda service renders it: the same members, the same
 * formats ({@code LastModified} as {@code 2024-01-31T12:00:00.000+0000}), and the same choice of
 * which members appear when empty.
 */
final class FunctionJson {

  static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter LAST_MODIFIED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneOffset.UTC);

  private FunctionJson() {}

  /** A timestamp as the Lambda API writes {@code LastModified}. */
  static String timestamp(java.time.Instant instant) {
    return LAST_MODIFIED.format(instant);
  }

  static ObjectNode configuration(FunctionConfig c, Account account) {
    ObjectNode n = JSON.createObjectNode();
    n.put("FunctionName", c.functionName());
    n.put(
        "FunctionArn",
        c.version().equals(FunctionRef.LATEST)
            ? account.functionArn(c.functionName())
            : account.functionArn(c.functionName(), c.version()));
    n.put("Runtime", c.runtime());
    n.put("Role", c.role());
    n.put("Handler", c.handler());
    n.put("CodeSize", c.codeSize());
    n.put("Description", c.description());
    n.put("Timeout", c.timeout());
    n.put("MemorySize", c.memorySize());
    n.put("LastModified", LAST_MODIFIED.format(c.lastModified()));
    n.put("CodeSha256", c.codeSha256());
    n.put("Version", c.version());
    if (!c.environment().isEmpty()) {
      ObjectNode vars = n.putObject("Environment").putObject("Variables");
      c.environment().forEach(vars::put);
    }
    n.putObject("TracingConfig").put("Mode", c.tracingMode());
    c.deadLetterTarget().ifPresent(t -> n.putObject("DeadLetterConfig").put("TargetArn", t));
    if (!c.layers().isEmpty()) {
      var layers = n.putArray("Layers");
      for (FunctionConfig.Layer layer : c.layers()) {
        layers.addObject().put("Arn", layer.arn()).put("CodeSize", layer.codeSize());
      }
    }
    n.put("RevisionId", c.revisionId());
    n.put("State", "Active");
    n.put("LastUpdateStatus", "Successful");
    n.put("PackageType", c.packageType());
    n.putArray("Architectures")
        .addAll(c.architectures().stream().map(JSON.getNodeFactory()::textNode).toList());
    n.putObject("EphemeralStorage").put("Size", c.ephemeralStorageSize());
    ObjectNode snapStart = n.putObject("SnapStart");
    snapStart.put("ApplyOn", "None");
    snapStart.put("OptimizationStatus", "Off");
    // Architectures is echoed as asked; the runtime version names what the instances really run
    // on: the host's architecture for a runtime whose code is portable, and for a custom runtime
    // the function's (its bootstrap is built for it, and runs under qemu on a host of the other)
    String runsOn =
        c.runtime() != null && c.runtime().startsWith("provided")
            ? Architectures.requested(c.architectures())
            : Architectures.host();
    n.putObject("RuntimeVersionConfig")
        .put(
            "RuntimeVersionArn",
            "arn:aws:lambda:" + account.region() + "::runtime:kiln-" + c.runtime() + "-" + runsOn);
    ObjectNode logging = n.putObject("LoggingConfig");
    logging.put("LogFormat", c.logging().logFormat());
    c.logging().applicationLogLevel().ifPresent(l -> logging.put("ApplicationLogLevel", l));
    c.logging().systemLogLevel().ifPresent(l -> logging.put("SystemLogLevel", l));
    logging.put("LogGroup", c.logging().logGroup());
    return n;
  }
}
