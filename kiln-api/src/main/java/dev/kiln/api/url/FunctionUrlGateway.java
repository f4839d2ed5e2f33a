package dev.kiln.api.url;

import dev.kiln.api.auth.AccessControl;
import dev.kiln.api.auth.ApiOperations;
import dev.kiln.api.auth.Caller;
import dev.kiln.api.auth.FormEncoding;
import dev.kiln.api.auth.SigV4Verifier;
import dev.kiln.invoke.FunctionUrls;
import dev.kiln.invoke.InvocationResult;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.InvokeRequest;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Serves function URLs on Kiln's own port: the first route of the server, which takes every request
 * whose Host (or path) names a function URL ({@link UrlAddress}) and answers it as Lambda's URL
 * endpoint does, never passing it on to the AWS APIs (whose signature gate lets such requests
 * through to it); every other request goes on to the next route.
 *
 * <p>One request: find the URL ({@code 404} if none); answer a CORS preflight from the URL's
 * configuration without invoking ({@link UrlCors}); read the body (over 6 MB: {@code 413});
 * authorise ({@code 403 {"Message":"Forbidden"}} otherwise): for {@code NONE}, the function's
 * resource-based policy must grant {@code lambda:InvokeFunctionUrl} (for auth type NONE) and {@code
 * lambda:InvokeFunction}, as function URLs made since October 2025 require; for {@code AWS_IAM}, a
 * SigV4 signature for service {@code lambda} whose caller is allowed both actions by its identity
 * policies or the function's; then invoke synchronously through the same {@link Invocations} port
 * as Invoke (admission, concurrency, logs, metrics, metering) with the payload format 2.0 event
 * ({@link UrlEvent}), and map the result ({@link UrlAnswer}).
 *
 * <p>Stateless; safe for any number of request threads.
 */
public final class FunctionUrlGateway implements Handler {

  /** The largest request a URL takes: Lambda's synchronous payload limit. */
  static final int MAX_REQUEST = 6 * 1024 * 1024;

  /** Whether a function's resource-based policy lets {@code principal} call its URL. */
  @FunctionalInterface
  public interface UrlGrants {
    boolean allows(FunctionRef function, String principalArn, String authType);
  }

  private final java.util.function.Function<String, Optional<FunctionUrls.Target>> urls;
  private final Invocations invocations;
  private final Optional<SigV4Verifier> verifier;
  private final AccessControl access;
  private final UrlGrants grants;
  private final Account account;
  private final InstantSource clock;

  public FunctionUrlGateway(
      java.util.function.Function<String, Optional<FunctionUrls.Target>> urls,
      Invocations invocations,
      Optional<SigV4Verifier> verifier,
      AccessControl access,
      UrlGrants grants,
      Account account,
      InstantSource clock) {
    this.urls = urls;
    this.invocations = invocations;
    this.verifier = verifier;
    this.access = access;
    this.grants = grants;
    this.account = account;
    this.clock = clock;
  }

