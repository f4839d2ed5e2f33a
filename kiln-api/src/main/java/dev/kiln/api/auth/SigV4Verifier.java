package dev.kiln.api.auth;

import dev.kiln.model.LambdaError;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.signer.Aws4Signer;
import software.amazon.awssdk.auth.signer.params.Aws4PresignerParams;
import software.amazon.awssdk.auth.signer.params.Aws4SignerParams;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.regions.Region;

/**
 * Checks AWS Signature Version 4 on a request, as AWS does, with the AWS SDK's own signer.
 *
 * <p>The signature is a function of the request (method, path, query, the headers the client chose
 * to sign, a hash of the body), of the date and credential scope (date, region, service) and of the
 * secret. The verifier takes the request as received, keeps exactly the headers the client listed
 * in {@code SignedHeaders}, signs it again with the key's secret at the client's {@code X-Amz-Date}
 * through the SDK's {@link AwsV4HttpSigner} (the implementation the SDKs sign with), and compares
 * the two signatures in constant time. Nothing of the algorithm is written here but parsing what
 * the client sent.
 *
 * <p>Both forms are accepted: the {@code Authorization} header, and a presigned URL ({@code
 * X-Amz-Algorithm}, {@code X-Amz-Credential}, {@code X-Amz-Date}, {@code X-Amz-Expires}, {@code
 * X-Amz-SignedHeaders}, {@code X-Amz-Signature} in the query) until it expires. A header-signed
 * request is valid within 15 minutes of its date either way, which is also the replay window AWS
 * gives: a captured request can be replayed only within it. Chunked (streaming) payload signing is
 * S3's; the Lambda and CloudWatch Logs models do not use it, and it is refused.
 *
 * <p>The errors are AWS's: {@code MissingAuthenticationTokenException} without a signature, {@code
 * UnrecognizedClientException} for a key Kiln does not know, {@code InvalidSignatureException} for
 * a signature that does not match, an expired or future date, or the wrong scope; all 403.
 */
public final class SigV4Verifier {

  static final Duration SKEW = Duration.ofMinutes(15);
  static final Duration MAX_PRESIGN = Duration.ofDays(7);
  private static final String ALGORITHM = "AWS4-HMAC-SHA256";
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final Set<String> PRESIGN_PARAMETERS =
      Set.of(
          "X-Amz-Algorithm",
          "X-Amz-Credential",
          "X-Amz-Date",
          "X-Amz-Expires",
          "X-Amz-SignedHeaders",
          "X-Amz-Signature",
          "X-Amz-Security-Token");

  /** A request as received: decoded query parameters in order, headers by lower-case name. */
  public record Request(
      String method,
      String rawPath,
      List<Map.Entry<String, String>> query,
      Map<String, List<String>> headers,
      byte[] body) {

    Optional<String> header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    Optional<String> queryParameter(String name) {
      return query.stream()
          .filter(e -> e.getKey().equals(name))
          .map(Map.Entry::getValue)
          .findFirst();
    }
  }

  private final AccessKeys keys;
  private final SessionKeys sessions;
  private final dev.kiln.model.Account account;
  private final String region;
  private final Clock clock;

  /**
   * The SDK's classic SigV4 signer: it signs exactly the headers it is given (the newer {@code
   * AwsV4HttpSigner} adds {@code x-amz-content-sha256} to them, which botocore, the AWS CLI and the
   * JavaScript SDK do not sign for Lambda).
   */
  @SuppressWarnings("deprecation")
  private static final Aws4Signer SIGNER = Aws4Signer.create();

  public SigV4Verifier(
      AccessKeys keys, SessionKeys sessions, dev.kiln.model.Account account, Clock clock) {
    this.keys = keys;
    this.sessions = sessions;
    this.account = account;
    this.region = account.region();
    this.clock = clock;
  }

