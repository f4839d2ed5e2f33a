package dev.kiln.invoke;

/**
 * Where the log of each invocation goes: the function's output framed by Lambda's START, END and
 * REPORT lines, for its log group and the instance's log stream. Must not block: it is called on
 * the invocation's path (except {@link #sync}, which is there to wait).
 */
public interface FunctionLogs {

  FunctionLogs NONE = (group, stream, timestamp, text) -> {};

  /**
   * @param text the invocation's log, one event per line
   */
  void record(String group, String stream, long timestamp, String text);

  /**
   * As {@link #record(String, String, long, String)}, for text that holds what {@code instance}
   * printed up to byte {@code readTo} of its output file: that offset is kept with the lines, so
   * that what follows it can be ingested after a crash, and nothing before it twice.
   */
  default void record(
      String group, String stream, long timestamp, String text, String instance, long readTo) {
    record(group, stream, timestamp, text);
  }

  /** Waits until everything recorded so far is durable: before an output file is emptied. */
  default void sync() {}

  /** The output file of {@code instance} is gone: how far it was read need not be kept. */
  default void forget(String instance) {}
}
