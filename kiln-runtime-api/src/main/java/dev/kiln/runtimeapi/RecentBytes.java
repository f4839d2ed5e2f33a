package dev.kiln.runtimeapi;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The last bytes a connection's thread read from its socket, for the one thing Helidon 4.5 cannot
 * give: the trailers of a chunked request. Its HTTP/1.1 reader refuses anything after the last
 * chunk ("Invalid terminating chunk") and drops it, but a runtime reports an error in the middle of
 * a streamed response exactly there ({@code Lambda-Runtime-Function-Error-Type} and {@code
 * Lambda-Runtime-Function-Error-Body}). {@link ClientTimeout}'s reader, which every byte a
 * connection reads passes through, records them here; a connection's requests are read, and its
 * routes run, on that one thread, so a route that meets the refusal finds the trailers in what its
 * own thread read last.
 */
final class RecentBytes {

  /** Enough for the trailers Lambda's runtimes send (an error document of a few KB, base64). */
  private static final int KEPT = 32 * 1024;

  private static final ThreadLocal<RecentBytes> MINE = ThreadLocal.withInitial(RecentBytes::new);

  private final byte[] ring = new byte[KEPT];
  private int length;

  private RecentBytes() {}

  /** Records bytes the current thread has just read from its connection. */
  static void record(byte[] bytes) {
    MINE.get().add(bytes);
  }

  private void add(byte[] bytes) {
    if (bytes.length >= KEPT) {
      System.arraycopy(bytes, bytes.length - KEPT, ring, 0, KEPT);
      length = KEPT;
      return;
    }
    int keep = Math.min(length, KEPT - bytes.length);
    System.arraycopy(ring, length - keep, ring, 0, keep);
    System.arraycopy(bytes, 0, ring, keep, bytes.length);
    length = keep + bytes.length;
  }

  /**
   * The trailer fields after the last chunk ({@code 0\r\n}) this thread read, in order; empty if it
   * read none.
   */
  static Map<String, String> trailers() {
    RecentBytes mine = MINE.get();
    String text = new String(mine.ring, 0, mine.length, StandardCharsets.ISO_8859_1);
    Map<String, String> fields = new LinkedHashMap<>();
    int last = text.lastIndexOf("\r\n0\r\n");
    int start = last >= 0 ? last + 5 : text.startsWith("0\r\n") ? 3 : -1;
    if (start < 0) {
      return fields;
    }
    for (String line : text.substring(start).split("\r\n")) {
      if (line.isEmpty()) {
        break;
      }
      int colon = line.indexOf(':');
      if (colon > 0) {
        fields.put(
            line.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
            line.substring(colon + 1).trim());
      }
    }
    return fields;
  }
}
