package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * A Java function, compiled here against aws-lambda-java-core, on AWS's own runtime interface
 * client: a {@code RequestHandler<Map, Map>} with {@code Context} and {@code LambdaLogger}, and
 * AWS's error document for an exception.
 */
class JavaRuntimeIT {

  static final ObjectMapper JSON = new ObjectMapper();

  static final String HANDLER =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.HashMap;
      import java.util.Map;

      public class Hello implements RequestHandler<Map<String, Object>, Map<String, Object>> {
        @Override
        public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
          if (event.containsKey("fail")) {
            throw new IllegalStateException("asked to fail");
          }
          context.getLogger().log("hello from java");
          Map<String, Object> out = new HashMap<>();
          out.put("greeting", "hello " + event.get("name"));
          out.put("function", context.getFunctionName());
          out.put("requestId", context.getAwsRequestId());
          out.put("memory", context.getMemoryLimitInMB());
          out.put("java", System.getProperty("java.specification.version"));
          return out;
        }
      }
      """;

  static final String STREAM_HANDLER =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
      import java.io.IOException;
      import java.io.InputStream;
      import java.io.OutputStream;
      import java.nio.charset.StandardCharsets;

      public class Shout implements RequestStreamHandler {
        @Override
        public void handleRequest(InputStream in, OutputStream out, Context context)
            throws IOException {
          String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          out.write(body.toUpperCase().getBytes(StandardCharsets.UTF_8));
        }
      }
      """;

  @Test
  void aRequestHandler_runsOnAwsRuntimeInterfaceClient() throws Exception {
    Compilers.requireJdk17();
    byte[] zip =
        Compilers.zip(
            Compilers.java(
                java.util.Map.of("example.Hello", HANDLER, "example.Shout", STREAM_HANDLER)));

    try (KilnFixture kiln = new KilnFixture()) {
      kiln.create("hello-java", Runtime.JAVA17, "example.Hello::handleRequest", zip);
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("hello-java").memorySize(512).timeout(30));
      InvokeResponse r =
          kiln.lambda.invoke(
              b ->
                  b.functionName("hello-java")
                      .logType(software.amazon.awssdk.services.lambda.model.LogType.TAIL)
                      .payload(SdkBytes.fromUtf8String("{\"name\": \"kiln\"}")));
      assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
      JsonNode out = JSON.readTree(r.payload().asUtf8String());
      assertThat(out.get("greeting").asText()).isEqualTo("hello kiln");
      assertThat(out.get("function").asText()).isEqualTo("hello-java");
      assertThat(out.get("requestId").asText()).isEqualTo(r.responseMetadata().requestId());
      assertThat(out.get("memory").asInt()).isEqualTo(512);
      assertThat(out.get("java").asText()).isEqualTo("17");
      String log =
          new String(
              java.util.Base64.getDecoder().decode(r.logResult()),
              java.nio.charset.StandardCharsets.UTF_8);
      assertThat(log).contains("hello from java");

      InvokeResponse failed =
          kiln.lambda.invoke(
              b ->
                  b.functionName("hello-java")
                      .logType(software.amazon.awssdk.services.lambda.model.LogType.TAIL)
                      .payload(SdkBytes.fromUtf8String("{\"fail\": 1}")));
      assertThat(failed.functionError()).isEqualTo("Unhandled");
      String failedLog =
          new String(
              java.util.Base64.getDecoder().decode(failed.logResult()),
              java.nio.charset.StandardCharsets.UTF_8);
      // AWS's runtime client posts the error, then logs its stack trace: that is this call's log
      assertThat(failedLog.substring(0, failedLog.indexOf("END RequestId:")))
          .as(failedLog)
          .contains("asked to fail")
          .contains("example.Hello");
      JsonNode doc = JSON.readTree(failed.payload().asUtf8String());
      assertThat(doc.get("errorType").asText()).isEqualTo("java.lang.IllegalStateException");
      assertThat(doc.get("errorMessage").asText()).isEqualTo("asked to fail");
      assertThat(doc.get("stackTrace").isArray()).isTrue();

      // a RequestStreamHandler, named by its class alone
      kiln.create("shout-java", Runtime.JAVA17, "example.Shout", zip);
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("shout-java").memorySize(512).timeout(30));
      InvokeResponse shouted =
          kiln.lambda.invoke(
              b ->
                  b.functionName("shout-java")
                      .payload(SdkBytes.fromUtf8String("{\"say\": \"hi\"}")));
      assertThat(shouted.functionError()).isNull();
      assertThat(shouted.payload().asUtf8String()).isEqualTo("{\"SAY\": \"HI\"}");
    }
  }

  static final String HELPER =
      """
      package lib;

      public class Helper {
        public static String word() {
          return "from the helper jar";
        }
      }
      """;

  static final String USES_LIB =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;

      public class UsesLib implements RequestHandler<String, String> {
        @Override
        public String handleRequest(String event, Context context) {
          return event + " " + lib.Helper.word();
        }
      }
      """;

  /**
   * The three ways a Java function brings its libraries: {@code lib/*.jar} in the zip, everything
   * at the root of one fat jar, and {@code java/lib/*.jar} in a layer.
   */
  @Test
  void libraries_fromLibJars_aFatJar_orALayer() throws Exception {
    Compilers.requireJdk17();
    Map<String, byte[]> classes =
        Compilers.java(java.util.Map.of("lib.Helper", HELPER, "example.UsesLib", USES_LIB));
    byte[] helperClass = classes.get("lib/Helper.class");
    byte[] handlerClass = classes.get("example/UsesLib.class");
    byte[] helperJar = Compilers.zip(java.util.Map.of("lib/Helper.class", helperClass));
    byte[] withLibDir =
        Compilers.zip(
            java.util.Map.of("example/UsesLib.class", handlerClass, "lib/helper.jar", helperJar));
    byte[] fatJar =
        Compilers.zip(
            java.util.Map.of(
                "META-INF/MANIFEST.MF",
                "Manifest-Version: 1.0\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "example/UsesLib.class",
                handlerClass,
                "lib/Helper.class",
                helperClass));
    byte[] handlerOnly = Compilers.zip(java.util.Map.of("example/UsesLib.class", handlerClass));
    byte[] layer = Compilers.zip(java.util.Map.of("java/lib/helper.jar", helperJar));

    try (KilnFixture kiln = new KilnFixture()) {
      String layerArn =
          kiln.lambda
              .publishLayerVersion(
                  b ->
                      b.layerName("java-helper")
                          .content(c -> c.zipFile(SdkBytes.fromByteArray(layer))))
              .layerVersionArn();
      kiln.create("java-libdir", Runtime.JAVA17, "example.UsesLib::handleRequest", withLibDir);
      kiln.create("java-fat", Runtime.JAVA17, "example.UsesLib::handleRequest", fatJar);
      kiln.create("java-layer", Runtime.JAVA17, "example.UsesLib::handleRequest", handlerOnly);
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("java-layer").layers(layerArn));
      for (String function : java.util.List.of("java-libdir", "java-fat", "java-layer")) {
        kiln.lambda.updateFunctionConfiguration(
            b -> b.functionName(function).memorySize(512).timeout(30));
        InvokeResponse r =
            kiln.lambda.invoke(
                b -> b.functionName(function).payload(SdkBytes.fromUtf8String("\"hi\"")));
        assertThat(r.functionError()).as(function + ": " + r.payload().asUtf8String()).isNull();
        assertThat(r.payload().asUtf8String()).as(function).isEqualTo("\"hi from the helper jar\"");
      }
    }
  }

  static final String JVM_ARGS =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.lang.management.ManagementFactory;
      import java.util.Map;

      public class JvmArgs implements RequestHandler<Map<String, Object>, String> {
        @Override
        public String handleRequest(Map<String, Object> event, Context context) {
          return String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments());
        }
      }
      """;

  /**
   * The first instance of a version writes a class data sharing archive as it stops; the next cold
   * start maps it.
   */
  @Test
  void theFirstInstanceArchivesItsClasses_forTheNextColdStarts() throws Exception {
    Compilers.requireJdk17();
    byte[] zip = Compilers.zip(Compilers.java(Map.of("example.JvmArgs", JVM_ARGS)));
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.create("cds", Runtime.JAVA17, "example.JvmArgs::handleRequest", zip);
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("cds").memorySize(512).timeout(30));
      String first = invokeText(kiln, "cds");
      assertThat(first).contains("-XX:ArchiveClassesAtExit=");

      // retiring the instance stops it gracefully: its JVM writes the archive on the way out
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("cds").timeout(31));
      Path archive = null;
      for (int i = 0; i < 300 && archive == null; i++) {
        try (var found =
            Files.find(
                kiln.dataDir.resolve("java-cds"),
                2,
                (p, a) -> p.getFileName().toString().equals("app.jsa"))) {
          archive = found.findFirst().orElse(null);
        }
        Thread.sleep(50);
      }
      assertThat(archive).as("the archive the first instance wrote").isNotNull();
      assertThat(Files.size(archive)).isPositive();

      String second = invokeText(kiln, "cds");
      assertThat(second)
          .as("the next cold start maps the archive")
          .contains("-XX:SharedArchiveFile=")
          .doesNotContain("-XX:ArchiveClassesAtExit=");
    }
  }

  /**
   * On a JDK 25 the first instance of a version trains an AOT cache as it stops (JEP 483, 514); the
   * next cold start maps it, and the training JVM's report of the cache it assembled stays out of
   * the function's log.
   */
  @Test
  void onJdk25_theFirstInstanceTrainsAnAotCache_forTheNextColdStarts() throws Exception {
    Compilers.requireJdk17();
    org.junit.jupiter.api.Assumptions.assumeTrue(jdkInstalled(25), "needs a JDK 25");
    byte[] zip = Compilers.zip(Compilers.java(Map.of("example.JvmArgs", JVM_ARGS)));
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.lambda.createFunction(
          b ->
              b.functionName("aot")
                  .runtime("java25") // newer than this SDK's list of runtimes
                  .handler("example.JvmArgs::handleRequest")
                  .role(KilnFixture.ROLE)
                  .memorySize(512)
                  .timeout(30)
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
      String first = invokeText(kiln, "aot");
      assertThat(first).contains("-XX:AOTCacheOutput=").doesNotContain("-Xshare:auto");

      // retiring the instance stops it gracefully: its JVM assembles the cache on the way out
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("aot").timeout(31));
      java.util.function.Supplier<String> log =
          () -> {
            try (var logs = kiln.logsClient();
                var dirs = Files.walk(kiln.dataDir.resolve("java-cds"))) {
              return dirs.map(
                          p -> {
                            try {
                              return p
                                  + (p.endsWith("aot-failed") ? ": " + Files.readString(p) : "");
                            } catch (java.io.IOException e) {
                              return p.toString();
                            }
                          })
                      .toList()
                  + "\n"
                  + logText(logs, "aot");
            } catch (java.io.IOException e) {
              return e.toString();
            }
          };
      Path cache;
      try {
        cache =
            org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(30))
                .until(
                    () -> {
                      try (var found =
                          Files.find(
                              kiln.dataDir.resolve("java-cds"),
                              2,
                              (p, a) -> p.getFileName().toString().equals("app.aot"))) {
                        return found.findFirst().orElse(null);
                      }
                    },
                    java.util.Objects::nonNull);
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        throw new AssertionError("no AOT cache; the cache directory and the log: " + log.get(), e);
      }
      assertThat(Files.size(cache)).isPositive();
      assertThat(Files.getPosixFilePermissions(cache))
          .as("kept read-only")
          .doesNotContain(java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

      String second = invokeText(kiln, "aot");
      assertThat(second)
          .as("the next cold start maps the cache")
          .contains("-XX:AOTCache=")
          .doesNotContain("-XX:AOTCacheOutput=")
          .doesNotContain("-XX:SharedArchiveFile=");

      try (var logs = kiln.logsClient()) {
        String all =
            org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .until(
                    () -> logText(logs, "aot"), text -> text.split("REPORT RequestId").length > 2);
        assertThat(all).doesNotContain("AOTCache").doesNotContain("AOTConfiguration");
      }
    }
  }

  static final String POJO =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;

      public class Orders implements RequestHandler<Orders.Order, Orders.Receipt> {
        public static class Order {
          private String item;
          private int count;
          public String getItem() { return item; }
          public void setItem(String item) { this.item = item; }
          public int getCount() { return count; }
          public void setCount(int count) { this.count = count; }
        }

        public static class Receipt {
          private String message;
          public Receipt(String message) { this.message = message; }
          public String getMessage() { return message; }
        }

        @Override
        public Receipt handleRequest(Order order, Context context) {
          return new Receipt(order.getCount() + " x " + order.getItem());
        }
      }
      """;

  /** A POJO in and a POJO out, through AWS's own serializer. */
  @Test
  void pojoInput_andOutput() throws Exception {
    Compilers.requireJdk17();
    byte[] zip = Compilers.zip(Compilers.java(Map.of("example.Orders", POJO)));
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.create("orders", Runtime.JAVA17, "example.Orders::handleRequest", zip);
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("orders").memorySize(512).timeout(30));
      InvokeResponse r =
          kiln.lambda.invoke(
              b ->
                  b.functionName("orders")
                      .payload(SdkBytes.fromUtf8String("{\"item\": \"tea\", \"count\": 2}")));
      assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
      assertThat(JSON.readTree(r.payload().asUtf8String()).get("message").asText())
          .isEqualTo("2 x tea");
    }
  }

  static final String RECORDS =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.List;

      public class Records implements RequestHandler<Records.Order, Records.Receipt> {
        public record Line(String item, int count) {}

        public record Order(String customer, List<Line> lines) {}

        public record Receipt(String customer, int total, List<String> items) {}

        @Override
        public Receipt handleRequest(Order order, Context context) {
          return new Receipt(
              order.customer(),
              order.lines().stream().mapToInt(Line::count).sum(),
              order.lines().stream().map(Line::item).toList());
        }
      }
      """;

  static final String RECORD_MAP =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.Map;
      import java.util.TreeMap;

      public class Prices implements RequestHandler<Map<String, Prices.Price>, Map<String, Object>> {
        public record Price(String currency, double amount) {}

        @Override
        public Map<String, Object> handleRequest(Map<String, Price> prices, Context context) {
          Map<String, Object> out = new TreeMap<>();
          prices.forEach((k, v) -> out.put(k, v.amount() * 2 + " " + v.currency()));
          return out;
        }
      }
      """;

  static final String HTTP_API =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
      import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
      import java.util.Map;

      public class HttpApi
          implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
        @Override
        public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent e, Context context) {
          return APIGatewayV2HTTPResponse.builder()
              .withStatusCode(201)
              .withHeaders(Map.of("Content-Type", "text/plain"))
              .withBody(
                  e.getRequestContext().getHttp().getMethod()
                      + " "
                      + e.getRawPath()
                      + " name="
                      + e.getQueryStringParameters().get("name")
                      + " agent="
                      + e.getHeaders().get("user-agent")
                      + " body="
                      + e.getBody())
              .build();
        }
      }
      """;

  static final String SQS_BATCH =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
      import com.amazonaws.services.lambda.runtime.events.SQSEvent;
      import java.util.ArrayList;
      import java.util.List;

      public class SqsBatch implements RequestHandler<SQSEvent, SQSBatchResponse> {
        @Override
        public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
          List<SQSBatchResponse.BatchItemFailure> failures = new ArrayList<>();
          for (SQSEvent.SQSMessage m : event.getRecords()) {
            if (m.getBody().equals("bad")) {
              failures.add(new SQSBatchResponse.BatchItemFailure(m.getMessageId()));
            }
          }
          return new SQSBatchResponse(failures);
        }
      }
      """;

  static final String SCHEDULED =
      """
      package example;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;

      public class Scheduled implements RequestHandler<ScheduledEvent, String> {
        @Override
        public String handleRequest(ScheduledEvent event, Context context) {
          return event.getDetailType() + " at " + event.getTime().getYear() + "/"
              + event.getTime().getMonthOfYear() + " from " + event.getSource();
        }
      }
      """;

  static final String HTTP_API_EVENT =
      """
      {
        "version": "2.0",
        "routeKey": "POST /orders",
        "rawPath": "/orders",
        "rawQueryString": "name=kiln",
        "headers": {"user-agent": "curl/8.5.0", "content-type": "application/json"},
        "queryStringParameters": {"name": "kiln"},
        "requestContext": {
          "accountId": "123456789012",
          "apiId": "api-id",
          "domainName": "id.execute-api.us-east-1.amazonaws.com",
          "http": {
            "method": "POST",
            "path": "/orders",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "curl/8.5.0"
          },
          "requestId": "JKJaXmPLvHcESHA=",
          "routeKey": "POST /orders",
          "stage": "$default",
          "time": "10/Mar/2024:13:40:52 +0000",
          "timeEpoch": 1710078052000
        },
        "body": "{\\"item\\": \\"tea\\"}",
        "isBase64Encoded": false
      }
      """;

  static final String SQS_EVENT =
      """
      {
        "Records": [
          {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "body": "good",
            "attributes": {
              "ApproximateReceiveCount": "1",
              "SentTimestamp": "1545082649183",
              "SenderId": "AIDAIENQZJOLO23YVJ4VO",
              "ApproximateFirstReceiveTimestamp": "1545082649185"
            },
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:my-queue",
            "awsRegion": "us-east-1"
          },
          {
            "messageId": "2e1424d4-f796-459a-8184-9c92662be6da",
            "receiptHandle": "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq",
            "body": "bad",
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:my-queue",
            "awsRegion": "us-east-1"
          }
        ]
      }
      """;

  static final String SCHEDULED_EVENT =
      """
      {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2024-03-10T13:40:52Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-schedule"],
        "detail": {}
      }
      """;

  /**
   * What AWS's java17+ runtimes turn an event into, compiled as real functions: records (nested, in
   * lists, as map values) in and out, and AWS's event classes (aws-lambda-java-events, shipped in
   * the zip's {@code lib/} with joda-time as a user packages them) in and their response classes
   * out.
   */
  @Test
  void records_andAwsEventClasses_asInputAndOutput() throws Exception {
    Compilers.requireJdk17();
    Path events =
        Compilers.jarOf(com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent.class);
    Path joda = Compilers.jarOf(org.joda.time.DateTime.class);
    Map<String, byte[]> entries =
        new java.util.TreeMap<>(
            Compilers.java(
                Map.of(
                    "example.Records", RECORDS,
                    "example.Prices", RECORD_MAP,
                    "example.HttpApi", HTTP_API,
                    "example.SqsBatch", SQS_BATCH,
                    "example.Scheduled", SCHEDULED),
                java.util.List.of(events, joda)));
    entries.put("lib/" + events.getFileName(), Files.readAllBytes(events));
    entries.put("lib/" + joda.getFileName(), Files.readAllBytes(joda));
    byte[] zip = Compilers.zip(entries);
    try (KilnFixture kiln = new KilnFixture()) {
      for (String handler :
          java.util.List.of("Records", "Prices", "HttpApi", "SqsBatch", "Scheduled")) {
        kiln.create(
            handler.toLowerCase(java.util.Locale.ROOT),
            Runtime.JAVA17,
            "example." + handler + "::handleRequest",
            zip);
        kiln.lambda.updateFunctionConfiguration(
            b ->
                b.functionName(handler.toLowerCase(java.util.Locale.ROOT))
                    .memorySize(512)
                    .timeout(30));
      }

      JsonNode receipt =
          invokeJson(
              kiln,
              "records",
              "{\"customer\": \"ada\", \"lines\": [{\"item\": \"tea\", \"count\": 2},"
                  + " {\"item\": \"cake\", \"count\": 1}]}");
      assertThat(receipt)
          .isEqualTo(
              JSON.readTree(
                  "{\"customer\": \"ada\", \"total\": 3, \"items\": [\"tea\", \"cake\"]}"));

      assertThat(
              invokeJson(
                  kiln,
                  "prices",
                  "{\"tea\": {\"currency\": \"EUR\", \"amount\": 1.5},"
                      + " \"cake\": {\"currency\": \"EUR\", \"amount\": 3}}"))
          .isEqualTo(JSON.readTree("{\"cake\": \"6.0 EUR\", \"tea\": \"3.0 EUR\"}"));

      JsonNode http = invokeJson(kiln, "httpapi", HTTP_API_EVENT);
      assertThat(http.get("statusCode").asInt()).isEqualTo(201);
      assertThat(http.get("headers").get("Content-Type").asText()).isEqualTo("text/plain");
      assertThat(http.get("body").asText())
          .isEqualTo("POST /orders name=kiln agent=curl/8.5.0 body={\"item\": \"tea\"}");

      assertThat(invokeJson(kiln, "sqsbatch", SQS_EVENT))
          .isEqualTo(
              JSON.readTree(
                  "{\"batchItemFailures\": [{\"itemIdentifier\":"
                      + " \"2e1424d4-f796-459a-8184-9c92662be6da\"}]}"));

      assertThat(invokeJson(kiln, "scheduled", SCHEDULED_EVENT).asText())
          .isEqualTo("Scheduled Event at 2024/3 from aws.events");
    }
  }

  private static JsonNode invokeJson(KilnFixture kiln, String function, String event)
      throws Exception {
    InvokeResponse r =
        kiln.lambda.invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String(event)));
    assertThat(r.functionError()).as(function + ": " + r.payload().asUtf8String()).isNull();
    return JSON.readTree(r.payload().asUtf8String());
  }

  static final Path JDK17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
  static final Path JDK25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");

  /** Whether a JDK of major version {@code feature} is installed where Kiln looks for JDKs. */
  static boolean jdkInstalled(int feature) throws Exception {
    try (var homes = Files.list(Path.of("/usr/lib/jvm"))) {
      for (Path home : homes.toList()) {
        Path release = home.resolve("release");
        if (Files.isRegularFile(release)
            && Files.readString(release).contains("JAVA_VERSION=\"" + feature + ".")) {
          return true;
        }
      }
    }
    return false;
  }

  /** A cold invoke of the {@code Hello} function: its answer, and its log with INIT_START. */
  private static Map.Entry<JsonNode, String> coldHello(
      software.amazon.awssdk.services.lambda.LambdaClient lambda, String function)
      throws Exception {
    InvokeResponse r =
        lambda.invoke(
            b ->
                b.functionName(function)
                    .logType(software.amazon.awssdk.services.lambda.model.LogType.TAIL)
                    .payload(SdkBytes.fromUtf8String("{\"name\": \"kiln\"}")));
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    String log =
        new String(
            java.util.Base64.getDecoder().decode(r.logResult()),
            java.nio.charset.StandardCharsets.UTF_8);
    return Map.entry(JSON.readTree(r.payload().asUtf8String()), log);
  }

  /**
   * Debian 12 ships no JDK 21: a java21 function runs on the nearest newer JDK installed (25 here),
   * and the banner and the function's INIT_START line say which.
   */
  @Test
  void java21_withoutAJdk21_runsOnTheNearestNewerJdk_andSaysSo() throws Exception {
    Compilers.requireJdk17();
    org.junit.jupiter.api.Assumptions.assumeTrue(
        !jdkInstalled(21) && jdkInstalled(25) && Files.isExecutable(JDK25),
        "needs a host with a JDK 25 at " + JDK25 + " and no JDK 21");
    byte[] zip = Compilers.zip(Compilers.java(Map.of("example.Hello", HANDLER)));
    try (KilnFixture kiln = new KilnFixture()) {
      assertThat(kiln.server.banner())
          .contains(
              "  runtime java21: "
                  + JDK25
                  + " (JDK "
                  + RuntimeVersionOf.jdk25()
                  + "; no JDK 21 is installed, so java21 runs on the nearest newer JDK)");
      kiln.create("hello-java21", Runtime.JAVA21, "example.Hello::handleRequest", zip);
      kiln.lambda.updateFunctionConfiguration(
          b -> b.functionName("hello-java21").memorySize(512).timeout(30));
      var cold = coldHello(kiln.lambda, "hello-java21");
      assertThat(cold.getKey().get("greeting").asText()).isEqualTo("hello kiln");
      assertThat(cold.getKey().get("java").asText()).isEqualTo("25");
      assertThat(cold.getValue())
          .contains("INIT_START Runtime Version: java21 on JDK " + RuntimeVersionOf.jdk25() + "\t");
    }
  }

  /** {@code kiln server --runtime java21=PATH} pins the JDK, over the nearest one. */
  @Test
  void aPinnedJdk_winsForJava21() throws Exception {
    Compilers.requireJdk17();
    byte[] zip = Compilers.zip(Compilers.java(Map.of("example.Hello", HANDLER)));
    Path data = dev.kiln.testing.TempDirs.create("kiln-pinned-jdk-");
    try (ServerProcess server =
            ServerProcess.start(data, ServerProcess.freePort(), "--runtime", "java21=" + JDK17);
        var lambda = KilnFixture.client(server)) {
      assertThat(server.output())
          .contains("runtime java21: " + JDK17 + " (JDK 17.")
          .contains(", set with --runtime; older than java21 needs)");
      lambda.createFunction(
          b ->
              b.functionName("pinned-java21")
                  .runtime(Runtime.JAVA21)
                  .handler("example.Hello::handleRequest")
                  .role(KilnFixture.ROLE)
                  .memorySize(512)
                  .timeout(30)
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
      var cold = coldHello(lambda, "pinned-java21");
      assertThat(cold.getKey().get("java").asText()).isEqualTo("17");
      assertThat(cold.getValue()).contains("INIT_START Runtime Version: java21 on JDK 17.");
    }
  }

  /**
   * JDK 24 and later warn at every start of a JVM whose code calls System.load without native
   * access granted, as AWS's runtime client does; Kiln grants it, as Lambda's runtime does, so a
   * java25 cold start's log is the function's own.
   */
  @Test
  void aJava25ColdStart_logsNoRestrictedMethodWarnings() throws Exception {
    Compilers.requireJdk17();
    org.junit.jupiter.api.Assumptions.assumeTrue(jdkInstalled(25), "needs a JDK 25");
    byte[] zip = Compilers.zip(Compilers.java(Map.of("example.Hello", HANDLER)));
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.lambda.createFunction(
          b ->
              b.functionName("hello-java25")
                  .runtime("java25") // newer than this SDK's list of runtimes
                  .handler("example.Hello::handleRequest")
                  .role(KilnFixture.ROLE)
                  .memorySize(512)
                  .timeout(30)
                  .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
      var cold = coldHello(kiln.lambda, "hello-java25");
      assertThat(cold.getKey().get("java").asText()).isEqualTo("25");
      assertThat(cold.getValue())
          .contains("hello from java")
          .doesNotContain("WARNING")
          .doesNotContain("restricted method");
    }
  }

  /** The version of the JDK 25 this host has, as its release file gives it. */
  static final class RuntimeVersionOf {
    static String jdk25() throws Exception {
      java.util.Properties p = new java.util.Properties();
      try (var in = Files.newBufferedReader(JDK25.getParent().getParent().resolve("release"))) {
        p.load(in);
      }
      return p.getProperty("JAVA_VERSION").replace("\"", "");
    }
  }

  /** Every line of {@code function}'s log group, as one text. */
  private static String logText(
      software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient logs, String function) {
    return String.join(
        "",
        logs.filterLogEvents(b -> b.logGroupName("/aws/lambda/" + function)).events().stream()
            .map(e -> e.message())
            .toList());
  }

  private static String invokeText(KilnFixture kiln, String function) {
    InvokeResponse r =
        kiln.lambda.invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String("{}")));
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    return r.payload().asUtf8String();
  }
}
