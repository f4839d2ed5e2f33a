package dev.kiln.invoke;

/**
 * Where the log of each invocation goes: the function's output framed by Lambda's START, END and
 * REPORT lines, for its log group and the instance's log stream. Must not block: it is called on
 * the invocation's path.
 */
public interface FunctionLogs {

  FunctionLogs NONE = (group, stream, timestamp, text) -> {};

  /**
   * @param text the invocation's log, one event per line
   */
  void record(String group, String stream, long timestamp, String text);
}
