package dev.kiln.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.ResourceNotFoundException;

/**
 * What trigger test functions say they received: each prints one line per record, {@code MARK} and
 * a JSON document, and the test reads them back from the function's log group as a user would
 * (FilterLogEvents), in the order the log has them.
 */
final class Deliveries {

  static final ObjectMapper JSON = new ObjectMapper();

  private Deliveries() {}

  /** The JSON documents {@code function} printed after {@code marker}, oldest first. */
  static List<JsonNode> read(CloudWatchLogsClient logs, String function, String marker) {
    List<JsonNode> out = new ArrayList<>();
    try {
      logs.filterLogEventsPaginator(b -> b.logGroupName("/aws/lambda/" + function))
          .events()
          .forEach(
              e -> {
                String m = e.message().strip();
                int at = m.indexOf(marker + " ");
                if (at >= 0) {
                  try {
                    out.add(JSON.readTree(m.substring(at + marker.length() + 1)));
                  } catch (java.io.IOException ex) {
                    throw new AssertionError("not JSON after " + marker + ": " + m, ex);
                  }
                }
              });
    } catch (ResourceNotFoundException notYet) {
      // the function has not logged anything yet
    }
    return out;
  }
}
