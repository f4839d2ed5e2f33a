package dev.kiln.esm;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.EventSourceMapping;

/**
 * Where a mapping's OnFailure destination sends the record of a batch it gave up on. Kiln delivers
 * it to a function, asynchronously, as it delivers an async invocation's failure record.
 */
@FunctionalInterface
public interface FailureDestination {

  /** Sends {@code record} (AWS's invocation record with the source's batch info) to {@code arn}. */
  void send(EventSourceMapping mapping, String arn, ObjectNode record);
}