  /**
   * Who signed {@code request} for {@code service}, or the error AWS would give. IAM and STS are
   * global services, which clients sign for {@code us-east-1} (the SDK for Java, given {@code
   * Region.AWS_GLOBAL} and an endpoint, for {@code aws-global}) whatever their region: a request to
   * them may be scoped to that region or to Kiln's.
   */
  public Caller verify(Request request, String service) {
    Optional<String> authorization = request.header("Authorization");
    boolean presigned = request.queryParameter("X-Amz-Signature").isPresent();
    if (authorization.isEmpty() && !presigned) {
      throw new LambdaError(
          "MissingAuthenticationTokenException", 403, "Missing Authentication Token");
    }
    Signed claimed = presigned ? fromQuery(request) : fromHeader(authorization.get());
    String[] scope = claimed.credential().split("/");
    if (scope.length != 5 || !scope[4].equals("aws4_request")) {
      throw invalidSignature(
          "Credential should be scoped to a valid region. Credential must have exactly 5"
              + " slash-delimited elements, e.g. keyid/date/region/service/term, got '"
              + claimed.credential()
              + "'");
    }
    Optional<SessionKeys.Session> session =
        scope[0].startsWith("ASIA") ? Optional.of(session(scope[0], request)) : Optional.empty();
    AccessKeys.Key key =
        session.isPresent()
            ? session.get().key()
            : keys.find(scope[0]).orElseThrow(() -> unrecognized());
    boolean global = service.equals("iam") || service.equals("sts");
    if (!scope[2].equals(region)
        && !(global && (scope[2].equals("us-east-1") || scope[2].equals("aws-global")))) {
      throw invalidSignature(
          "Credential should be scoped to a valid region, not '"
              + scope[2]
              + "'. This Kiln is in '"
              + region
              + "'.");
    }
    if (!scope[3].equals(service)) {
      throw invalidSignature("Credential should be scoped to correct service: '" + service + "'. ");
    }
    Instant date =
        amzDate(presigned ? request.queryParameter("X-Amz-Date") : request.header("X-Amz-Date"));
    if (!scope[1].equals(AMZ_DATE.format(date).substring(0, 8))) {
      throw invalidSignature(
          "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from"
              + " HTTP: '"
              + scope[1]
              + "' != '"
              + AMZ_DATE.format(date).substring(0, 8)
              + "', from '"
              + AMZ_DATE.format(date)
              + "'.");
    }
    Instant now = clock.instant();
    Duration expires = SKEW;
    if (presigned) {
      expires = expires(request);
      if (now.isAfter(date.plus(expires))) {
        throw new LambdaError(
            "AccessDeniedException",
            403,
            "Request has expired: signed at "
                + AMZ_DATE.format(date)
                + " for "
                + expires.toSeconds()
                + " seconds");
      }
    } else if (date.isBefore(now.minus(SKEW))) {
      throw invalidSignature(
          "Signature expired: "
              + AMZ_DATE.format(date)
              + " is now earlier than "
              + AMZ_DATE.format(now.minus(SKEW))
              + " ("
              + AMZ_DATE.format(now)
              + " - 15 min.)");
    }
    if (date.isAfter(now.plus(SKEW))) {
      throw invalidSignature(
          "Signature not yet current: "
              + AMZ_DATE.format(date)
              + " is still later than "
              + AMZ_DATE.format(now.plus(SKEW))
              + " ("
              + AMZ_DATE.format(now)
              + " + 15 min.)");
    }
    String expected = sign(request, claimed, key, date, scope[2], scope[3], presigned, expires);
    if (!MessageDigest.isEqual(
        expected.getBytes(StandardCharsets.US_ASCII),
        claimed.signature().getBytes(StandardCharsets.US_ASCII))) {
      throw invalidSignature(
          "The request signature we calculated does not match the signature you provided. Check"
              + " your AWS Secret Access Key and signing method. Consult the service documentation"
              + " for details.");
    }
    return session
        .<Caller>map(s -> new Caller.AssumedRole(s, account))
        .orElseGet(() -> new Caller.User(key, account));
  }

  /** An instance's temporary key: known, with its session token, and not expired. */
  private SessionKeys.Session session(String accessKeyId, Request request) {
    SessionKeys.Session s = sessions.find(accessKeyId).orElseThrow(() -> unrecognized());
    String token =
        request
            .header("X-Amz-Security-Token")
            .or(() -> request.queryParameter("X-Amz-Security-Token"))
            .orElse("");
    if (!MessageDigest.isEqual(
        token.getBytes(StandardCharsets.UTF_8),
        s.sessionToken().getBytes(StandardCharsets.UTF_8))) {
      throw unrecognized();
    }
    if (clock.instant().isAfter(s.expires())) {
      throw new LambdaError(
          "ExpiredTokenException", 403, "The security token included in the request is expired");
    }
    return s;
  }

  private record Signed(String credential, List<String> signedHeaders, String signature) {}

  private static Signed fromHeader(String authorization) {
    if (!authorization.startsWith(ALGORITHM + " ")) {
      throw new LambdaError(
          "IncompleteSignatureException",
          400,
          "Authorization header requires the "
              + ALGORITHM
              + " algorithm, got '"
              + authorization.split(" ", 2)[0]
              + "'");
    }
    String credential = null;
    String signedHeaders = null;
    String signature = null;
    for (String part : authorization.substring(ALGORITHM.length() + 1).split(",")) {
      String p = part.trim();
      int eq = p.indexOf('=');
      if (eq < 0) {
        continue;
      }
      String value = p.substring(eq + 1).trim();
      switch (p.substring(0, eq).trim()) {
        case "Credential" -> credential = value;
        case "SignedHeaders" -> signedHeaders = value;
        case "Signature" -> signature = value;
        default -> {
          // unknown parts are not part of the signature
        }
      }
    }
    if (credential == null || signedHeaders == null || signature == null) {
      throw new LambdaError(
          "IncompleteSignatureException",
          400,
          "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'"
              + " parameters.");
    }
    return new Signed(credential, List.of(signedHeaders.split(";")), signature);
  }

