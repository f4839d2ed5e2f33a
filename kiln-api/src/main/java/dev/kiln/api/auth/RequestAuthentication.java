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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * The gate every API request passes before it reaches an operation: its Signature Version 4 is
 * checked ({@link SigV4Verifier}), which says who the caller is ({@link Caller}), and the caller's
 * policies must allow the operation ({@link AccessControl}, with the IAM action and resource that
 * {@link ApiOperations} names).
 *
 * <p>Checking the signature needs the body's hash, so the gate reads the body (up to the largest
 * any operation accepts) and keeps it in the request's context, where {@link #body} finds it for
 * the operation; a body is never read twice from the socket. The gate speaks the protocol of the
 * service asked: REST-JSON for Lambda, JSON 1.1 for CloudWatch Logs ({@code X-Amz-Target:
 * Logs_...}), the Query protocol's XML for IAM and STS (a form-encoded {@code POST /}).
 *
 * <p>Outside the gate: {@code GET /metrics} (Prometheus scrapes without AWS credentials; bind Kiln
 * to a private address or put it behind a proxy to keep it private), {@code GET /health} and {@code
 * /ping} (load balancers' checks, which say only whether Kiln serves) and the code download links
 * GetFunction hands out, which carry a signature of their own ({@link CodeLinks}), as S3's
 * presigned URLs do, and the push sources' webhook receivers, which check a token of their own
 * ({@link dev.kiln.api.push.WebhookTokens}). With {@code --insecure-no-auth} the gate lets
 * everything through.
 */
public final class RequestAuthentication implements Filter {

  private static final String BODY = "kiln.request.body";
  private static final String CALLER = "kiln.request.caller";

  private final Optional<SigV4Verifier> verifier;
  private final int maxBody;
  private final dev.kiln.model.Account account;
  private final BiConsumer<RoutingResponse, LambdaError> errors;
  private final AccessControl access;

  /**
   * @param verifier empty when authentication is off
   * @param maxBody the largest body any operation accepts
   * @param errors writes an error in the Lambda or Logs API's shape
   */
  public RequestAuthentication(
      Optional<SigV4Verifier> verifier,
      int maxBody,
      dev.kiln.model.Account account,
      BiConsumer<RoutingResponse, LambdaError> errors,
      AccessControl access) {
    this.access = access;
    this.verifier = verifier;
    this.maxBody = maxBody;
    this.account = account;
    this.errors = errors;
  }

  /** Whether a request is of the AWS Query protocol (IAM, STS): a form-encoded {@code POST /}. */
  public static boolean isQueryProtocol(String method, String path, String contentType) {
    return method.equals("POST")
        && path.equals("/")
        && contentType
            .toLowerCase(java.util.Locale.ROOT)
            .startsWith("application/x-www-form-urlencoded");
  }

  /** The Query protocol service an action belongs to: {@code sts} or {@code iam}. */
  public static String queryService(String action) {
    return dev.kiln.api.iam.StsApi.ACTIONS.contains(action) ? "sts" : "iam";
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
        || path.startsWith("/2020-01-01/")
        // the push sources' webhooks check their own tokens (dev.kiln.api.push.WebhookTokens)
        || dev.kiln.api.push.PushApi.isReceiver(path)
        // function URLs authorise their callers themselves (FunctionUrlGateway)
        || dev.kiln.api.url.UrlAddress.parse(req.authority(), path).isPresent()) {
      chain.proceed();
      return;
    }
    String method = req.prologue().method().text();
    boolean queryProtocol =
        isQueryProtocol(method, path, req.headers().first(HeaderNames.CONTENT_TYPE).orElse(""));
    Optional<dev.kiln.api.query.QueryRequest> form = Optional.empty();
    try {
      byte[] body = readBody(req);
      req.context().register(BODY, body);
      String target = req.headers().first(HeaderNames.create("X-Amz-Target")).orElse("");
      String service;
      if (queryProtocol) {
        form = Optional.of(dev.kiln.api.query.QueryRequest.parse(body));
        service = queryService(form.get().action());
      } else {
        service =
            target.startsWith("Logs_")
                ? "logs"
                : target.startsWith(ApiOperations.EVENTS_TARGET)
                    ? "events"
                    : dev.kiln.api.push.PushApi.isS3(path, req.query().rawValue())
                        ? "s3"
                        : ApiOperations.isScheduler(path) ? "scheduler" : "lambda";
      }
      Caller caller =
          verifier
              .get()
              .verify(
                  new SigV4Verifier.Request(
                      method, path, query(req.query().rawValue()), headers(req), body),
                  service);
      req.context().register(CALLER, caller);
      authorize(caller, method, path, req.query().rawValue(), target, body, service, form);
    } catch (LambdaError e) {
      if (queryProtocol) {
        queryError(res, form, e);
      } else if (dev.kiln.api.push.PushApi.isS3(path, req.query().rawValue())) {
        dev.kiln.api.push.PushApi.gateError(res, e);
      } else if (ApiOperations.isScheduler(path)) {
        schedulerError(res, e);
      } else {
        errors.accept(res, e);
      }
      return;
    }
    chain.proceed();
  }

  /** The body the gate read, if it read it; empty when the operation must read it itself. */
  public static Optional<byte[]> body(ServerRequest req) {
    return req.context().get(BODY, byte[].class);
  }

  /** Who signed the request, when authentication is on. */
  public static Optional<Caller> caller(ServerRequest req) {
    return req.context().get(CALLER, Caller.class);
  }

  /** The Kiln key that signed the request, when a key (not a function's session) did. */
  public static Optional<AccessKeys.Key> key(ServerRequest req) {
    return caller(req).filter(c -> c instanceof Caller.User).map(c -> ((Caller.User) c).key());
  }

  private void authorize(
      Caller caller,
      String method,
      String path,
      String rawQuery,
      String target,
      byte[] body,
      String service,
      Optional<dev.kiln.api.query.QueryRequest> form) {
    List<Map.Entry<String, String>> query = query(rawQuery);
    Optional<ApiOperations.Operation> operation =
        form.isPresent()
            ? ApiOperations.query(service, form.get().action(), form.get()::optional, account)
            : target.startsWith("Logs_")
                ? Optional.of(
                    ApiOperations.logs(target.substring(target.indexOf('.') + 1), body, account))
                : target.startsWith(ApiOperations.EVENTS_TARGET)
                    ? Optional.of(
                        ApiOperations.events(
                            target.substring(ApiOperations.EVENTS_TARGET.length()), body, account))
                    : switch (service) {
                      case "s3" -> ApiOperations.s3(method, path);
                      case "scheduler" ->
                          ApiOperations.scheduler(method, path, query, body, account);
                      default -> ApiOperations.lambda(method, path, query, body, account);
                    };
    if (operation.isEmpty()) {
      if (caller instanceof Caller.User user && user.key().role() == AccessKeys.Role.ADMIN) {
        // a route no operation has: the operation answers it as unknown to whoever may call it
        return;
      }
      throw accessDenied(
          "User: "
              + caller.arn()
              + " is not authorized to perform: "
              + (form.isPresent()
                  ? service + ":" + form.get().action()
                  : method + " " + path + ", which is no operation of the Lambda API,")
              + " because no identity-based policy allows it");
    }
    ApiOperations.Operation op = operation.get();
    if (op.action().equals("sts:GetCallerIdentity")) {
      return;
    }
    Optional<String> denied =
        access.denial(caller, op, RequestConditions.of(op, query, body, account));
    if (denied.isPresent()) {
      throw accessDenied(denied.get());
    }
  }

  private static LambdaError accessDenied(String message) {
    return new LambdaError("AccessDeniedException", 403, message);
  }

  /** A refusal of the gate in the Query protocol's shape, with IAM's and STS's codes. */
  private static void queryError(
      RoutingResponse res, Optional<dev.kiln.api.query.QueryRequest> form, LambdaError e) {
    String code =
        switch (e.errorType()) {
          case "AccessDeniedException" -> "AccessDenied";
          case "UnrecognizedClientException" -> "InvalidClientTokenId";
          case "InvalidSignatureException" -> "SignatureDoesNotMatch";
          case "ExpiredTokenException" -> "ExpiredToken";
          case "MissingAuthenticationTokenException" -> "MissingAuthenticationToken";
          default -> e.errorType().replaceAll("Exception$", "");
        };
    boolean sts = form.map(f -> queryService(f.action()).equals("sts")).orElse(false);
    String requestId = java.util.UUID.randomUUID().toString();
    res.status(e.status())
        .header(HeaderNames.CONTENT_TYPE, "text/xml")
        .header("x-amzn-RequestId", requestId)
        .send(
            dev.kiln.api.query.QueryResponse.errorBody(
                sts ? dev.kiln.api.iam.StsApi.NAMESPACE : dev.kiln.api.iam.IamApi.NAMESPACE,
                requestId,
                code,
                e.getMessage(),
                e.status() < 500));
  }

  /** A refusal of the gate in EventBridge Scheduler's shape: the type, and {@code Message}. */
  private static void schedulerError(RoutingResponse res, LambdaError e) {
    res.status(e.status())
        .header("x-amzn-ErrorType", e.errorType())
        .header("x-amzn-RequestId", java.util.UUID.randomUUID().toString())
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .send(
            com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
                .objectNode()
                .put("Message", e.getMessage())
                .toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
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
    return FormEncoding.decode(raw);
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
