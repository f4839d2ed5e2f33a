package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Assumptions;
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
    Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
    if (!Files.isExecutable(jdk17)) {
      Assumptions.abort("a JDK 17 is needed at " + jdk17);
    }
    Path src = Files.createTempDirectory("kiln-java-src-");
    Path classes = Files.createDirectories(src.resolve("classes"));
    Path file = Files.createDirectories(src.resolve("example")).resolve("Hello.java");
    Files.writeString(file, HANDLER);
    Path stream = src.resolve("example").resolve("Shout.java");
    Files.writeString(stream, STREAM_HANDLER);
    String core =
        Path.of(
                com.amazonaws.services.lambda.runtime.Context.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI())
            .toString();
    int compiled =
        ToolProvider.getSystemJavaCompiler()
            .run(
                null,
                null,
                null,
                "--release",
                "17",
                "-cp",
                core,
                "-d",
                classes.toString(),
                file.toString(),
                stream.toString());
    assertThat(compiled).isZero();
    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(zip)) {
      out.putNextEntry(new ZipEntry("example/Hello.class"));
      out.write(Files.readAllBytes(classes.resolve("example/Hello.class")));
      out.closeEntry();
      out.putNextEntry(new ZipEntry("example/Shout.class"));
      out.write(Files.readAllBytes(classes.resolve("example/Shout.class")));
      out.closeEntry();
    }

    try (KilnFixture kiln = new KilnFixture()) {
      kiln.create("hello-java", Runtime.JAVA17, "example.Hello::handleRequest", zip.toByteArray());
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
              b -> b.functionName("hello-java").payload(SdkBytes.fromUtf8String("{\"fail\": 1}")));
      assertThat(failed.functionError()).isEqualTo("Unhandled");
      JsonNode doc = JSON.readTree(failed.payload().asUtf8String());
      assertThat(doc.get("errorType").asText()).isEqualTo("java.lang.IllegalStateException");
      assertThat(doc.get("errorMessage").asText()).isEqualTo("asked to fail");
      assertThat(doc.get("stackTrace").isArray()).isTrue();

      // a RequestStreamHandler, named by its class alone
      kiln.create("shout-java", Runtime.JAVA17, "example.Shout", zip.toByteArray());
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
    Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
    if (!Files.isExecutable(jdk17)) {
      Assumptions.abort("a JDK 17 is needed at " + jdk17);
    }
    Path src = Files.createTempDirectory("kiln-java-lib-");
    Path classes = Files.createDirectories(src.resolve("classes"));
    Path helper = Files.createDirectories(src.resolve("lib")).resolve("Helper.java");
    Files.writeString(helper, HELPER);
    Path handler = Files.createDirectories(src.resolve("example")).resolve("UsesLib.java");
    Files.writeString(handler, USES_LIB);
    String core =
        Path.of(
                com.amazonaws.services.lambda.runtime.Context.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI())
            .toString();
    assertThat(
            ToolProvider.getSystemJavaCompiler()
                .run(
                    null,
                    null,
                    null,
                    "--release",
                    "17",
                    "-cp",
                    core,
                    "-d",
                    classes.toString(),
                    helper.toString(),
                    handler.toString()))
        .isZero();
    byte[] helperClass = Files.readAllBytes(classes.resolve("lib/Helper.class"));
    byte[] handlerClass = Files.readAllBytes(classes.resolve("example/UsesLib.class"));
    byte[] helperJar = archive(java.util.Map.of("lib/Helper.class", helperClass));
    byte[] withLibDir =
        archive(
            java.util.Map.of("example/UsesLib.class", handlerClass, "lib/helper.jar", helperJar));
    byte[] fatJar =
        archive(
            java.util.Map.of(
                "META-INF/MANIFEST.MF",
                "Manifest-Version: 1.0\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "example/UsesLib.class",
                handlerClass,
                "lib/Helper.class",
                helperClass));
    byte[] handlerOnly = archive(java.util.Map.of("example/UsesLib.class", handlerClass));
    byte[] layer = archive(java.util.Map.of("java/lib/helper.jar", helperJar));

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

  private static byte[] archive(java.util.Map<String, byte[]> entries) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(bytes)) {
      for (var e : new java.util.TreeMap<>(entries).entrySet()) {
        out.putNextEntry(new ZipEntry(e.getKey()));
        out.write(e.getValue());
        out.closeEntry();
      }
    }
    return bytes.toByteArray();
  }
}
