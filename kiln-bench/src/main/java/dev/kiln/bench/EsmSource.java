package dev.kiln.bench;

import java.time.Duration;
import java.util.function.LongConsumer;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;

/**
 * One kind of event source as the {@code esm} suite drives it: a broker or database started for the
 * run, fresh streams to fill (a topic, a queue, a published table), the fields of a Kiln mapping on
 * one, and the source's own consumer as the baseline. Every record's payload carries the time it
 * was produced, {@code {"t": <epoch µs>, "n": <index>}}, so that Kiln's function and the baseline
 * can both tell how long it took to arrive.
 *
 * <p>Each measurement gets two streams of its own, one per {@link Side}, filled with the same
 * records, so that Kiln and the baseline never read each other's records nor share a position.
 */
interface EsmSource extends AutoCloseable {

  /** Which reader a stream is for. */
  enum Side {
    KILN,
    BASELINE
  }

  /** The source's name in the tables, e.g. {@code Kafka}. */
  String name();

  /** What the baseline is, in a few words, for the report's notes. */
  String baselineDescription();

  /** Creates the two streams of measurement {@code tag}, empty. */
  void prepare(String tag) throws Exception;

  /** Fills in the source fields of a mapping on the Kiln side's stream of {@code tag}. */
  void mapping(CreateEventSourceMappingRequest.Builder b, String tag, int batchSize);

  /**
   * Waits until an enabled mapping holds its position in the source, so that records produced after
   * it reach it even while it is disabled (PostgreSQL: its replication slot exists).
   */
  default void awaitHeld(String uuid, Duration timeout) throws Exception {}

  /** Adds {@code n} records to the side's stream of {@code tag}, as fast as the client can. */
  void produce(String tag, Side side, int n) throws Exception;

  /** Adds one record produced at {@code micros} (epoch µs), and returns once it is accepted. */
  void produceOne(String tag, Side side, int index, long micros) throws Exception;

  /**
   * Opens the source's own consumer on the baseline stream of {@code tag}, holding its position
   * from now on (a consumer group, a replication slot), reading at most {@code batchSize} records
   * per request where the protocol has such a size.
   */
  Consumer openBaseline(String tag, int batchSize) throws Exception;

  /** The baseline consumer: reads and acknowledges as a plain application would. */
  interface Consumer extends AutoCloseable {

    /**
     * Reads until {@code n} records have arrived, acknowledging them as it goes (commit, delete,
     * flushed LSN), and passes each record's production time (epoch µs) to {@code sent} as it
     * arrives.
     */
    void read(int n, LongConsumer sent) throws Exception;

    @Override
    void close() throws Exception;
  }

  /** The {@code t} field of a record's JSON payload {@code {"t":123,"n":4}}, without a parser. */
  static long sentMicros(String json) {
    int at = json.indexOf("\"t\":");
    if (at < 0) {
      throw new IllegalArgumentException("no \"t\" in " + json);
    }
    int i = at + 4;
    while (json.charAt(i) == ' ') {
      i++;
    }
    int end = i;
    while (end < json.length() && Character.isDigit(json.charAt(end))) {
      end++;
    }
    return Long.parseLong(json.substring(i, end));
  }

  static String payload(int index, long micros) {
    return "{\"t\":" + micros + ",\"n\":" + index + "}";
  }

  /** Epoch microseconds now, from the same clock the function's {@code time.time_ns()} reads. */
  static long nowMicros() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
  }
}
