package dev.kiln.runtimeapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The extensions of one instance, as the Extensions API 2020-01-01 sees them.
 *
 * <p>An extension registers once (its name, the events it wants: {@code INVOKE}, {@code SHUTDOWN}),
 * then loops on {@code GET /event/next}. Each call to next says "I am done with the previous
 * event"; that is the whole protocol of readiness:
 *
 * <ul>
 *   <li><b>Init.</b> External extensions are the executables of {@code /opt/extensions}; the
 *       instance holds its runtime back until all of them have registered ({@link #allRegistered}).
 *       Internal extensions register from the runtime process before its first {@code /next}, which
 *       closes registration. Init is over when the runtime and every registered extension have
 *       called next ({@link #ready}).
 *   <li><b>Invoke.</b> When the runtime takes an event, every extension registered for {@code
 *       INVOKE} gets it too; the instance is free for the next event once each has called next
 *       again ({@link #idle}).
 *   <li><b>Shutdown.</b> Extensions registered for {@code SHUTDOWN} (external ones only, as on
 *       Lambda) get it before the runtime is stopped, and are waited for until they call next or
 *       the limit passes.
 * </ul>
 */
final class Extensions {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The events an extension may register for. */
  static final Set<String> EVENT_TYPES = Set.of("INVOKE", "SHUTDOWN");

  /** A registration the API refuses: its status, {@code errorType} and message. */
  static final class Refusal extends RuntimeException {
    final int status;
    final String errorType;

    Refusal(int status, String errorType, String message) {
      super(message, null, false, false);
      this.status = status;
      this.errorType = errorType;
    }
  }

  /** One registered extension. */
  static final class Extension {
    final String id = UUID.randomUUID().toString();
    final String name;
    final boolean external;
    final Set<String> events;
    final LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();

    /** Whether it is blocked in, or about to call, next: done with everything it was sent. */
    volatile boolean waiting;

    volatile boolean polledOnce;

    Extension(String name, boolean external, Set<String> events) {
      this.name = name;
      this.external = external;
      this.events = Set.copyOf(events);
    }
  }

  private static final byte[] CLOSED = new byte[0];

  private final Set<String> expectedExternal;
  private final Map<String, Extension> byId = new ConcurrentHashMap<>();
  private final CompletableFuture<Void> allRegistered = new CompletableFuture<>();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private volatile CompletableFuture<Void> idle = CompletableFuture.completedFuture(null);
  private volatile boolean registrationClosed;
  private volatile boolean runtimePolled;

  /**
   * @param expectedExternal the file names under {@code /opt/extensions} that were started
   */
  Extensions(Set<String> expectedExternal) {
    this.expectedExternal = Set.copyOf(expectedExternal);
    if (expectedExternal.isEmpty()) {
      allRegistered.complete(null);
    }
  }

  CompletableFuture<Void> allRegistered() {
    return allRegistered;
  }

  /** Completes when the runtime and every registered extension have called next. */
  CompletableFuture<Void> ready() {
    return ready;
  }

  boolean any() {
    return !byId.isEmpty();
  }

  synchronized Extension register(String name, List<String> events) {
    if (name == null || name.isBlank()) {
      throw new Refusal(
          400, "InvalidRequest", "The Lambda-Extension-Name header is required to register");
    }
    if (registrationClosed) {
      throw new Refusal(
          403,
          "Extension.RegistrationAfterInit",
          "Extension " + name + " tried to register after the init phase ended");
    }
    for (Extension e : byId.values()) {
      if (e.name.equals(name)) {
        throw new Refusal(
            409, "Extension.AlreadyRegistered", "Extension " + name + " is already registered");
      }
    }
    for (String event : events) {
      if (!EVENT_TYPES.contains(event)) {
        throw new Refusal(
            400,
            "InvalidEventType",
            "Unknown event type " + event + "; extensions register for INVOKE and SHUTDOWN");
      }
    }
    boolean external = expectedExternal.contains(name);
    if (!external && events.contains("SHUTDOWN")) {
      throw new Refusal(
          403,
          "ShutdownEventNotSupportedForInternalExtension",
          "Extension "
              + name
              + " is internal (not one of /opt/extensions): internal extensions cannot register"
              + " for SHUTDOWN");
    }
    Extension extension = new Extension(name, external, Set.copyOf(events));
    byId.put(extension.id, extension);
    long registeredExternal = byId.values().stream().filter(e -> e.external).count();
    if (registeredExternal == expectedExternal.size()) {
      allRegistered.complete(null);
    }
    return extension;
  }

  Optional<Extension> byId(String id) {
    return id == null ? Optional.empty() : Optional.ofNullable(byId.get(id));
  }

  /** The runtime's first {@code /next}: no more registrations; init ends when all are waiting. */
  synchronized void runtimePolled() {
    registrationClosed = true;
    runtimePolled = true;
    checkReady();
  }

  /**
   * An extension's {@code GET /event/next}: it is done with what it had; blocks until its next
   * event, or returns empty once the instance is gone.
   */
  Optional<byte[]> next(Extension extension) throws InterruptedException {
    synchronized (this) {
      extension.polledOnce = true;
      // done with everything only if nothing else was sent meanwhile (say SHUTDOWN after INVOKE)
      if (extension.queue.isEmpty()) {
        extension.waiting = true;
        checkIdle();
      }
      checkReady();
    }
    byte[] event = extension.queue.take();
    if (event == CLOSED) {
      extension.queue.offer(CLOSED);
      return Optional.empty();
    }
    return Optional.of(event);
  }

  private void checkReady() {
    if (runtimePolled && byId.values().stream().allMatch(e -> e.polledOnce)) {
      ready.complete(null);
    }
  }

  private void checkIdle() {
    if (byId.values().stream().allMatch(e -> e.waiting)) {
      idle.complete(null);
    }
  }

  /** The runtime took an event: every extension registered for {@code INVOKE} gets it too. */
  synchronized void invoke(RuntimeEvent event, long deadlineMs) {
    ObjectNode doc = JSON.createObjectNode();
    doc.put("eventType", "INVOKE");
    doc.put("deadlineMs", deadlineMs);
    doc.put("requestId", event.requestId());
    doc.put("invokedFunctionArn", event.invokedFunctionArn());
    ObjectNode tracing = doc.putObject("tracing");
    tracing.put("type", "X-Amzn-Trace-Id");
    tracing.put("value", event.traceId());
    send("INVOKE", doc);
  }

  /**
   * Sends {@code SHUTDOWN} to the extensions registered for it.
   *
   * @param reason {@code spindown}, {@code timeout} or {@code failure}, as on Lambda
   * @return completes when every extension is back in next
   */
  synchronized CompletableFuture<Void> shutdown(String reason, long deadlineMs) {
    ObjectNode doc = JSON.createObjectNode();
    doc.put("eventType", "SHUTDOWN");
    doc.put("shutdownReason", reason);
    doc.put("deadlineMs", deadlineMs);
    send("SHUTDOWN", doc);
    return idle;
  }

  /** Whether some extension wants {@code SHUTDOWN}. */
  boolean wantShutdown() {
    return byId.values().stream().anyMatch(e -> e.events.contains("SHUTDOWN"));
  }

  /** Completes when every extension has called next since the last event it was sent. */
  CompletableFuture<Void> idle() {
    return idle;
  }

  private void send(String type, ObjectNode doc) {
    byte[] bytes = doc.toString().getBytes(StandardCharsets.UTF_8);
    List<Extension> to = new ArrayList<>();
    for (Extension e : byId.values()) {
      if (e.events.contains(type)) {
        to.add(e);
      }
    }
    if (to.isEmpty()) {
      return;
    }
    idle = new CompletableFuture<>();
    for (Extension e : to) {
      e.waiting = false;
      e.queue.offer(bytes);
    }
  }

  /** Releases every extension blocked in next: the instance is going away. */
  void close() {
    for (Extension e : byId.values()) {
      e.queue.offer(CLOSED);
    }
    allRegistered.complete(null);
  }

  /** The response body of a registration, as Lambda's. */
  static byte[] registrationBody(
      String functionName, String functionVersion, String handler, Optional<String> accountId) {
    ObjectNode doc = JSON.createObjectNode();
    doc.put("functionName", functionName);
    doc.put("functionVersion", functionVersion);
    doc.put("handler", handler);
    accountId.ifPresent(a -> doc.put("accountId", a));
    return doc.toString().getBytes(StandardCharsets.UTF_8);
  }
}
