package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Every kind of bad input a user can send: each gets AWS's error shape (type, status, a message
 * naming the field) and leaves what was stored exactly as it was.
 */
class BadInputIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final String CODE = "def handler(event, context):\n    return 1\n";

  @BeforeAll
  static void start() {
    kiln.python("existing", CODE);
  }

  /** The error a create with these settings gets, after checking it stored nothing. */
  AwsServiceException createFails(String name, Consumer<CreateFunctionRequest.Builder> settings) {
    AwsServiceException e =
        (AwsServiceException)
            org.assertj.core.api.Assertions.catchThrowable(
                () ->
                    kiln.lambda()
                        .createFunction(
                            b -> {
                              b.functionName(name)
                                  .runtime(Runtime.PYTHON3_12)
                                  .handler("app.handler")
                                  .role(KilnFixture.ROLE)
                                  .code(
                                      c ->
                                          c.zipFile(
                                              SdkBytes.fromByteArray(Zips.of("app.py", CODE))));
                              settings.accept(b);
                            }));
    assertThat(e).as("create of " + name + " should fail").isNotNull();
    assertThat(
            kiln.lambda().listFunctionsPaginator(b -> {}).functions().stream()
                .map(FunctionConfiguration::functionName))
        .doesNotContain(name);
    return e;
  }

  static void assertAwsError(AwsServiceException e, int status, String type, String message) {
    assertThat(e.statusCode()).isEqualTo(status);
    assertThat(e.awsErrorDetails().errorCode()).isEqualTo(type);
    assertThat(e.awsErrorDetails().errorMessage()).contains(message);
  }

  @Test
  void aListMarkerKilnNeverIssued_isRefused_inEitherOfItsForms() {
    // not even Base64, as the API layer wraps every marker it hands out
    AwsServiceException notBase64 =
        org.junit.jupiter.api.Assertions.assertThrows(
            AwsServiceException.class, () -> kiln.lambda().listFunctions(b -> b.marker("!!!")));
    assertAwsError(
        notBase64,
        400,
        "InvalidParameterValueException",
        "Invalid Marker: !!! was not issued by Kiln");
    // Base64 of something that is not a store's marker
    String wrapped =
        java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString("no-slash".getBytes(StandardCharsets.UTF_8));
    AwsServiceException notAMarker =
        org.junit.jupiter.api.Assertions.assertThrows(
            AwsServiceException.class, () -> kiln.lambda().listFunctions(b -> b.marker(wrapped)));
    assertAwsError(
        notAMarker,
        400,
        "InvalidParameterValueException",
        "Invalid Marker: it was not issued by this Kiln");
  }

  @Test
  void memoryBelowMinimum() {
    assertAwsError(
        createFails("m-low", b -> b.memorySize(64)),
        400,
        "ValidationException",
        "Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128");
  }

  @Test
  void memoryAboveMaximum() {
    assertAwsError(
        createFails("m-high", b -> b.memorySize(10241)),
        400,
        "InvalidParameterValueException",
        "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240");
  }

  @Test
  void timeoutOutOfRange() {
    assertAwsError(
        createFails("t-low", b -> b.timeout(0)), 400, "ValidationException", "at 'timeout'");
    assertAwsError(
        createFails("t-high", b -> b.timeout(901)),
        400,
        "InvalidParameterValueException",
        "'Timeout' value failed to satisfy constraint: Member must have value less than or equal to 900");
  }

  @Test
  void ephemeralStorageOutOfRange() {
    assertAwsError(
        createFails("s-low", b -> b.ephemeralStorage(s -> s.size(100))),
        400,
        "ValidationException",
        "at 'ephemeralStorage.size'");
    assertAwsError(
        createFails("s-high", b -> b.ephemeralStorage(s -> s.size(20000))),
        400,
        "InvalidParameterValueException",
        "'EphemeralStorage.Size' value failed to satisfy constraint");
  }

  @Test
  void invalidName() {
    assertAwsError(
        createFails("bad name!", b -> {}),
        400,
        "ValidationException",
        "Value 'bad name!' at 'functionName' failed to satisfy constraint");
    assertAwsError(
        createFails("x".repeat(65), b -> {}),
        400,
        "ValidationException",
        "Member must have length less than or equal to 64");
  }

  @Test
  void duplicateName() {
    AwsServiceException e = createFails("existing-dup-check", b -> b.functionName("existing"));
    assertAwsError(e, 409, "ResourceConflictException", "Function already exist: existing");
    assertThat(kiln.lambda().getFunctionConfiguration(b -> b.functionName("existing")).handler())
        .isEqualTo("app.handler");
  }

  @Test
  void unknownFunction() {
    assertThatThrownBy(() -> kiln.lambda().getFunction(b -> b.functionName("nope")))
        .isInstanceOfSatisfying(
            AwsServiceException.class,
            e ->
                assertAwsError(
                    e,
                    404,
                    "ResourceNotFoundException",
                    "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"));
    assertThatThrownBy(() -> kiln.lambda().invoke(b -> b.functionName("nope")))
        .isInstanceOfSatisfying(
            AwsServiceException.class,
            e -> assertAwsError(e, 404, "ResourceNotFoundException", "Function not found"));
  }

  @Test
  void missingRuntimeAndHandler() {
    assertAwsError(
        createFails("no-runtime", b -> b.runtime((String) null).handler(null)),
        400,
        "InvalidParameterValueException",
        "Runtime and Handler are mandatory parameters");
  }

  @Test
  void unknownRuntimeAndRuntimeNotInstalled() {
    assertAwsError(
        createFails("rt-unknown", b -> b.runtime("cobol85")),
        400,
        "ValidationException",
        "Value 'cobol85' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set");
    assertAwsError(
        createFails("rt-java", b -> b.runtime(Runtime.JAVA8)),
        400,
        "InvalidParameterValueException",
        "The runtime parameter of java8 is not supported by this Kiln server");
  }

  @Test
  void invalidRole() {
    assertAwsError(
        createFails("bad-role", b -> b.role("not-a-role")),
        400,
        "ValidationException",
        "Value 'not-a-role' at 'role' failed to satisfy constraint");
  }

  @Test
  void reservedEnvironmentVariable() {
    assertAwsError(
        createFails(
            "env-reserved", b -> b.environment(e -> e.variables(Map.of("AWS_REGION", "x")))),
        400,
        "InvalidParameterValueException",
        "Reserved keys used in this request: AWS_REGION");
  }

  @Test
  void environmentOver4Kb() {
    Map<String, String> big = new HashMap<>();
    big.put("BIG", "x".repeat(4100));
    assertAwsError(
        createFails("env-big", b -> b.environment(e -> e.variables(big))),
        400,
        "InvalidParameterValueException",
        "exceeded the 4KB limit");
  }

  @Test
  void bodyThatIsNotAZip() {
    assertAwsError(
        createFails(
            "not-zip",
            b -> b.code(c -> c.zipFile(SdkBytes.fromUtf8String("this is not a zip file")))),
        400,
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.");
  }

  @Test
  void entriesEscapingTheCodeDirectory() throws Exception {
    for (String entry : new String[] {"../evil.py", "/etc/evil.py", "a/../../evil.py"}) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
        zip.putNextEntry(new ZipEntry(entry));
        zip.write("x = 1".getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
      AwsServiceException e =
          createFails(
              "escape-" + Math.abs(entry.hashCode()),
              b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(bytes.toByteArray()))));
      assertAwsError(
          e, 400, "InvalidParameterValueException", "Could not unzip uploaded file: entry");
      assertThat(e.awsErrorDetails().errorMessage()).contains(entry);
    }
  }

  @Test
  void symlinkEscapingTheCodeDirectory() {
    byte[] zip = dev.kiln.server.ZipsWithLinks.symlink("link", "/etc/passwd");
    assertAwsError(
        createFails("escape-link", b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(zip)))),
        400,
        "InvalidParameterValueException",
        "symbolic link 'link' points outside the deployment package");
  }

  @Test
  void zipBombIsStoppedAt250MbUnzipped() throws Exception {
    // 300 MB of zeros compress to about 300 KB
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("zeros.bin"));
      byte[] mb = new byte[1024 * 1024];
      for (int i = 0; i < 300; i++) {
        zip.write(mb);
      }
      zip.closeEntry();
    }
    assertAwsError(
        createFails(
            "bomb", b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(bytes.toByteArray())))),
        400,
        "InvalidParameterValueException",
        "Unzipped size must be smaller than 262144000 bytes");
    try (var scratch = java.nio.file.Files.list(kiln.dataDir().resolve("code/scratch"))) {
      assertThat(scratch).as("nothing of the bomb is left on disk").isEmpty();
    }
  }

  @Test
  void zipOver50Mb() {
    // just over 50 MB: the request fits, the package does not
    byte[] over = new byte[50 * 1024 * 1024 + 1000];
    new java.util.Random(1).nextBytes(over);
    AwsServiceException e =
        createFails("too-big", b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(over))));
    assertAwsError(
        e,
        413,
        "RequestEntityTooLargeException",
        "Zipped deployment package must be smaller than 52428800 bytes");
    // far over: the request itself is refused before it is read, with AWS's words
    byte[] far = new byte[53 * 1024 * 1024];
    e = createFails("too-big", b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(far))));
    assertAwsError(
        e,
        413,
        "RequestEntityTooLargeException",
        "Request must be smaller than 70167211 bytes for the CreateFunction operation");
  }

  @Test
  void malformedJsonBody() throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            kiln.signed(
                "POST",
                "/2015-03-31/functions",
                Map.of("Content-Type", "application/json"),
                "{\"FunctionName\": ".getBytes(StandardCharsets.UTF_8),
                "lambda"),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("x-amzn-ErrorType")).hasValue("SerializationException");
    assertThat(r.headers().firstValue("x-amzn-RequestId")).isPresent();
    assertThat(r.body()).contains("\"message\"").contains("not valid JSON");
  }

  @Test
  void wrongMemberType() throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            kiln.signed(
                "POST",
                "/2015-03-31/functions",
                Map.of(),
                ("{\"FunctionName\": \"typed\", \"Role\": \""
                        + KilnFixture.ROLE
                        + "\", \"MemorySize\": \"lots\", \"Code\": {\"ZipFile\":"
                        + " \"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\"}}")
                    .getBytes(StandardCharsets.UTF_8),
                "lambda"),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("x-amzn-ErrorType")).hasValue("SerializationException");
    assertThat(r.body()).contains("MemorySize must be an integer");
  }

  @Test
  void missingRequiredMembers() throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            kiln.signed(
                "POST",
                "/2015-03-31/functions",
                Map.of(),
                "{\"FunctionName\": \"no-role\"}".getBytes(StandardCharsets.UTF_8),
                "lambda"),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("x-amzn-ErrorType")).hasValue("ValidationException");
    assertThat(r.body())
        .contains("at 'role' failed to satisfy constraint: Member must not be null");
  }

  @Test
  void failedUpdatesChangeNothing() {
    var before = kiln.lambda().getFunctionConfiguration(b -> b.functionName("existing"));
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .updateFunctionConfiguration(
                        b -> b.functionName("existing").memorySize(1).timeout(10)))
        .isInstanceOf(AwsServiceException.class);
    assertThatThrownBy(
            () ->
                kiln.lambda()
                    .updateFunctionCode(
                        b -> b.functionName("existing").zipFile(SdkBytes.fromUtf8String("nope"))))
        .isInstanceOfSatisfying(
            AwsServiceException.class,
            e -> assertAwsError(e, 400, "InvalidParameterValueException", "Could not unzip"));
    var after = kiln.lambda().getFunctionConfiguration(b -> b.functionName("existing"));
    assertThat(after.toString()).isEqualTo(before.toString());
  }

  @Test
  void unknownRoute() throws Exception {
    HttpResponse<String> r =
        HTTP.send(kiln.signed("GET", "/2099-01-01/nothing"), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.headers().firstValue("x-amzn-ErrorType")).hasValue("UnknownOperationException");
  }
}
