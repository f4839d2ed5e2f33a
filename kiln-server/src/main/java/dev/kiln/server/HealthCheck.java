package dev.kiln.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /health} (and {@code /ping}), for load balancers and service managers: no signature
 * needed, and nothing in the answer a stranger should not see (no paths, keys or functions).
 *
 * <p>200 with {@code {"status":"ok","version":...,"stores":{...}}} while Kiln serves and each of
 * its stores reads its first page at once (the cheapest read that still touches the file); 503 with
 * {@code "status":"unavailable"} and the store that failed, and 503 with {@code
 * "status":"stopping"} from the moment a shutdown begins, so that a load balancer stops sending
 * work while running invocations finish.
 *
 * <p>A store's check takes that store's lock, so a check behind a long write (a log prune) waits
 * for it; a load balancer's timeout then counts the node unhealthy for that moment, which it is.
 *
 * <p>{@link #stopping} is a volatile flag: the request threads read it, {@link KilnServer#close}
 * sets it once.
 */
final class HealthCheck implements Handler {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HealthCheck.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String version;
  private final Map<String, Runnable> stores;
  private volatile boolean stopping;

  /**
   * @param stores each store's check by the name the answer gives it, in order
   */
  HealthCheck(String version, Map<String, Runnable> stores) {
    this.version = version;
    this.stores = new LinkedHashMap<>(stores);
  }

  /** From now on the server is stopping: every answer is 503. */
  void stopping() {
    stopping = true;
  }

  @Override
  public void handle(ServerRequest req, ServerResponse res) {
    ObjectNode body = JSON.createObjectNode();
    boolean healthy = !stopping;
    body.put("status", stopping ? "stopping" : "ok");
    body.put("version", version);
    if (!stopping) {
      ObjectNode answers = body.putObject("stores");
      for (Map.Entry<String, Runnable> store : stores.entrySet()) {
        try {
          store.getValue().run();
          answers.put(store.getKey(), "ok");
        } catch (RuntimeException e) {
          // the cause goes to the server's log, not to whoever asks
          LOG.warn("health check: the {} store failed: {}", store.getKey(), e.toString());
          answers.put(store.getKey(), "failed");
          healthy = false;
        }
      }
      if (!healthy) {
        body.put("status", "unavailable");
      }
    }
    res.status(healthy ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503)
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .header(HeaderNames.CACHE_CONTROL, "no-store")
        .send(body.toString());
  }
}
