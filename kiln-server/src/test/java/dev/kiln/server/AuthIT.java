package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.auth.AccessKeys;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.signer.Aws4Signer;
import software.amazon.awssdk.auth.signer.params.Aws4SignerParams;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.LambdaException;

/**
 * Signature Version 4 on every request: what a signed, unsigned, wrongly signed, expired,
 * mis-scoped or presigned request gets, keys made, restricted and revoked with {@code kiln
 * credentials}, and the one switch that turns it all off.
 */
class AuthIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    kiln.python("guarded", "def handler(e, c):\n    return 'in'\n");
  }

  /** A request signed with the SDK's signer as of {@code at}, for {@code region}. */
  static HttpRequest signedAt(
      String path, AwsBasicCredentials key, Instant at, String region, String service) {
    SdkHttpFullRequest request =
        Aws4Signer.create()
            .sign(
                SdkHttpFullRequest.builder()
                    .method(SdkHttpMethod.GET)
                    .uri(URI.create(kiln.server().endpoint() + path))
                    .build(),
                Aws4SignerParams.builder()
                    .awsCredentials(key)
                    .signingName(service)
                    .signingRegion(Region.of(region))
                    .signingClockOverride(Clock.fixed(at, ZoneOffset.UTC))
                    .build());
    HttpRequest.Builder b = HttpRequest.newBuilder(request.getUri()).GET();
    request
        .headers()
        .forEach(
            (k, v) -> {
              if (!k.equalsIgnoreCase("Host")) {
                v.forEach(value -> b.header(k, value));
              }
            });
    return b.build();
  }

  static String[] send(HttpRequest request) throws Exception {
    HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode body = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
    return new String[] {
      Integer.toString(r.statusCode()),
      r.headers().firstValue("x-amzn-ErrorType").orElse(""),
      body.path("message").asText()
    };
  }

  @Test
  void theAdminKey_signsEverything_andIsKeptPrivately() throws Exception {
    assertThat(kiln.lambda().invoke(b -> b.functionName("guarded")).payload().asUtf8String())
        .isEqualTo("\"in\"");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(kiln.dataDir().resolve(AccessKeys.FILE))))
        .isEqualTo("rw-------");
    assertThat(kiln.server().banner())
        .anyMatch(l -> l.contains("eval \"$(./kiln credentials --data-dir "));
  }

  @Test
  void unsignedAndWronglySignedRequests_getAwsErrors() throws Exception {
    assertThat(
            send(
                HttpRequest.newBuilder(
                        URI.create(kiln.server().endpoint() + "/2015-03-31/functions"))
                    .build()))
        .containsExactly(
            "403", "MissingAuthenticationTokenException", "Missing Authentication Token");

    try (LambdaClient stranger =
        KilnFixture.client(
            kiln.server().endpoint(), AwsBasicCredentials.create("AKIANOTAKEYOFKILNS00", "x"))) {
      LambdaException e = catchThrowableOfType(LambdaException.class, stranger::listFunctions);
      assertThat(e.statusCode()).isEqualTo(403);
      assertThat(e.awsErrorDetails().errorCode()).isEqualTo("UnrecognizedClientException");
      assertThat(e.awsErrorDetails().errorMessage())
          .isEqualTo("The security token included in the request is invalid.");
    }

    AwsBasicCredentials admin = kiln.credentials();
    try (LambdaClient wrongSecret =
        KilnFixture.client(
            kiln.server().endpoint(),
            AwsBasicCredentials.create(admin.accessKeyId(), admin.secretAccessKey() + "x"))) {
      LambdaException e = catchThrowableOfType(LambdaException.class, wrongSecret::listFunctions);
      assertThat(e.statusCode()).isEqualTo(403);
      assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidSignatureException");
      assertThat(e.awsErrorDetails().errorMessage())
          .startsWith(
              "The request signature we calculated does not match the signature you provided.");
    }

    Instant now = Instant.now();
    String[] expired =
        send(
            signedAt(
                "/2015-03-31/functions",
                admin,
                now.minus(Duration.ofMinutes(20)),
                "us-east-1",
                "lambda"));
    assertThat(expired[0]).isEqualTo("403");
    assertThat(expired[1]).isEqualTo("InvalidSignatureException");
    assertThat(expired[2]).startsWith("Signature expired: ").endsWith(" - 15 min.)");
    String[] future =
        send(
            signedAt(
                "/2015-03-31/functions",
                admin,
                now.plus(Duration.ofMinutes(20)),
                "us-east-1",
                "lambda"));
    assertThat(future[2]).startsWith("Signature not yet current: ").endsWith(" + 15 min.)");
    assertThat(send(signedAt("/2015-03-31/functions", admin, now, "us-east-1", "lambda"))[0])
        .as("within the window")
        .isEqualTo("200");
    assertThat(send(signedAt("/2015-03-31/functions", admin, now, "eu-west-1", "lambda")))
        .containsExactly(
            "403",
            "InvalidSignatureException",
            "Credential should be scoped to a valid region, not 'eu-west-1'. This Kiln is in"
                + " 'us-east-1'.");
    assertThat(send(signedAt("/2015-03-31/functions", admin, now, "us-east-1", "s3"))[2])
        .isEqualTo("Credential should be scoped to correct service: 'lambda'. ");

    // the CloudWatch Logs API is behind the same gate, in its own protocol's shape
    HttpResponse<String> logs =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(kiln.server().endpoint() + "/"))
                .header("X-Amz-Target", "Logs_20140328.DescribeLogGroups")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(logs.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(logs.body()).path("__type").asText())
        .isEqualTo("MissingAuthenticationTokenException");
    // and nothing changed on the way
    assertThat(kiln.lambda().listFunctions().functions())
        .extracting(f -> f.functionName())
        .contains("guarded");
  }

  @Test
  void presignedUrls_work_untilTamperedWith() throws Exception {
    Tools.Result r =
        Tools.run(
            List.of(
                Tools.pythonWithBoto3().toString(),
                "-c",
                "import boto3, sys\n"
                    + "lam = boto3.client('lambda', endpoint_url=sys.argv[1], region_name='us-east-1')\n"
                    + "print(lam.generate_presigned_url('get_function',"
                    + " Params={'FunctionName': 'guarded'}, ExpiresIn=60))",
                kiln.server().endpoint().toString()),
            dev.kiln.testing.TempDirs.create("kiln-presign-"),
            Tools.awsEnv(dev.kiln.testing.TempDirs.create("kiln-presign-home-"), kiln.dataDir()));
    assertThat(r.exit()).as(r.output()).isZero();
    String url = r.output().strip();
    assertThat(url).contains("X-Amz-Signature=");
    HttpResponse<String> ok =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(JSON.readTree(ok.body()).at("/Configuration/FunctionName").asText())
        .isEqualTo("guarded");
    String tampered = url.replace("/functions/guarded", "/functions/guarded2");
    assertThat(send(HttpRequest.newBuilder(URI.create(tampered)).build()))
        .startsWith("403", "InvalidSignatureException");
  }

  @Test
  void invokeOnlyKeys_invoke_andAreRefusedTheRest_andRevokedKeysStopAtOnce() throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    CredentialsCommand command = new CredentialsCommand();
    command.out = new PrintStream(printed, true);
    assertThat(
            new picocli.CommandLine(command)
                .execute(
                    "add",
                    "--role",
                    "invoke",
                    "--description",
                    "ci job",
                    "--data-dir",
                    kiln.dataDir().toString()))
        .isZero();
    Map<String, String> exported = new java.util.HashMap<>();
    printed
        .toString()
        .lines()
        .forEach(
            l -> {
              String[] kv = l.replace("export ", "").split("=", 2);
              exported.put(kv[0], kv[1]);
            });
    AwsBasicCredentials invoker =
        AwsBasicCredentials.create(
            exported.get("AWS_ACCESS_KEY_ID"), exported.get("AWS_SECRET_ACCESS_KEY"));
    try (LambdaClient limited = KilnFixture.client(kiln.server().endpoint(), invoker)) {
      assertThat(limited.invoke(b -> b.functionName("guarded")).payload().asUtf8String())
          .isEqualTo("\"in\"");
      LambdaException denied =
          catchThrowableOfType(
              LambdaException.class,
              () ->
                  limited.createFunction(
                      b ->
                          b.functionName("sneaky")
                              .runtime("python3.12")
                              .handler("app.handler")
                              .role(KilnFixture.ROLE)
                              .code(
                                  c ->
                                      c.zipFile(
                                          SdkBytes.fromByteArray(Zips.of("app.py", "x=1\n"))))));
      assertThat(denied.statusCode()).isEqualTo(403);
      assertThat(denied.awsErrorDetails().errorCode()).isEqualTo("AccessDeniedException");
      String user = "User: arn:aws:iam::000000000000:user/" + invoker.accessKeyId();
      String fn = "arn:aws:lambda:us-east-1:000000000000:function:";
      // AWS's words: the IAM action and the resource, not the HTTP route
      assertThat(denied.awsErrorDetails().errorMessage())
          .isEqualTo(
              user
                  + " is not authorized to perform: lambda:CreateFunction on resource: "
                  + fn
                  + "sneaky because no identity-based policy allows the lambda:CreateFunction"
                  + " action");
      assertThat(
              catchThrowableOfType(LambdaException.class, limited::listFunctions)
                  .awsErrorDetails()
                  .errorMessage())
          .startsWith(
              user
                  + " is not authorized to perform: lambda:ListFunctions on resource: * because no"
                  + " identity-based policy allows the lambda:ListFunctions action");
      assertThat(
              catchThrowableOfType(
                      LambdaException.class,
                      () ->
                          limited.getFunction(b -> b.functionName("guarded").qualifier("$LATEST")))
                  .awsErrorDetails()
                  .errorMessage())
          .startsWith(
              user
                  + " is not authorized to perform: lambda:GetFunction on resource: "
                  + fn
                  + "guarded:$LATEST because");
      try (var logs =
          software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient.builder()
              .endpointOverride(kiln.server().endpoint())
              .region(software.amazon.awssdk.regions.Region.US_EAST_1)
              .credentialsProvider(
                  software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(invoker))
              .build()) {
        assertThat(
                catchThrowableOfType(
                        software.amazon.awssdk.services.cloudwatchlogs.model.CloudWatchLogsException
                            .class,
                        () -> logs.filterLogEvents(b -> b.logGroupName("/aws/lambda/guarded")))
                    .awsErrorDetails()
                    .errorMessage())
            .startsWith(
                user
                    + " is not authorized to perform: logs:FilterLogEvents on resource:"
                    + " arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/guarded:* because");
      }

      ByteArrayOutputStream listed = new ByteArrayOutputStream();
      CredentialsCommand list = new CredentialsCommand();
      list.out = new PrintStream(listed, true);
      new picocli.CommandLine(list).execute("list", "--data-dir", kiln.dataDir().toString());
      assertThat(listed.toString())
          .contains(invoker.accessKeyId())
          .contains("invoke")
          .contains("ci job")
          .doesNotContain(invoker.secretAccessKey())
          .doesNotContain(kiln.credentials().secretAccessKey());

      CredentialsCommand revoke = new CredentialsCommand();
      revoke.out = new PrintStream(new ByteArrayOutputStream(), true);
      assertThat(
              new picocli.CommandLine(revoke)
                  .execute(
                      "revoke", invoker.accessKeyId(), "--data-dir", kiln.dataDir().toString()))
          .isZero();
      KilnFixture.awaitRefused(
          limited, "guarded", "UnrecognizedClientException", Duration.ofSeconds(5));
    }
    CredentialsCommand again = new CredentialsCommand();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(err, true));
    try {
      assertThat(
              new picocli.CommandLine(again)
                  .execute(
                      "revoke", "AKIANOSUCHKEY0000000", "--data-dir", kiln.dataDir().toString()))
          .isEqualTo(1);
      assertThat(
              new picocli.CommandLine(new CredentialsCommand())
                  .execute("add", "--role", "root", "--data-dir", kiln.dataDir().toString()))
          .isEqualTo(2);
    } finally {
      System.setErr(stderr);
    }
    assertThat(err.toString())
        .contains("no key AKIANOSUCHKEY0000000")
        .contains("role must be admin, invoke or policy, got 'root'");
  }

  /** Runs {@code kiln credentials ARGS...}; returns its exit code, standard output and error. */
  static List<String> credentials(String... args) {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(err, true));
    try {
      CredentialsCommand command = new CredentialsCommand();
      command.out = new PrintStream(printed, true);
      int code = new picocli.CommandLine(command).execute(args);
      return List.of(Integer.toString(code), printed.toString(), err.toString());
    } finally {
      System.setErr(stderr);
    }
  }

  @Test
  void keysWithPolicies_fromTheCommandLine_mayDoWhatTheirPoliciesSay() throws Exception {
    kiln.fixture().python("listed", "def handler(e, c):\n    return 1\n");
    java.nio.file.Path dir = dev.kiln.testing.TempDirs.create("kiln-policy");
    java.nio.file.Path onlyGet = dir.resolve("only-get.json");
    Files.writeString(
        onlyGet,
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
            + "\"lambda:GetFunction\",\"Resource\":\"arn:aws:lambda:*:*:function:listed\"}]}");
    List<String> added =
        credentials(
            "add",
            "--policy-arn",
            "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess",
            "--policy-file",
            onlyGet.toString(),
            "--data-dir",
            kiln.dataDir().toString());
    assertThat(added.get(0)).as(added.get(2)).isEqualTo("0");
    Map<String, String> exported = new java.util.HashMap<>();
    added
        .get(1)
        .lines()
        .filter(l -> l.startsWith("export "))
        .forEach(
            l -> {
              String[] kv = l.substring("export ".length()).split("=", 2);
              exported.put(kv[0], kv[1]);
            });
    String id = exported.get("AWS_ACCESS_KEY_ID");
    AccessKeys.Key stored =
        AccessKeys.open(kiln.dataDir()).list().stream()
            .filter(k -> k.accessKeyId().equals(id))
            .findFirst()
            .orElseThrow();
    assertThat(stored.role()).isEqualTo(AccessKeys.Role.POLICY);
    assertThat(stored.policyArns())
        .containsExactly("arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess");
    assertThat(stored.inlinePolicies()).containsOnlyKeys("only-get");
    assertThat(credentials("list", "--data-dir", kiln.dataDir().toString()).get(1))
        .contains("AWSLambda_ReadOnlyAccess");

    try (LambdaClient reader =
        KilnFixture.client(
            kiln.server().endpoint(),
            AwsBasicCredentials.create(id, exported.get("AWS_SECRET_ACCESS_KEY")))) {
      assertThat(reader.listFunctions().functions())
          .extracting(f -> f.functionName())
          .contains("listed");
      LambdaException denied =
          catchThrowableOfType(
              LambdaException.class, () -> reader.deleteFunction(b -> b.functionName("listed")));
      assertThat(denied.statusCode()).isEqualTo(403);
      assertThat(denied.awsErrorDetails().errorMessage())
          .isEqualTo(
              "User: arn:aws:iam::000000000000:user/"
                  + id
                  + " is not authorized to perform: lambda:DeleteFunction on resource:"
                  + " arn:aws:lambda:us-east-1:000000000000:function:listed because no"
                  + " identity-based policy allows the lambda:DeleteFunction action");
    }

    java.nio.file.Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"}]}");
    int keysBefore = AccessKeys.open(kiln.dataDir()).list().size();
    List<String> malformed =
        credentials(
            "add", "--policy-file", bad.toString(), "--data-dir", kiln.dataDir().toString());
    assertThat(malformed.get(0)).isEqualTo("2");
    assertThat(malformed.get(2))
        .contains(
            "kiln credentials add: --policy-file "
                + bad
                + ": MalformedPolicyDocument: Policy statement must contain actions.");
    List<String> unknown =
        credentials(
            "add",
            "--policy-arn",
            "arn:aws:iam::aws:policy/NoSuchPolicy",
            "--data-dir",
            kiln.dataDir().toString());
    assertThat(unknown.get(0)).isEqualTo("2");
    assertThat(unknown.get(2))
        .contains(
            "kiln credentials add: --policy-arn arn:aws:iam::aws:policy/NoSuchPolicy: Kiln has no"
                + " such AWS managed policy");
    assertThat(AccessKeys.open(kiln.dataDir()).list()).hasSize(keysBefore);
  }

  @Test
  void kilnCredentials_printsTheAdminKeyAsExports() {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    CredentialsCommand command = new CredentialsCommand();
    command.out = new PrintStream(printed, true);
    assertThat(
            new picocli.CommandLine(command)
                .execute("--data-dir", kiln.dataDir().toString(), "--endpoint", "http://kiln:9000"))
        .isZero();
    assertThat(printed.toString())
        .contains("export AWS_ACCESS_KEY_ID=" + kiln.credentials().accessKeyId())
        .contains("export AWS_SECRET_ACCESS_KEY=" + kiln.credentials().secretAccessKey())
        .contains("export AWS_REGION=us-east-1")
        .contains("export AWS_DEFAULT_REGION=us-east-1")
        .contains("export AWS_ENDPOINT_URL_LAMBDA=http://kiln:9000")
        .contains("export AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://kiln:9000")
        .doesNotContain("AWS_ENDPOINT_URL=");
  }

  @Test
  void insecureNoAuth_acceptsUnsignedRequests_andSaysSo() throws Exception {
    try (KilnFixture open =
        new KilnFixture(
            s ->
                new ServerSettings(
                    s.bind(),
                    s.port(),
                    s.dataDir(),
                    s.account(),
                    s.keepAlive(),
                    s.shutdownGrace(),
                    s.interpreters(),
                    s.sandbox(),
                    s.outboundNetwork(),
                    s.concurrencyLimit(),
                    s.scaleOutRate(),
                    s.instanceMemoryMb(),
                    s.asyncRetryDelay(),
                    s.logRetention(),
                    s.logMaxBytes(),
                    s.otlpEndpoint(),
                    false,
                    s.tls(),
                    s.instanceCredentialsLifetime(),
                    s.clientTimeout(),
                    s.store(),
                    s.iam(),
                    s.functionUrlDomain(),
                    ServerSettings.Triggers.NONE,
                    s.zygote()))) {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(open.server.endpoint() + "/2015-03-31/functions"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(open.server.banner())
          .anyMatch(l -> l.startsWith("WARNING: --insecure-no-auth is on"));
    }
  }
}
