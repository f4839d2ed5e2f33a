package dev.kiln.invoke;

import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The X-Ray trace header an invocation runs under, as Lambda hands it to the runtime in {@code
 * Lambda-Runtime-Trace-Id} (and the runtimes put it in {@code _X_AMZN_TRACE_ID}, where the AWS SDKs
 * and the X-Ray and OpenTelemetry libraries look for it).
 *
 * <p>A caller that sends {@code X-Amzn-Trace-Id} with a valid {@code Root} keeps its trace: the
 * root is kept, and so are its {@code Parent} and {@code Sampled} decision when it gives them. Any
 * other invocation starts a trace of its own, not sampled. An asynchronous event keeps the header
 * it was accepted with across its retries.
 *
 * <p>The root's 32 hex digits (the 8 of the time and the 24 random) are also the trace id of the
 * invocation's OpenTelemetry spans, and the parent its parent span, so that the two views of one
 * request line up.
 *
 * @param root {@code 1-<8 hex seconds>-<24 hex>}
 * @param parent 16 hex digits
 * @param joined whether the root is the caller's
 */
record TraceHeader(String root, String parent, boolean sampled, boolean joined) {

  private static final Pattern ROOT = Pattern.compile("1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})");
  private static final Pattern PARENT = Pattern.compile("[0-9a-fA-F]{16}");

  /** The caller's header if it names a valid root, otherwise a new trace. */
  static TraceHeader joinOrStart(Optional<String> header, java.time.Instant now) {
    String root = null;
    String parent = null;
    Boolean sampled = null;
    if (header.isPresent()) {
      for (String part : header.get().split(";")) {
        int eq = part.indexOf('=');
        if (eq < 0) {
          continue;
        }
        String key = part.substring(0, eq).trim();
        String value = part.substring(eq + 1).trim();
        switch (key) {
          case "Root" -> root = ROOT.matcher(value).matches() ? value.toLowerCase() : null;
          case "Parent" -> parent = PARENT.matcher(value).matches() ? value.toLowerCase() : null;
          case "Sampled" -> sampled = value.equals("1") ? Boolean.TRUE : Boolean.FALSE;
          default -> {
            // Lineage and other keys are not carried over
          }
        }
      }
    }
    if (root == null) {
      return new TraceHeader(newRoot(now), randomHex(8), false, false);
    }
    return new TraceHeader(
        root, parent == null ? randomHex(8) : parent, sampled != null && sampled, true);
  }

  private static String newRoot(java.time.Instant now) {
    return "1-" + String.format("%08x", now.getEpochSecond()) + "-" + randomHex(12);
  }

  private static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    ThreadLocalRandom.current().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** The root as an OpenTelemetry trace id: its 32 hex digits. */
  String otelTraceId() {
    Matcher m = ROOT.matcher(root);
    if (!m.matches()) {
      throw new IllegalStateException("not a trace root: " + root);
    }
    return m.group(1) + m.group(2);
  }

  /** The header as the runtime receives it. */
  String header() {
    return "Root="
        + root
        + ";Parent="
        + parent
        + ";Sampled="
        + (sampled ? "1" : "0")
        + ";Lineage=kiln";
  }
}
