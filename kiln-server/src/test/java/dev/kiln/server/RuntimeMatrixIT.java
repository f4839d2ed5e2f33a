package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * The same behaviours for every runtime: the function's environment variables, its output in the
 * log between Lambda's START, END and REPORT lines (with Init Duration on a cold start), and a
 * timeout that ends in {@code Sandbox.Timedout} and leaves the function healthy for the next call.
 * Each function prints {@code matrix-log-line}, sleeps {@code event.sleep} seconds and returns
 * {@code $GREETING}.
 */
class RuntimeMatrixIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static void check(String name, Runtime runtime, String handler, byte[] zip) throws Exception {
    kiln.lambda()
        .createFunction(
            b ->
                b.functionName(name)
                    .runtime(runtime)
                    .handler(handler)
                    .role(KilnFixture.ROLE)
                    // a full vCPU, so that a first call's JIT work (Mono, the JVM) cannot outlast
                    // the
                    // timeout on a busy machine
                    .memorySize(1769)
                    .timeout(3)
                    .environment(e -> e.variables(Map.of("GREETING", "hello-" + name)))
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    InvokeResponse ok = invoke(name, "{\"sleep\": 0}");
    assertThat(ok.functionError()).as(ok.payload().asUtf8String()).isNull();
    assertThat(ok.payload().asUtf8String()).isEqualTo("\"hello-" + name + "\"");
    String id = ok.responseMetadata().requestId();
    String log = new String(Base64.getDecoder().decode(ok.logResult()), StandardCharsets.UTF_8);
    assertThat(log)
        .contains("START RequestId: " + id + " Version: $LATEST")
        .contains("matrix-log-line")
        .contains("END RequestId: " + id)
        .containsPattern(
            "REPORT RequestId: "
                + id
                + "\tDuration: [0-9.]+ ms\tBilled Duration: [0-9]+ ms\tMemory Size: 1769 MB"
                + "\tMax Memory Used: [0-9]+ MB\tInit Duration: [0-9.]+ ms");
    assertThat(log.indexOf("matrix-log-line"))
        .as("the function's output sits between START and END")
        .isBetween(log.indexOf("START RequestId"), log.indexOf("END RequestId"));

    InvokeResponse late = invoke(name, "{\"sleep\": 5}");
    assertThat(late.functionError()).isEqualTo("Unhandled");
    JsonNode doc = JSON.readTree(late.payload().asUtf8String());
    assertThat(doc.get("errorType").asText()).isEqualTo("Sandbox.Timedout");
    assertThat(doc.get("errorMessage").asText()).contains("Task timed out after 3.00 seconds");

    InvokeResponse after = invoke(name, "{\"sleep\": 0}");
    assertThat(after.functionError()).as("a fresh instance after the timeout").isNull();
    assertThat(after.payload().asUtf8String()).isEqualTo("\"hello-" + name + "\"");
  }

  static InvokeResponse invoke(String name, String payload) {
    return kiln.lambda()
        .invoke(
            b ->
                b.functionName(name)
                    .logType(LogType.TAIL)
                    .payload(SdkBytes.fromUtf8String(payload)));
  }

  @Test
  void python() throws Exception {
    check(
        "m-python",
        Runtime.PYTHON3_12,
        "app.handler",
        Zips.of(
            "app.py",
            "import os, time\n"
                + "def handler(event, context):\n"
                + "    print('matrix-log-line')\n"
                + "    time.sleep(event.get('sleep', 0))\n"
                + "    return os.environ['GREETING']\n"));
  }

  @Test
  void node() throws Exception {
    check(
        "m-node",
        Runtime.NODEJS20_X,
        "index.handler",
        Zips.of(
            "index.js",
            "exports.handler = async (event) => {\n"
                + "  console.log('matrix-log-line');\n"
                + "  await new Promise((r) => setTimeout(r, (event.sleep || 0) * 1000));\n"
                + "  return process.env.GREETING;\n"
                + "};\n"));
  }

  @Test
  void ruby() throws Exception {
    Tools.require("ruby");
    check(
        "m-ruby",
        Runtime.RUBY3_3,
        "app.handler",
        Zips.of(
            "app.rb",
            "def handler(event:, context:)\n"
                + "  puts 'matrix-log-line'\n"
                + "  sleep(event['sleep'] || 0)\n"
                + "  ENV['GREETING']\n"
                + "end\n"));
  }

  @Test
  void java() throws Exception {
    Compilers.requireJdk17();
    Map<String, byte[]> classes =
        Compilers.java(
            Map.of(
                "example.Matrix",
                """
                package example;

                import com.amazonaws.services.lambda.runtime.Context;
                import com.amazonaws.services.lambda.runtime.RequestHandler;
                import java.util.Map;

                public class Matrix implements RequestHandler<Map<String, Object>, String> {
                  @Override
                  public String handleRequest(Map<String, Object> event, Context context) {
                    System.out.println("matrix-log-line");
                    try {
                      Thread.sleep(((Number) event.getOrDefault("sleep", 0)).longValue() * 1000);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    return System.getenv("GREETING");
                  }
                }
                """));
    check("m-java", Runtime.JAVA17, "example.Matrix::handleRequest", Compilers.zip(classes));
  }

  @Test
  void dotnet() throws Exception {
    Tools.require("mcs");
    Tools.require("mono");
    byte[] dll =
        Compilers.csharp(
            kiln.dataDir().resolve("runtimes/dotnet/Amazon.Lambda.Core.dll"),
            "Matrix",
            """
            using System;
            using System.Collections.Generic;
            using Amazon.Lambda.Core;

            namespace Matrix
            {
                public class Function
                {
                    public string Handle(Dictionary<string, object> input, ILambdaContext context)
                    {
                        Console.WriteLine("matrix-log-line");
                        object sleep;
                        if (input.TryGetValue("sleep", out sleep))
                            System.Threading.Thread.Sleep(Convert.ToInt32(sleep) * 1000);
                        return Environment.GetEnvironmentVariable("GREETING");
                    }
                }
            }
            """);
    check(
        "m-dotnet",
        Runtime.DOTNET8,
        "Matrix::Matrix.Function::Handle",
        Compilers.zip(Map.of("Matrix.dll", dll)));
  }

  @Test
  void customRuntime() throws Exception {
    Tools.require("curl");
    String bootstrap =
        """
        #!/bin/sh
        set -eu
        API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
        while true; do
          HEADERS="$(mktemp)"
          EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
          ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
          rm -f "$HEADERS"
          echo matrix-log-line
          sleep "$(echo "$EVENT" | sed -n 's/.*"sleep": *\\([0-9]*\\).*/\\1/p')"
          curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "\\"$GREETING\\""
        done
        """;
    check(
        "m-custom",
        Runtime.PROVIDED_AL2023,
        "unused",
        ZipsWithLinks.executable("bootstrap", bootstrap.getBytes(StandardCharsets.UTF_8)));
  }
}
