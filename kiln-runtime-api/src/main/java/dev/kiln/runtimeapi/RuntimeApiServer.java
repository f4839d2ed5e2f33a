package dev.kiln.runtimeapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.time.Ticker;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Runtime API 2018-06-01 that every instance's runtime talks to, one server for all instances.
 *
 * <p><b>Who is calling.</b> A runtime is told its endpoint only as {@code host:port} and sends no
 * credentials, so Kiln gives every instance an address of its own in the loopback range ({@code
 * 127.x.y.z}; any such address reaches this server) and routes a request by the local address it
 * arrived on. An address alone could be guessed or read by another process, so on Linux the server
 * also checks, once per connection, that the connecting socket belongs to a process of that very
 * instance ({@code /proc/net/tcp} gives the socket's inode, the instance's {@code /proc/PID/fd}
 * must hold it). A request that fails either check is refused with 403 and touches nothing.
 *
 * <p>Status codes and error bodies are the ones AWS's runtime interface clients expect. The
 * Extensions API 2020-01-01 is served on the same address, for the instance's extensions.
 */
public final class RuntimeApiServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RuntimeApiServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BASE = "/2018-06-01/runtime";
  private static final String EXTENSION = "/2020-01-01/extension";
  private static final String EXTENSION_ID = "Lambda-Extension-Identifier";

  /** Lambda's limit on a synchronous response, as the Runtime API enforces it. */
  public static final int MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

  /** Lambda's limit on a streamed response: 200 MB. */
  public static final long MAX_STREAMED_BYTES = 200L * 1024 * 1024;

  /** The part of a streamed response Lambda sends at full speed: 6 MB. */
  public static final long STREAM_BURST_BYTES = 6L * 1024 * 1024;

  /** Lambda's bandwidth for the rest of a streamed response: 2 MB/s. */
  public static final long STREAM_BYTES_PER_SECOND = 2L * 1024 * 1024;

  private static final String RESPONSE_MODE = "Lambda-Runtime-Function-Response-Mode";

  private volatile long streamLimit = MAX_STREAMED_BYTES;
  private volatile long streamBurst = STREAM_BURST_BYTES;
  private volatile long streamRate = STREAM_BYTES_PER_SECOND;

  private final ConcurrentHashMap<String, RuntimeChannel> byAddress = new ConcurrentHashMap<>();
  private final PeerVerifier verifier;
  private volatile WebServer server;
  private volatile Consumer<HttpRouting.Builder> alsoServed;

  /**
   * The port, held from {@link #create} until {@link #serve}'s listener is bound to it: a TCP
   * socket bound with SO_REUSEADDR that never listens. The kernel gives neither another process's
   * bind to port 0 nor an outgoing connection a port so bound, yet lets a listener that also asks
   * for SO_REUSEADDR bind beside it; so the port cannot be taken between reservation and serving
   * (closing a reservation before binding let another test JVM's connection take it).
   */
  private final java.nio.channels.SocketChannel reserved;

  private final int port;

  /** The wall clock, for the deadline a runtime is told. */
  private final InstantSource clock;

  /** The monotonic clock, shared with the instances, that hand-offs and answers are timed by. */
  private final Ticker ticker;

  private RuntimeApiServer(boolean verifyPeers, InstantSource clock, Ticker ticker) {
    this.clock = clock;
    this.ticker = ticker;
    this.verifier = verifyPeers ? PeerVerifier.forThisHost() : PeerVerifier.NONE;
    try {
      this.reserved = java.nio.channels.SocketChannel.open();
      reserved.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
      reserved.bind(new InetSocketAddress("0.0.0.0", 0));
      this.port = ((InetSocketAddress) reserved.getLocalAddress()).getPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("no free port for the Runtime API", e);
    }
  }

  /** Starts the server on a free port. */
  public static RuntimeApiServer start() {
    return create().serve(null);
  }

  /** Starts the server on a free port, telling time by {@code clock} and {@code ticker}. */
  public static RuntimeApiServer start(InstantSource clock, Ticker ticker) {
    return create(clock, ticker).serve(null);
  }

  /** For tests that speak to the server from their own process: no check of the caller's pid. */
  public static RuntimeApiServer startWithoutPeerChecks() {
    return new RuntimeApiServer(false, InstantSource.system(), Ticker.system()).serve(null);
  }

  /**
   * A server not yet listening, whose port is already known (the sandbox's firewall needs it before
   * the rest of Kiln, whose API this server also serves, exists): {@link #serve} starts it.
   */
  public static RuntimeApiServer create() {
    return create(InstantSource.system(), Ticker.system());
  }

  /** {@link #create()}, telling time by {@code clock} and {@code ticker}. */
  public static RuntimeApiServer create(InstantSource clock, Ticker ticker) {
    return new RuntimeApiServer(true, clock, ticker);
  }

  /** The monotonic clock the server's channels time hand-offs and answers by. */
  Ticker ticker() {
    return ticker;
  }

  /**
   * Starts listening on a free port, serving the Runtime and Extensions APIs and, when given,
   * {@code alsoServe}'s routes beside them: Kiln serves its Lambda API there too, so that a
   * function reaches the API at the one address its sandbox may reach ({@code
   * AWS_LAMBDA_RUNTIME_API}).
   */
  public RuntimeApiServer serve(Consumer<HttpRouting.Builder> alsoServe) {
    return serve(alsoServe, ClientTimeout.DEFAULT);
  }

  /**
   * As {@link #serve(Consumer)}, cutting off a client that stalls mid-request for {@code
   * clientTimeout} ({@link ClientTimeout}): a function reaches the Lambda API here, and a runtime
   * that hangs halfway through posting its response should not hold a connection forever either.
   */
  public synchronized RuntimeApiServer serve(
      Consumer<HttpRouting.Builder> alsoServe, java.time.Duration clientTimeout) {
    if (server != null) {
      throw new IllegalStateException("the Runtime API server is already serving");
    }
    this.alsoServed = alsoServe;
    var builder =
        WebServer.builder()
            .host("0.0.0.0")
            .port(port)
            .putListenerSocketOption(java.net.StandardSocketOptions.SO_REUSEADDR, true)
            // Kiln stops this server itself, after running invocations had their grace period
            .shutdownHook(false)
            .routing(this::routes);
    ClientTimeout.apply(builder, clientTimeout, ticker);
    this.server = builder.build().start();
    releaseReservation();
    if (!server.isRunning()) {
      // Helidon has logged why its listener could not bind
      throw new IllegalStateException("the Runtime API could not serve on port " + port);
    }
    return this;
  }

  public int port() {
    return port;
  }

  /**
   * Changes the limits on streamed responses (Lambda's are {@link #MAX_STREAMED_BYTES}, {@link
   * #STREAM_BURST_BYTES} at full speed, then {@link #STREAM_BYTES_PER_SECOND}): for tests, which
   * cannot stream 200 MB at 2 MB/s.
   */
  public RuntimeApiServer streamLimits(long maxBytes, long burstBytes, long bytesPerSecond) {
    this.streamLimit = maxBytes;
    this.streamBurst = burstBytes;
    this.streamRate = bytesPerSecond;
    return this;
  }

  /** Opens a channel for a new instance, on a loopback address of its own. */
  public RuntimeChannel open(String instanceId, Supplier<java.util.Set<Long>> pids) {
    while (true) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      String address =
          "127." + r.nextInt(1, 255) + "." + r.nextInt(0, 256) + "." + r.nextInt(1, 255);
      RuntimeChannel channel = new RuntimeChannel(instanceId, address, pids, this);
      if (byAddress.putIfAbsent(address, channel) == null) {
        return channel;
      }
    }
  }

  /**
   * Opens a channel for an instance in a network namespace of its own, on the host's address of its
   * veth pair. A call must come from the instance's end of the pair: no other process can complete
   * a TCP handshake from that address, since the replies are routed into the instance's namespace,
   * and the host's firewall keeps other instances off the host's end.
   */
  public RuntimeChannel openIsolated(
      String instanceId, String hostAddress, String instanceAddress) {
    RuntimeChannel channel =
        new RuntimeChannel(instanceId, hostAddress, null, instanceAddress, this);
    if (byAddress.putIfAbsent(hostAddress, channel) != null) {
      throw new IllegalStateException("an instance is already served at " + hostAddress);
    }
    return channel;
  }

  void unregister(RuntimeChannel channel) {
    byAddress.remove(channel.address(), channel);
  }

  @Override
  public void close() {
    WebServer s = server;
    if (s != null) {
      s.stop();
    }
    releaseReservation();
  }

  private void releaseReservation() {
    try {
      reserved.close();
    } catch (java.io.IOException e) {
      // closed already: nothing to give back
    }
  }

  private void routes(HttpRouting.Builder routing) {
    routing
        .get(BASE + "/invocation/next", this::next)
        .post(BASE + "/invocation/{id}/response", this::response)
        .post(BASE + "/invocation/{id}/error", this::error)
        .post(BASE + "/init/error", this::initError)
        .post(EXTENSION + "/register", this::registerExtension)
        .get(EXTENSION + "/event/next", this::nextExtensionEvent)
        .post(EXTENSION + "/init/error", this::extensionError)
        .post(EXTENSION + "/exit/error", this::extensionError)
        .any(
            (req, res) -> {
              String path = req.path().path();
              if (alsoServed != null
                  && !path.startsWith("/2018-06-01/")
                  && !path.startsWith("/2020-01-01/")) {
                res.next(); // the other API's
                return;
              }
              sendError(
                  res,
                  Status.NOT_FOUND_404,
                  "InvalidRequest",
                  "Kiln's Runtime API has no route " + req.prologue().method() + " " + path);
            });
    if (alsoServed != null) {
      alsoServed.accept(routing);
    }
  }

  private Optional<RuntimeChannel> caller(ServerRequest req, ServerResponse res) {
    String local = ((InetSocketAddress) req.localPeer().address()).getAddress().getHostAddress();
    RuntimeChannel channel = byAddress.get(local);
    if (channel == null) {
      sendError(res, Status.FORBIDDEN_403, "AccessDenied", "No instance is served at " + local);
      return Optional.empty();
    }
    InetSocketAddress remote = (InetSocketAddress) req.remotePeer().address();
    int connection = remote.getPort();
    // with a network of its own, the instance is known by its address; else by its processes
    boolean trusted =
        channel.peerAddress().isPresent()
            ? channel.peerAddress().get().equals(remote.getAddress().getHostAddress())
            : channel.verifiedPorts().contains(connection)
                || verifier.belongsTo(
                    remote, (InetSocketAddress) req.localPeer().address(), channel.pids());
    if (!trusted) {
      LOG.warn("refused Runtime API call to instance {} from {}", channel.instanceId(), remote);
      sendError(
          res,
          Status.FORBIDDEN_403,
          "AccessDenied",
          "The caller is not a process of the instance served at " + local);
      return Optional.empty();
    }
    if (channel.peerAddress().isEmpty()) {
      channel.verifiedPorts().add(connection);
    }
    return Optional.of(channel);
  }

  private void next(ServerRequest req, ServerResponse res) throws InterruptedException {
    Optional<RuntimeChannel> found = caller(req, res);
    if (found.isEmpty()) {
      return;
    }
    Optional<RuntimeChannel.Submission> taken = found.get().take();
    if (taken.isEmpty()) {
      sendError(res, Status.GONE_410, "InstanceShutdown", "This instance is shutting down");
      return;
    }
    RuntimeEvent event = taken.get().event();
    long deadline = clock.millis() + event.timeoutMillis();
    res.status(Status.OK_200)
        .header("Lambda-Runtime-Aws-Request-Id", event.requestId())
        .header("Lambda-Runtime-Deadline-Ms", Long.toString(deadline))
        .header("Lambda-Runtime-Invoked-Function-Arn", event.invokedFunctionArn())
        .header("Lambda-Runtime-Trace-Id", event.traceId())
        .header(HeaderNames.CONTENT_TYPE, "application/json");
    event.clientContext().ifPresent(c -> res.header("Lambda-Runtime-Client-Context", c));
    event.cognitoIdentity().ifPresent(c -> res.header("Lambda-Runtime-Cognito-Identity", c));
    found.get().extensions().invoke(event, deadline);
    taken.get().handoff().complete(new RuntimeChannel.Handoff(deadline, ticker.read()));
    res.send(event.payload());
  }

  private void response(ServerRequest req, ServerResponse res) throws IOException {
    Optional<RuntimeChannel.Submission> s = submission(req, res);
    if (s.isEmpty()) {
      return;
    }
    if (req.headers()
        .first(HeaderNames.create(RESPONSE_MODE))
        .map(m -> m.equalsIgnoreCase("streaming"))
        .orElse(false)) {
      stream(req, res, s.get());
      return;
    }
    Optional<byte[]> body = readLimited(req, MAX_RESPONSE_BYTES);
    if (body.isEmpty()) {
      long size = req.headers().contentLength().orElse(MAX_RESPONSE_BYTES + 1L);
      s.get().answer().complete(new RuntimeAnswer.ResponseTooLarge(size));
      sendError(
          res,
          Status.REQUEST_ENTITY_TOO_LARGE_413,
          "RequestEntityTooLarge",
          "Exceeded maximum allowed payload size (" + MAX_RESPONSE_BYTES + " bytes).");
      return;
    }
    s.get().answer().complete(new RuntimeAnswer.Response(body.get()));
    accepted(res);
  }

  /**
   * A streamed response: the answer is given at once, as a {@link ResponseStream} that the body's
   * chunks are written to as they arrive. Past {@code streamBurst} bytes the reading is paced to
   * {@code streamRate}, as Lambda's bandwidth cap paces it; past {@code streamLimit} the stream
   * ends with {@code Function.ResponseSizeTooLarge} and the runtime is told 413.
   */
  private void stream(ServerRequest req, ServerResponse res, RuntimeChannel.Submission s) {
    String contentType =
        req.headers().first(HeaderNames.CONTENT_TYPE).orElse("application/octet-stream");
    ResponseStream stream = new ResponseStream(contentType);
    s.answer().complete(new RuntimeAnswer.Streaming(stream));
    long limit = streamLimit;
    long burst = streamBurst;
    long rate = streamRate;
    long total = 0;
    long pacedFrom = -1;
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = req.content().inputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (n == 0) {
          continue;
        }
        if (total + n > limit) {
          stream.fail(
              "Function.ResponseSizeTooLarge",
              errorDocument(
                  "Function.ResponseSizeTooLarge",
                  "Response payload size exceeded maximum allowed payload size ("
                      + limit
                      + " bytes)."));
          sendError(
              res,
              Status.REQUEST_ENTITY_TOO_LARGE_413,
              "RequestEntityTooLarge",
              "Exceeded maximum allowed payload size (" + limit + " bytes).");
          return;
        }
        total += n;
        stream.write(java.util.Arrays.copyOf(buffer, n));
        if (total > burst) {
          if (pacedFrom < 0) {
            pacedFrom = ticker.read();
          }
          long due = pacedFrom + (total - burst) * 1_000_000_000L / rate;
          long wait = due - ticker.read();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stream.fail(
          "Runtime.TruncatedResponse",
          errorDocument("Runtime.TruncatedResponse", "Kiln stopped reading the response"));
      return;
    } catch (IOException | RuntimeException e) {
      // Helidon 4.5 refuses trailers after the last chunk, and drops them: they are read from
      // what this connection's thread read last (RecentBytes)
      java.util.Map<String, String> trailers = RecentBytes.trailers();
      String type = trailers.get("lambda-runtime-function-error-type");
      if (type != null) {
        stream.fail(type, errorBody(trailers.get("lambda-runtime-function-error-body"), type));
        // what is left of the request cannot be read: answer, and close the connection
        res.header(io.helidon.http.HeaderValues.CONNECTION_CLOSE);
        accepted(res);
        return;
      }
      stream.fail(
          "Runtime.TruncatedResponse",
          errorDocument(
              "Runtime.TruncatedResponse",
              "The runtime's streamed response broke off after "
                  + total
                  + " bytes: "
                  + e.getMessage()));
      return;
    }
    stream.complete();
    accepted(res);
  }

  /** {@code Lambda-Runtime-Function-Error-Body}: base64 of the error document. */
  private static byte[] errorBody(String base64, String type) {
    if (base64 == null || base64.isBlank()) {
      return errorDocument(type, "The function's streamed response ended with " + type);
    }
    try {
      return java.util.Base64.getDecoder().decode(base64.trim());
    } catch (IllegalArgumentException e) {
      return base64.getBytes(StandardCharsets.UTF_8);
    }
  }

  private static byte[] errorDocument(String type, String message) {
    return JSON.createObjectNode()
        .put("errorMessage", message)
        .put("errorType", type)
        .toString()
        .getBytes(StandardCharsets.UTF_8);
  }

  private void error(ServerRequest req, ServerResponse res) throws IOException {
    Optional<RuntimeChannel.Submission> s = submission(req, res);
    if (s.isEmpty()) {
      return;
    }
    byte[] body = readLimited(req, MAX_RESPONSE_BYTES).orElse(new byte[0]);
    s.get().answer().complete(new RuntimeAnswer.FunctionError(errorType(req), body));
    accepted(res);
  }

  private void initError(ServerRequest req, ServerResponse res) throws IOException {
    Optional<RuntimeChannel> channel = caller(req, res);
    if (channel.isEmpty()) {
      return;
    }
    byte[] body = readLimited(req, MAX_RESPONSE_BYTES).orElse(new byte[0]);
    channel.get().initFailed(new RuntimeAnswer.InitError(errorType(req), body));
    accepted(res);
  }

  // ---- Extensions API ----------------------------------------------------------------------

  private void registerExtension(ServerRequest req, ServerResponse res) throws IOException {
    Optional<RuntimeChannel> channel = caller(req, res);
    if (channel.isEmpty()) {
      return;
    }
    java.util.List<String> events = new java.util.ArrayList<>();
    try {
      byte[] body = readLimited(req, 64 * 1024).orElse(new byte[0]);
      com.fasterxml.jackson.databind.JsonNode doc = JSON.readTree(body);
      if (doc == null || !doc.isObject()) {
        sendError(
            res,
            Status.BAD_REQUEST_400,
            "InvalidRequest",
            "The registration body must be a JSON object such as {\"events\": [\"INVOKE\","
                + " \"SHUTDOWN\"]}");
        return;
      }
      // null or absent is no events, as Lambda takes it: AWS's Go library registers that way
      // (lambda.WithEnableSIGTERM) to be sent SIGTERM, and then waits in next forever
      com.fasterxml.jackson.databind.JsonNode wanted = doc.path("events");
      if (!wanted.isMissingNode() && !wanted.isNull() && !wanted.isArray()) {
        sendError(
            res,
            Status.BAD_REQUEST_400,
            "InvalidRequest",
            "events must be an array of event types (INVOKE, SHUTDOWN) or null, got "
                + wanted.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
        return;
      }
      wanted.forEach(e -> events.add(e.asText()));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      sendError(res, Status.BAD_REQUEST_400, "InvalidRequest", "The registration body is not JSON");
      return;
    }
    String name = req.headers().first(HeaderNames.create("Lambda-Extension-Name")).orElse(null);
    Extensions.Extension extension;
    try {
      extension = channel.get().extensions().register(name, events);
    } catch (Extensions.Refusal r) {
      sendError(res, Status.create(r.status), r.errorType, r.getMessage());
      return;
    }
    boolean wantsAccount =
        req.headers()
            .first(HeaderNames.create("Lambda-Extension-Accept-Feature"))
            .map(f -> f.contains("accountId"))
            .orElse(false);
    RuntimeChannel.FunctionInfo info =
        channel.get().functionInfo().orElse(new RuntimeChannel.FunctionInfo("", "", "", ""));
    res.status(Status.OK_200)
        .header(EXTENSION_ID, extension.id)
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send(
            Extensions.registrationBody(
                info.functionName(),
                info.functionVersion(),
                info.handler(),
                wantsAccount ? Optional.of(info.accountId()) : Optional.empty()));
  }

  private void nextExtensionEvent(ServerRequest req, ServerResponse res)
      throws InterruptedException {
    Optional<CallingExtension> caller = extension(req, res);
    if (caller.isEmpty()) {
      return;
    }
    Optional<byte[]> event = caller.get().channel().extensions().next(caller.get().extension());
    if (event.isEmpty()) {
      sendError(res, Status.GONE_410, "InstanceShutdown", "This instance is shutting down");
      return;
    }
    res.status(Status.OK_200)
        .header("Lambda-Extension-Event-Identifier", java.util.UUID.randomUUID().toString())
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send(event.get());
  }

  /** {@code init/error} and {@code exit/error}: the instance is of no further use. */
  private void extensionError(ServerRequest req, ServerResponse res) throws IOException {
    Optional<CallingExtension> caller = extension(req, res);
    if (caller.isEmpty()) {
      return;
    }
    String type =
        req.headers()
            .first(HeaderNames.create("Lambda-Extension-Function-Error-Type"))
            .orElse("Extension.UnknownReason");
    byte[] body = readLimited(req, MAX_RESPONSE_BYTES).orElse(new byte[0]);
    if (body.length == 0) {
      body =
          JSON.createObjectNode()
              .put("errorMessage", "Extension " + caller.get().extension().name + " failed")
              .put("errorType", type)
              .toString()
              .getBytes(StandardCharsets.UTF_8);
    }
    caller.get().channel().extensionFailed(new RuntimeAnswer.InitError(type, body));
    accepted(res);
  }

  /** An extension calling, and the instance's channel it was verified against. */
  private record CallingExtension(RuntimeChannel channel, Extensions.Extension extension) {}

  /** The registered extension a request names in its identifier header, after the caller check. */
  private Optional<CallingExtension> extension(ServerRequest req, ServerResponse res) {
    Optional<RuntimeChannel> channel = caller(req, res);
    if (channel.isEmpty()) {
      return Optional.empty();
    }
    Optional<String> id = req.headers().first(HeaderNames.create(EXTENSION_ID));
    if (id.isEmpty()) {
      sendError(
          res,
          Status.FORBIDDEN_403,
          "Extension.MissingExtensionIdentifier",
          "Missing Lambda-Extension-Identifier header");
      return Optional.empty();
    }
    Optional<Extensions.Extension> extension = channel.get().extensions().byId(id.get());
    if (extension.isEmpty()) {
      sendError(
          res,
          Status.FORBIDDEN_403,
          "Extension.InvalidExtensionIdentifier",
          "No extension is registered with identifier " + id.get());
    }
    return extension.map(e -> new CallingExtension(channel.get(), e));
  }

  private Optional<RuntimeChannel.Submission> submission(ServerRequest req, ServerResponse res) {
    Optional<RuntimeChannel> channel = caller(req, res);
    if (channel.isEmpty()) {
      return Optional.empty();
    }
    String id = req.path().pathParameters().get("id");
    Optional<RuntimeChannel.Submission> s = channel.get().current(id);
    if (s.isEmpty() || s.get().answer().isDone()) {
      sendError(
          res,
          Status.BAD_REQUEST_400,
          "InvalidRequestID",
          "Invalid request ID: " + id + " is not the invocation this instance is working on");
      return Optional.empty();
    }
    return s;
  }

  private static String errorType(ServerRequest req) {
    return req.headers()
        .first(HeaderNames.create("Lambda-Runtime-Function-Error-Type"))
        .orElse("Unhandled");
  }

  /** The body, or empty if it is longer than {@code limit} (then it is read no further). */
  private static Optional<byte[]> readLimited(ServerRequest req, int limit) throws IOException {
    if (req.headers().contentLength().orElse(0) > limit) {
      return Optional.empty();
    }
    try (InputStream in = req.content().inputStream()) {
      byte[] bytes = in.readNBytes(limit + 1);
      if (bytes.length > limit) {
        return Optional.empty();
      }
      return Optional.of(bytes);
    }
  }

  private static void accepted(ServerResponse res) {
    res.status(Status.ACCEPTED_202)
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send("{\"status\":\"OK\"}".getBytes(StandardCharsets.UTF_8));
  }

  private static void sendError(ServerResponse res, Status status, String type, String message) {
    ObjectNode body = JSON.createObjectNode().put("errorMessage", message).put("errorType", type);
    res.status(status)
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send(body.toString().getBytes(StandardCharsets.UTF_8));
  }
}
