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

  private static String invokeText(KilnFixture kiln, String function) {
    InvokeResponse r =
        kiln.lambda.invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String("{}")));
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    return r.payload().asUtf8String();
  }
}