  private static Signed fromQuery(Request request) {
    String algorithm = request.queryParameter("X-Amz-Algorithm").orElse("");
    if (!algorithm.equals(ALGORITHM)) {
      throw new LambdaError(
          "IncompleteSignatureException",
          400,
          "X-Amz-Algorithm must be " + ALGORITHM + ", got '" + algorithm + "'");
    }
    String credential = request.queryParameter("X-Amz-Credential").orElse("");
    String signedHeaders = request.queryParameter("X-Amz-SignedHeaders").orElse("");
    if (credential.isEmpty() || signedHeaders.isEmpty()) {
      throw new LambdaError(
          "IncompleteSignatureException",
          400,
          "A presigned URL requires X-Amz-Credential, X-Amz-SignedHeaders and X-Amz-Signature.");
    }
    return new Signed(
        credential,
        List.of(signedHeaders.split(";")),
        request.queryParameter("X-Amz-Signature").orElse(""));
  }

  private static Duration expires(Request request) {
    String value = request.queryParameter("X-Amz-Expires").orElse("");
    try {
      long seconds = Long.parseLong(value);
      if (seconds >= 1 && seconds <= MAX_PRESIGN.toSeconds()) {
        return Duration.ofSeconds(seconds);
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new LambdaError(
        "AuthorizationQueryParametersError",
        400,
        "X-Amz-Expires must be a number of seconds from 1 to 604800, got '" + value + "'");
  }

  private static Instant amzDate(Optional<String> value) {
    if (value.isEmpty()) {
      throw new LambdaError(
          "IncompleteSignatureException",
          400,
          "Authorization requires an X-Amz-Date header (or query parameter) such as"
              + " 20261125T120000Z.");
    }
    try {
      return Instant.from(AMZ_DATE.parse(value.get()));
    } catch (DateTimeParseException e) {
      throw new LambdaError(
          "IncompleteSignatureException",
          400,
          "X-Amz-Date must be in the ISO-8601 basic format 20261125T120000Z, got '"
              + value.get()
              + "'");
    }
  }

  private String sign(
      Request request,
      Signed claimed,
      AccessKeys.Key key,
      Instant date,
      String scopeRegion,
      String scopeService,
      boolean presigned,
      Duration expires) {
    String hostHeader = request.header("Host").orElse("localhost");
    String host = hostHeader;
    int port = -1;
    int colon = hostHeader.lastIndexOf(':');
    if (colon > 0 && hostHeader.indexOf(']') < colon) {
      host = hostHeader.substring(0, colon);
      try {
        port = Integer.parseInt(hostHeader.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
    }
    SdkHttpFullRequest.Builder b =
        SdkHttpFullRequest.builder()
            .method(SdkHttpMethod.fromValue(request.method()))
            .protocol("http")
            .host(host)
            .encodedPath(request.rawPath());
    if (port > 0) {
      b.port(port);
    }
    for (Map.Entry<String, String> q : request.query()) {
      if (!presigned || !PRESIGN_PARAMETERS.contains(q.getKey())) {
        b.appendRawQueryParameter(q.getKey(), q.getValue());
      }
    }
    for (String name : claimed.signedHeaders()) {
      if (name.equals("host")) {
        continue; // the signer writes it from the host and port, as the client's did
      }
      List<String> values = request.headers().getOrDefault(name, List.of());
      if (!values.isEmpty()) {
        b.putHeader(name, new ArrayList<>(values));
      }
    }
    byte[] body = request.body();
    b.contentStreamProvider(() -> new ByteArrayInputStream(body));
    AwsBasicCredentials credentials =
        AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey());
    Clock at = Clock.fixed(date, ZoneOffset.UTC);
    if (presigned) {
      SdkHttpFullRequest out =
          SIGNER.presign(
              b.build(),
              Aws4PresignerParams.builder()
                  .awsCredentials(credentials)
                  .signingName(scopeService)
                  .signingRegion(Region.of(scopeRegion))
                  .doubleUrlEncode(true)
                  .normalizePath(true)
                  .signingClockOverride(at)
                  .expirationTime(date.plus(expires))
                  .build());
      return out.firstMatchingRawQueryParameter("X-Amz-Signature").orElse("");
    }
    SdkHttpFullRequest out =
        SIGNER.sign(
            b.build(),
            Aws4SignerParams.builder()
                .awsCredentials(credentials)
                .signingName(scopeService)
                .signingRegion(Region.of(scopeRegion))
                .doubleUrlEncode(true)
                .normalizePath(true)
                .signingClockOverride(at)
                .build());
    String auth = out.firstMatchingHeader("Authorization").orElse("");
    int sig = auth.indexOf("Signature=");
    return sig < 0 ? "" : auth.substring(sig + "Signature=".length()).trim();
  }

  private static LambdaError unrecognized() {
    return new LambdaError(
        "UnrecognizedClientException",
        403,
        "The security token included in the request is invalid.");
  }

  private static LambdaError invalidSignature(String message) {
    return new LambdaError("InvalidSignatureException", 403, message);
  }
}
