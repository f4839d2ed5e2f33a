package dev.kiln.api.auth;

import dev.kiln.model.LambdaError;
import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * The gate every API request passes before it reaches an operation: its Signature Version 4 is
 * checked ({@link SigV4Verifier}) and its key's role must allow the operation.
 *
 * <p>Checking the signature needs the body's hash, so the gate reads the body (up to the largest
 * any operation accepts) and keeps it in the request's context, where {@link #body} finds it for
 * the operation; a body is never read twice from the socket.
 *
 * <p>Outside the gate: {@code GET /metrics} (Prometheus scrapes without AWS credentials; bind Kiln
 * to a private address or put it behind a proxy to keep it private), {@code GET /health} and {@code
 * /ping} (load balancers' checks, which say only whether Kiln serves) and the code download links
 * GetFunction hands out, which carry a signature of their own ({@link CodeLinks}), as S3's
 * presigned URLs do. With {@code --insecure-no-auth} the gate lets everything through.
 */
public final class RequestAuthentication implements Filter {

  private static final String BODY = "kiln.request.body";
  private static final String KEY = "kiln.request.key";

  private final Optional<SigV4Verifier> verifier;
  private final int maxBody;
  private final dev.kiln.model.Account account;
  private final BiConsumer<RoutingResponse, LambdaError> errors;
  private final InvokeGrants grants;

  /** Whether a function's resource-based policy lets a key with no rights of its own invoke it. */
  @FunctionalInterface
  public interface InvokeGrants {
    boolean allows(String principalArn, String function, Optional<String> qualifier);
  }

  /**
   * @param verifier empty when authentication is off
   * @param maxBody the largest body any operation accepts
   * @param errors writes an error in the API's shape
   */
  public RequestAuthentication(
      Optional<SigV4Verifier> verifier,
      int maxBody,
      dev.kiln.model.Account account,
      BiConsumer<RoutingResponse, LambdaError> errors,
      InvokeGrants grants) {
    this.grants = grants;
    this.verifier = verifier;
    this.maxBody = maxBody;
    this.account = account;
    this.errors = errors;
  }

  @Override
  public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
    String path = req.path().rawPath();
    if (verifier.isEmpty()
        || path.equals("/metrics")
        || path.equals("/health")
        || path.equals("/ping")
        || path.startsWith(CodeLinks.PATH + "/")
        // the Runtime and Extensions APIs, when this gate guards the server that also serves them
        || path.startsWith("/2018-06-01/")
        || path.startsWith("/2020-01-01/")) {
      chain.proceed();
      return;
    }
    try {
      byte[] body = readBody(req);
      req.context().register(BODY, body);
      String target = req.headers().first(HeaderNames.create("X-Amz-Target")).orElse("");
      String service = target.startsWith("Logs_") ? "logs" : "lambda";
      AccessKeys.Key key =
          verifier
              .get()
              .verify(
                  new SigV4Verifier.Request(
                      req.prologue().method().text(),
                      path,
                      query(req.query().rawValue()),
                      headers(req),
                      body),
                  service);
      authorize(key, req.prologue().method().text(), path, req.query().rawValue(), target, body);
      req.context().register(KEY, key);
    } catch (LambdaError e) {
      errors.accept(res, e);
      return;
    }
    chain.proceed();
  }

  /** The body the gate read, if it read it; empty when the operation must read it itself. */
  public static Optional<byte[]> body(ServerRequest req) {
    return req.context().get(BODY, byte[].class);
  }

  /** The key that signed the request, when authentication is on. */
  public static Optional<AccessKeys.Key> key(ServerRequest req) {
    return req.context().get(KEY, AccessKeys.Key.class);
  }

  /**
   * An {@code invoke} key may invoke functions and nothing else; a {@code policy} key only the
   * functions whose policy grants it. A refusal names the IAM action and the resource as AWS's does
   * ({@link ApiOperations}).
   */
  private void authorize(
      AccessKeys.Key key, String method, String path, String rawQuery, String target, byte[] body) {
    if (key.role() == AccessKeys.Role.ADMIN) {
      return;
    }
    List<Map.Entry<String, String>> query = query(rawQuery);
    Optional<ApiOperations.Operation> operation =
        target.startsWith("Logs_")
            ? Optional.of(
                ApiOperations.logs(target.substring(target.indexOf('.') + 1), body, account))
            : ApiOperations.lambda(method, path, query, body, account);
    boolean invoke =
        operation
            .map(ApiOperations.Operation::action)
            .filter(a -> a.equals("lambda:InvokeFunction") || a.equals("lambda:InvokeAsync"))
            .isPresent();
    String principal = "arn:aws:iam::" + account.accountId() + ":user/" + key.accessKeyId();
    if (invoke && key.role() == AccessKeys.Role.POLICY) {
      ApiOperations.Operation op = operation.get();
      if (!grants.allows(principal, op.function().orElseThrow(), first(query, "Qualifier"))) {
        throw new LambdaError(
            "AccessDeniedException",
            403,
            "User: "
                + principal
                + " is not authorized to perform: "
                + op.action()
                + " on resource: "
                + op.resource()
                + " because no resource-based policy allows the "
                + op.action()
                + " action");
      }
      return;
    }
    if (!invoke) {
      String may =
          key.role() == AccessKeys.Role.POLICY
              ? "which may only invoke the functions whose resource-based policy allows it"
              : "which may only invoke functions";
      String denied =
          operation
              .map(
                  op ->
                      op.action()
                          + " on resource: "
                          + op.resource()
                          + " because no identity-based policy allows the "
                          + op.action()
                          + " action")
              // a route no operation has: Kiln answers it as unknown to whoever may call it
              .orElse(method + " " + path + ", which is no operation of the Lambda API,");
      throw new LambdaError(
          "AccessDeniedException",
          403,
          "User: "
              + principal
              + " is not authorized to perform: "
              + denied
              + " (the key's role is "
              + key.role().wire()
              + ", "
              + may
              + ")");
    }
  }

  private static Optional<String> first(List<Map.Entry<String, String>> query, String name) {
    return query.stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue).findFirst();
  }

  private byte[] readBody(RoutingRequest req) {
    if (req.headers().contentLength().orElse(0) > maxBody) {
      throw tooLarge(req);
    }
    if (!req.content().hasEntity()) {
      return new byte[0];
    }
    try (InputStream in = req.content().inputStream()) {
      byte[] bytes = in.readNBytes(maxBody + 1);
      if (bytes.length > maxBody) {
        throw tooLarge(req);
      }
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** AWS's words, which name the operation: only those that take a package can be this big. */
  private LambdaError tooLarge(RoutingRequest req) {
    String method = req.prologue().method().text();
    String path = req.path().rawPath();
    String operation =
        ApiOperations.lambda(method, path, query(req.query().rawValue()), new byte[0], account)
            // AWS's message names the action: "for the InvokeFunction operation"
            .map(op -> op.action().substring(op.action().indexOf(':') + 1))
            .orElse(method + " " + path);
    return LambdaError.requestEntityTooLarge(
        "Request must be smaller than " + maxBody + " bytes for the " + operation + " operation");
  }

  /** The query's parameters, decoded, in the order sent (the signature covers all of them). */
  static List<Map.Entry<String, String>> query(String raw) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      out.add(new AbstractMap.SimpleEntry<>(decode(name), decode(value)));
    }
    return out;
  }

  private static String decode(String s) {
    try {
      // a literal '+' arrives encoded (%2B) from every SDK; an unencoded one is a space
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw LambdaError.invalidParameter("The query string is not well formed: '" + s + "'");
    }
  }

  private static Map<String, List<String>> headers(RoutingRequest req) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Header h : req.headers()) {
      out.computeIfAbsent(h.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .addAll(h.allValues());
    }
    return out;
  }
}
