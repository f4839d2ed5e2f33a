package dev.kiln.esm;

import java.util.Set;

/** How one invocation of a function with a batch ended, as the poller acts on it. */
sealed interface BatchOutcome {

  /** The function succeeded with every record. */
  record Succeeded() implements BatchOutcome {}

  /** The function succeeded but named these records in {@code batchItemFailures}. */
  record Partial(Set<String> failedIds) implements BatchOutcome {}

  /**
   * The function failed (an error, a timeout, a crash, an answer ReportBatchItemFailures could not
   * read), or Kiln could not run it.
   *
   * @param errorType what the failure record's {@code responseContext} and the log say
   */
  record Failed(String errorType, String executedVersion) implements BatchOutcome {}

  /** No room to run it now (the concurrency limits), or its function is gone: try again later. */
  record NotRun(String reason) implements BatchOutcome {}
}