  @Override
  public void handle(ServerRequest req, ServerResponse res) {
    Optional<UrlAddress.Parsed> address = UrlAddress.parse(req.authority(), req.path().rawPath());
    if (address.isEmpty()) {
      res.next();
      return;
    }
    String requestId = UUID.randomUUID().toString();
    UrlAnswer.Http answer;
    Optional<FunctionUrls.Target> target = urls.apply(address.get().urlId());
    try {
      answer =
          target.isEmpty()
              ? UrlAnswer.failure(404, "Not Found")
              : serve(req, res, address.get(), target.get(), requestId);
      if (answer == null) {
        return; // streamed
      }
    } catch (RuntimeException e) {
      answer = UrlAnswer.failure(502, "Internal Server Error");
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>(answer.headers());
    Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
    if (target.isPresent()
        && target.get().cors().isPresent()
        && origin.isPresent()
        && !req.prologue().method().text().equals("OPTIONS")) {
      headers.addAll(UrlCors.response(target.get().cors().get(), origin.get()));
    }
    res.status(answer.status());
    setHeaders(res, headers);
    res.header("x-amzn-RequestId", requestId);
    res.send(answer.body());
  }

  private UrlAnswer.Http serve(
      ServerRequest req,
      ServerResponse res,
      UrlAddress.Parsed address,
      FunctionUrls.Target target,
      String requestId) {
    String method = req.prologue().method().text();
    Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
    if (target.cors().isPresent()
        && UrlCors.isPreflight(
            method,
            origin,
            req.headers().first(HeaderNames.create("Access-Control-Request-Method")))) {
      return new UrlAnswer.Http(
          200,
          UrlCors.preflight(
              target.cors().get(),
              origin.get(),
              req.headers().first(HeaderNames.create("Access-Control-Request-Method")).get(),
              req.headers().first(HeaderNames.create("Access-Control-Request-Headers"))),
          new byte[0]);
    }
    byte[] body;
    try (InputStream in = req.content().inputStream()) {
      body = in.readNBytes(MAX_REQUEST + 1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (body.length > MAX_REQUEST) {
      return UrlAnswer.failure(413, "Request Entity Too Large");
    }
    FunctionRef function = new FunctionRef(target.functionName(), target.qualifier());
    Optional<UrlEvent.Iam> iam;
    if (target.authType().equals("AWS_IAM")) {
      Optional<Optional<UrlEvent.Iam>> signed = signedCaller(req, method, body, target, function);
      if (signed.isEmpty()) {
        return UrlAnswer.failure(403, "Forbidden");
      }
      iam = signed.get();
    } else {
      if (!grants.allows(function, "*", "NONE")) {
        return UrlAnswer.failure(403, "Forbidden");
      }
      iam = Optional.empty();
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    for (Header h : req.headers()) {
      for (String v : h.allValues()) {
        headers.add(Map.entry(h.name(), v));
      }
    }
    String sourceIp =
        req.remotePeer().address() instanceof InetSocketAddress a
            ? a.getAddress().getHostAddress()
            : "127.0.0.1";
    UrlEvent.Request request =
        new UrlEvent.Request(
            method,
            address.path(),
            req.query().rawValue(),
            headers,
            body,
            "HTTP/1.1",
            sourceIp,
            address.domainName(),
            clock.instant());
    byte[] event = UrlEvent.of(request, target.urlId(), account.accountId(), requestId, iam);
    if (event.length > MAX_REQUEST) {
      return UrlAnswer.failure(413, "Request Entity Too Large");
    }
    InvocationResult result;
    try {
      if (target.invokeMode().equals("RESPONSE_STREAM")) {
        return stream(
            res,
            invocations.stream(InvokeRequest.sync(function, event)),
            target,
            origin,
            requestId);
      }
      result = invocations.run(InvokeRequest.sync(function, event));
    } catch (LambdaError e) {
      return switch (e.status()) {
        case 429 -> UrlAnswer.failure(429, "Too Many Requests");
        case 413 -> UrlAnswer.failure(413, "Request Entity Too Large");
        default -> UrlAnswer.failure(502, "Internal Server Error");
      };
    }
    if (result instanceof InvocationResult.FunctionError) {
      return UrlAnswer.failure(502, "Internal Server Error");
    }
    return UrlAnswer.ofResult(result.payload());
  }

  /**
   * The caller of an AWS_IAM URL, if its signature holds and it may invoke the URL; the inner value
   * is what {@code requestContext.authorizer.iam} says (empty when Kiln runs without
   * authentication, which lets every request through).
   */
  private Optional<Optional<UrlEvent.Iam>> signedCaller(
      ServerRequest req,
      String method,
      byte[] body,
      FunctionUrls.Target target,
      FunctionRef function) {
    if (verifier.isEmpty()) {
      return Optional.of(Optional.empty());
    }
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (Header h : req.headers()) {
      headers
          .computeIfAbsent(h.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .addAll(h.allValues());
    }
    Caller caller;
    try {
      caller =
          verifier
              .get()
              .verify(
                  new SigV4Verifier.Request(
                      method,
                      req.path().rawPath(),
                      FormEncoding.decode(req.query().rawValue()),
                      headers,
                      body),
                  "lambda");
    } catch (LambdaError unsigned) {
      return Optional.empty();
    }
    Map<String, List<String>> context = new LinkedHashMap<>();
    context.put("lambda:FunctionUrlAuthType", List.of("AWS_IAM"));
    context.put("lambda:InvokedViaFunctionUrl", List.of("true"));
    for (String action : List.of("lambda:InvokeFunctionUrl", "lambda:InvokeFunction")) {
      ApiOperations.Operation op =
          new ApiOperations.Operation(
              action.substring("lambda:".length()), action, target.functionArn(), Optional.empty());
      boolean allowed =
          access.denial(caller, op, context).isEmpty()
              || grants.allows(function, caller.arn(), "AWS_IAM")
              || grants.allows(function, caller.principalArn(), "AWS_IAM");
      if (!allowed) {
        return Optional.empty();
      }
    }
    String accessKey =
        switch (caller) {
          case Caller.User u -> u.key().accessKeyId();
          case Caller.AssumedRole r -> r.session().key().accessKeyId();
        };
    return Optional.of(
        Optional.of(
            new UrlEvent.Iam(
                accessKey, account.accountId(), caller.userId(), caller.arn(), caller.userId())));
  }

  /** How long a streamed answer waits for its function's next chunk. */
  private static final java.time.Duration PATIENCE = java.time.Duration.ofMinutes(16);

  /** The content type of a stream that begins with an HTTP prelude (HttpResponseStream.from). */
  static final String HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";

  /**
   * Answers a RESPONSE_STREAM URL as its function writes: the status and headers from the stream's
   * prelude (JSON, then eight NUL bytes) when it has one, else 200 with the stream's content type;
   * then every chunk as it comes, flushed. Returns null: the answer is sent.
   */
  private UrlAnswer.Http stream(
      ServerResponse res,
      dev.kiln.invoke.InvocationStream invocation,
      FunctionUrls.Target target,
      Optional<String> origin,
      String requestId) {
    dev.kiln.runtimeapi.ResponseStream body = invocation.body();
    try {
      int status = 200;
      List<Map.Entry<String, String>> headers = new ArrayList<>();
      java.io.ByteArrayOutputStream first = new java.io.ByteArrayOutputStream();
      Optional<byte[]> opening = body.next(PATIENCE);
      if (opening.isEmpty()) {
        // nothing streamed: a failure before the first byte answers as a buffered URL's does
        if (body.end().join().failed()) {
          return UrlAnswer.failure(502, "Internal Server Error");
        }
      }
      if (body.contentType().equals(HTTP_INTEGRATION)) {
        java.io.ByteArrayOutputStream prelude = new java.io.ByteArrayOutputStream();
        int zeros = 0;
        boolean done = false;
        Optional<byte[]> chunk = opening;
        while (!done && chunk.isPresent()) {
          byte[] c = chunk.get();
          for (int i = 0; i < c.length; i++) {
            if (done) {
              first.write(c, i, c.length - i);
              break;
            }
            prelude.write(c[i]);
            zeros = c[i] == 0 ? zeros + 1 : 0;
            done = zeros == 8;
          }
          if (!done) {
            chunk = body.next(PATIENCE);
          }
        }
        if (!done) {
          return UrlAnswer.failure(502, "Internal Server Error");
        }
        byte[] p = prelude.toByteArray();
        com.fasterxml.jackson.databind.JsonNode meta =
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(
                    new String(
                        p, 0, Math.max(0, p.length - 8), java.nio.charset.StandardCharsets.UTF_8));
        status = meta.path("statusCode").asInt(200);
        meta.path("headers")
            .properties()
            .forEach(e -> headers.add(Map.entry(e.getKey(), e.getValue().asText())));
        for (com.fasterxml.jackson.databind.JsonNode c : meta.path("cookies")) {
          headers.add(Map.entry("Set-Cookie", c.asText()));
        }
      } else {
        headers.add(Map.entry("Content-Type", body.contentType()));
        opening.ifPresent(first::writeBytes);
      }
      if (target.cors().isPresent() && origin.isPresent()) {
        headers.addAll(UrlCors.response(target.cors().get(), origin.get()));
      }
      res.status(status);
      setHeaders(res, headers);
      res.header("x-amzn-RequestId", requestId);
      try (java.io.OutputStream out = res.outputStream()) {
        if (first.size() > 0) {
          out.write(first.toByteArray());
          out.flush();
        }
        while (true) {
          Optional<byte[]> chunk = body.next(PATIENCE);
          if (chunk.isEmpty()) {
            break;
          }
          out.write(chunk.get());
          out.flush();
        }
      }
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      body.cancel();
      throw new IllegalStateException(e);
    } catch (IOException | RuntimeException e) {
      body.cancel();
      if (res.isSent()) {
        return null;
      }
      throw e instanceof RuntimeException r ? r : new UncheckedIOException((IOException) e);
    }
  }

  /**
   * Sets {@code headers}; a name may repeat (Set-Cookie), which Helidon's header(name, value) would
   * not keep.
   */
  private static void setHeaders(ServerResponse res, List<Map.Entry<String, String>> headers) {
    Map<String, List<String>> byName = new LinkedHashMap<>();
    for (Map.Entry<String, String> h : headers) {
      byName.computeIfAbsent(h.getKey(), k -> new ArrayList<>()).add(h.getValue());
    }
    byName.forEach(
        (name, values) -> res.header(HeaderNames.create(name), values.toArray(String[]::new)));
  }
}
