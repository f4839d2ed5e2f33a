package dev.kiln.server;

import static dev.kiln.server.BadInputIT.assertAwsError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * C# on Mono: a handler compiled here with mcs against the {@code Amazon.Lambda.Core} Kiln builds,
 * invoked with a POCO, a string through an async method, and a Stream; its context, its logger, and
 * AWS's error document for an exception.
 */
class DotnetRuntimeIT {

  static final ObjectMapper JSON = new ObjectMapper();

  static final String HANDLER =
      """
      using System;
      using System.IO;
      using System.Threading.Tasks;
      using Amazon.Lambda.Core;

      namespace Example
      {
          public class Order { public string Item { get; set; } public int Count { get; set; } }

          public class Receipt
          {
              public string Message { get; set; }
              public string Function { get; set; }
              public string RequestId { get; set; }
              public int Memory { get; set; }
              public double RemainingMs { get; set; }
              public string Arn { get; set; }
          }

          public class Functions
          {
              public Receipt Handle(Order order, ILambdaContext context)
              {
                  if (order.Count < 0) throw new ArgumentException("count must not be negative");
                  context.Logger.LogLine("ordering " + order.Item);
                  return new Receipt
                  {
                      Message = order.Count + " x " + order.Item,
                      Function = context.FunctionName,
                      RequestId = context.AwsRequestId,
                      Memory = context.MemoryLimitInMB,
                      RemainingMs = context.RemainingTime.TotalMilliseconds,
                      Arn = context.InvokedFunctionArn,
                  };
              }

              public static async Task<string> Shout(string text)
              {
                  await Task.Delay(1);
                  return text.ToUpper();
              }

              public Stream Echo(Stream input) { return input; }
          }
      }
      """;

  @Test
  void aCSharpHandler_runsOnMono_withContextLoggerAndAwsErrorDocuments() throws Exception {
    Tools.require("mcs");
    Tools.require("mono");
    try (KilnFixture kiln = new KilnFixture()) {
      Path core = kiln.dataDir.resolve("runtimes/dotnet/Amazon.Lambda.Core.dll");
      assertThat(core).as("Kiln built its Amazon.Lambda.Core at start-up").exists();
      byte[] dll = Compilers.csharp(core, "Example", HANDLER);
      byte[] zip = Compilers.zip(java.util.Map.of("Example.dll", dll));

      kiln.create("cs-order", Runtime.DOTNET8, "Example::Example.Functions::Handle", zip);
      InvokeResponse ok =
          kiln.lambda.invoke(
              b ->
                  b.functionName("cs-order")
                      .logType(LogType.TAIL)
                      .payload(SdkBytes.fromUtf8String("{\"Item\": \"tea\", \"Count\": 2}")));
      assertThat(ok.functionError()).as(ok.payload().asUtf8String()).isNull();
      JsonNode receipt = JSON.readTree(ok.payload().asUtf8String());
      assertThat(receipt.get("Message").asText()).isEqualTo("2 x tea");
      assertThat(receipt.get("Function").asText()).isEqualTo("cs-order");
      assertThat(receipt.get("RequestId").asText()).isEqualTo(ok.responseMetadata().requestId());
      assertThat(receipt.get("Memory").asInt()).isEqualTo(128);
      assertThat(receipt.get("RemainingMs").asDouble()).isBetween(1.0, 3000.0);
      assertThat(receipt.get("Arn").asText())
          .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:cs-order");
      assertThat(new String(Base64.getDecoder().decode(ok.logResult()), StandardCharsets.UTF_8))
          .contains("ordering tea");

      InvokeResponse failed =
          kiln.lambda.invoke(
              b ->
                  b.functionName("cs-order")
                      .payload(SdkBytes.fromUtf8String("{\"Item\": \"tea\", \"Count\": -1}")));
      assertThat(failed.functionError()).isEqualTo("Unhandled");
      JsonNode doc = JSON.readTree(failed.payload().asUtf8String());
      assertThat(doc.get("errorType").asText()).isEqualTo("ArgumentException");
      assertThat(doc.get("errorMessage").asText()).isEqualTo("count must not be negative");
      assertThat(doc.get("stackTrace").isArray()).isTrue();

      kiln.create("cs-shout", Runtime.DOTNET8, "Example::Example.Functions::Shout", zip);
      assertThat(
              kiln.lambda
                  .invoke(
                      b -> b.functionName("cs-shout").payload(SdkBytes.fromUtf8String("\"hi\"")))
                  .payload()
                  .asUtf8String())
          .as("a static async Task<string> handler")
          .isEqualTo("\"HI\"");

      kiln.create("cs-echo", Runtime.DOTNET8, "Example::Example.Functions::Echo", zip);
      assertThat(
              kiln.lambda
                  .invoke(
                      b ->
                          b.functionName("cs-echo")
                              .payload(SdkBytes.fromUtf8String("{\"raw\": [1, 2]}")))
                  .payload()
                  .asUtf8String())
          .as("a Stream in, a Stream out: the bytes as they are")
          .isEqualTo("{\"raw\": [1, 2]}");

      kiln.create("cs-missing", Runtime.DOTNET8, "Example::Example.Nope::Handle", zip);
      JsonNode init =
          JSON.readTree(
              kiln.lambda
                  .invoke(b -> b.functionName("cs-missing").payload(SdkBytes.fromUtf8String("{}")))
                  .payload()
                  .asUtf8String());
      assertThat(init.get("errorType").asText()).isEqualTo("LambdaException");
      assertThat(init.get("errorMessage").asText())
          .isEqualTo("Unable to load type 'Example.Nope' from assembly 'Example'.");

      assertAwsError(
          catchThrowableOfType(
              AwsServiceException.class,
              () ->
                  kiln.create(
                      "cs-powershell",
                      Runtime.DOTNET8,
                      "Script::Script.Bootstrap::ExecuteFunction",
                      zip)),
          400,
          "InvalidParameterValueException",
          "PowerShell");
    }
  }
}
