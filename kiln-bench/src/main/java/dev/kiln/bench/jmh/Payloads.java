package dev.kiln.bench.jmh;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The JSON the JSON benchmarks work on, built deterministically: the same bytes in every run, so
 * that runs compare.
 */
public final class Payloads {

  /** The sizes the benchmarks take as their {@code size} parameter. */
  public static final String SMALL = "small";

  public static final String LARGE = "100KB";

  private static final int LARGE_BYTES = 100 * 1024;

  private Payloads() {}

  /**
   * An invoke payload: the console's default test event for {@code small}, an object holding an
   * array of records of about 100 KB for {@code 100KB}.
   */
  public static byte[] event(String size) {
    if (size.equals(SMALL)) {
      return "{\"key1\":\"value1\",\"key2\":\"value2\",\"key3\":\"value3\"}"
          .getBytes(StandardCharsets.UTF_8);
    }
    StringBuilder json = new StringBuilder("{\"records\":[");
    for (int i = 0; json.length() < bytes(size); i++) {
      if (i > 0) {
        json.append(',');
      }
      json.append(
          String.format(
              Locale.ROOT,
              "{\"id\":%d,\"name\":\"item-%d\",\"price\":%d.%02d,\"active\":%b,"
                  + "\"tags\":[\"a\",\"b\",\"c\"],\"owner\":{\"id\":\"u-%d\",\"region\":\"eu\"}}",
              i,
              i,
              i % 1000,
              i % 100,
              i % 2 == 0,
              i % 97));
    }
    return json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * What a function printed during one invocation: lines of JSON as the runtimes' structured
   * loggers write them (levels INFO and DEBUG alternating), two lines for {@code small}, about 100
   * KB of them for {@code 100KB}.
   */
  public static String logOutput(String size) {
    StringBuilder out = new StringBuilder();
    int lines = size.equals(SMALL) ? 2 : Integer.MAX_VALUE;
    for (int i = 0; i < lines && out.length() < bytes(size); i++) {
      out.append(
          String.format(
              Locale.ROOT,
              "{\"timestamp\":\"2026-01-01T00:00:%02d.%03dZ\",\"level\":\"%s\","
                  + "\"message\":\"processed record %d of the batch\","
                  + "\"logger\":\"app\",\"requestId\":\"8f5a7c1e-3b2d-4e6f-9a0b-1c2d3e4f5a6b\"}\n",
              i % 60,
              i % 1000,
              i % 2 == 0 ? "INFO" : "DEBUG",
              i));
    }
    return out.toString();
  }

  private static int bytes(String size) {
    return switch (size) {
      case SMALL -> Integer.MAX_VALUE;
      case LARGE -> LARGE_BYTES;
      default -> throw new IllegalArgumentException("no payload size " + size);
    };
  }
}
