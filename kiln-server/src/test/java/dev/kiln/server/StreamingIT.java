package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaAsyncClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamCompleteEvent;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamRequest;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamResponse;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamResponseHandler;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.ResponseStreamingInvocationType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Response streaming end to end: InvokeWithResponseStream through the SDK's async client (which
 * reads the event stream's framing and checks its CRCs), Node.js functions written with {@code
 * awslambda.streamifyResponse}, a shell runtime streaming with curl, and buffered functions.
 */
class StreamingIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static LambdaAsyncClient async;

  @BeforeAll
  static void client() {
    async =
        LambdaAsyncClient.builder()
            .endpointOverride(kiln.server().endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(kiln.fixture().credentials()))
            .httpClientBuilder(NettyNioAsyncHttpClient.builder().readTimeout(Duration.ofMinutes(2)))
            .overrideConfiguration(
                c -> c.retryPolicy(software.amazon.awssdk.core.retry.RetryPolicy.none()))
            .build();
  }

  @AfterAll
  static void close() {
    if (async != null) {
      async.close();
    }
  }

  /** What one InvokeWithResponseStream delivered, as it arrived. */
  static final class Received {
    final BlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
    final List<byte[]> all = new ArrayList<>();
    final CompletableFuture<InvokeWithResponseStreamCompleteEvent> complete =
        new CompletableFuture<>();
    final CompletableFuture<InvokeWithResponseStreamResponse> response = new CompletableFuture<>();
    CompletableFuture<Void> call;

    String body() {
      StringBuilder b = new StringBuilder();
      chunks.drainTo(all);
      all.forEach(c -> b.append(new String(c, StandardCharsets.UTF_8)));
      return b.toString();
    }

    InvokeWithResponseStreamCompleteEvent end() throws Exception {
      call.get(60, TimeUnit.SECONDS);
      return complete.get(60, TimeUnit.SECONDS);
    }
  }

  static Received invoke(String function, String payload) {
    return invoke(
        InvokeWithResponseStreamRequest.builder()
            .functionName(function)
            .payload(SdkBytes.fromUtf8String(payload))
            .build());
  }

  static Received invoke(InvokeWithResponseStreamRequest request) {
    Received r = new Received();
    InvokeWithResponseStreamResponseHandler handler =
        InvokeWithResponseStreamResponseHandler.builder()
            .onResponse(r.response::complete)
            .onError(r.complete::completeExceptionally)
            .subscriber(
                InvokeWithResponseStreamResponseHandler.Visitor.builder()
                    .onPayloadChunk(c -> r.chunks.add(c.payload().asByteArray()))
                    .onInvokeComplete(r.complete::complete)
                    .build())
            .build();
    r.call = async.invokeWithResponseStream(request, handler);
    return r;
  }

  @Test
  void theFirstChunkArrivesBeforeTheFunctionWritesItsLast() throws Exception {
    // the function writes its second chunk only once the signal function exists, and the test
    // creates that only once it has the first chunk: nothing here depends on timing
    String role;
    try (var iam = kiln.fixture().iamClient()) {
      role =
          iam.createRole(
                  b -> b.roleName("signal-watcher").assumeRolePolicyDocument(RolesIT.LAMBDA_TRUST))
              .role()
              .arn();
      iam.putRolePolicy(
          b ->
              b.roleName("signal-watcher")
                  .policyName("see-the-signal")
                  .policyDocument(
                      """
                      {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                        "Action": "lambda:GetFunction", "Resource": "*"}]}
                      """));
    }
    String code =
        """
        const { LambdaClient, GetFunctionCommand } = require('@aws-sdk/client-lambda');
        exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
          responseStream.setContentType('text/plain');
          responseStream.write('first chunk\\n');
          const client = new LambdaClient({});
          for (;;) {
            try {
              await client.send(new GetFunctionCommand({ FunctionName: event.signal }));
              break;
            } catch (e) {
              if (e.name !== 'ResourceNotFoundException') throw e;
              await new Promise((r) => setTimeout(r, 100));
            }
          }
          console.log('signal seen: writing the last chunk');
          responseStream.write('last chunk\\n');
          responseStream.end();
        });
        """;
    kiln.lambda()
        .createFunction(
            b ->
                b.functionName("stream-two-chunks")
                    .runtime(Runtime.NODEJS20_X)
                    .handler("index.handler")
                    .role(role)
                    .timeout(60)
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of("index.js", code)))));
    Received r = invoke("stream-two-chunks", "{\"signal\": \"stream-signal\"}");
    byte[] first = r.chunks.poll(60, TimeUnit.SECONDS);
    assertThat(first).as("the first chunk, while the function waits").isNotNull();
    assertThat(new String(first, StandardCharsets.UTF_8)).isEqualTo("first chunk\n");
    assertThat(r.complete).as("the stream is still open").isNotDone();
    assertThat(r.response.get(10, TimeUnit.SECONDS).executedVersion()).isEqualTo("$LATEST");
    assertThat(r.response.get().responseStreamContentType())
        .isEqualTo("application/vnd.amazon.eventstream");
    r.all.add(first);
    kiln.python("stream-signal", "def handler(event, context):\n    return 1\n");
    InvokeWithResponseStreamCompleteEvent end = r.end();
    assertThat(end.errorCode()).as(end.errorDetails()).isNull();
    assertThat(r.body()).isEqualTo("first chunk\nlast chunk\n");
  }

  @Test
  void anErrorMidStream_endsWithInvokeCompleteAndItsErrorCode() throws Exception {
    kiln.node(
        "stream-fails",
        "index.js",
        """
        exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
          responseStream.write('partial');
          await new Promise((r) => setTimeout(r, 50));
          throw new TypeError('broke mid-stream');
        });
        """);
    Received r = invoke("stream-fails", "{}");
    InvokeWithResponseStreamCompleteEvent end = r.end();
    assertThat(r.body()).isEqualTo("partial");
    assertThat(end.errorCode()).isNotNull();
    assertThat(end.errorDetails()).contains("broke mid-stream");
  }

  @Test
  void anErrorBeforeAnyByte_isAnOrdinaryFunctionError() throws Exception {
    kiln.node(
        "stream-fails-early",
        "index.js",
        """
        exports.handler = awslambda.streamifyResponse(async () => {
          throw new Error('nothing written');
        });
        """);
    Received r = invoke("stream-fails-early", "{}");
    InvokeWithResponseStreamCompleteEvent end = r.end();
    assertThat(r.body()).isEmpty();
    assertThat(end.errorCode()).isEqualTo("Unhandled");
    assertThat(end.errorDetails()).contains("nothing written");
  }

  @Test
  void aBufferedFunction_givesItsWholePayloadAsOneChunk_withTheLogTail() throws Exception {
    kiln.python(
        "buffered-py",
        """
        def handler(event, context):
            print("buffered says hi")
            return {"echo": event["n"]}
        """);
    Received r =
        invoke(
            InvokeWithResponseStreamRequest.builder()
                .functionName("buffered-py")
                .logType(LogType.TAIL)
                .payload(SdkBytes.fromUtf8String("{\"n\": 7}"))
                .build());
    InvokeWithResponseStreamCompleteEvent end = r.end();
    assertThat(end.errorCode()).isNull();
    r.body();
    assertThat(r.all).hasSize(1);
    assertThat(new String(r.all.get(0), StandardCharsets.UTF_8)).isEqualTo("{\"echo\": 7}");
    assertThat(new String(Base64.getDecoder().decode(end.logResult()), StandardCharsets.UTF_8))
        .contains("buffered says hi")
        .contains("REPORT RequestId");
  }

  @Test
  void aStreamingFunction_calledWithInvoke_answersBuffered() {
    kiln.node(
        "stream-via-invoke",
        "index.js",
        """
        exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
          responseStream.write('one,');
          responseStream.write('two');
          responseStream.end();
        });
        """);
    InvokeResponse r =
        kiln.lambda()
            .invoke(
                b -> b.functionName("stream-via-invoke").payload(SdkBytes.fromUtf8String("{}")));
    assertThat(r.functionError()).isNull();
    assertThat(r.payload().asUtf8String()).isEqualTo("one,two");
  }

  @Test
  void httpResponseStreamFrom_writesThePreludeAndEightNulBytes() throws Exception {
    kiln.node(
        "stream-http",
        "index.js",
        """
        exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
          responseStream = awslambda.HttpResponseStream.from(responseStream, {
            statusCode: 201, headers: { 'x-kind': 'streamed' } });
          responseStream.write('body');
          responseStream.end();
        });
        """);
    Received r = invoke("stream-http", "{}");
    assertThat(r.end().errorCode()).isNull();
    assertThat(r.body())
        .isEqualTo(
            "{\"statusCode\":201,\"headers\":{\"x-kind\":\"streamed\"}}" + "\0".repeat(8) + "body");
  }

  @Test
  void aDryRun_isAnswered204_andRunsNothing() throws Exception {
    kiln.python("dry-stream", "def handler(event, context):\n    raise Exception('ran')\n");
    Received r =
        invoke(
            InvokeWithResponseStreamRequest.builder()
                .functionName("dry-stream")
                .invocationType(ResponseStreamingInvocationType.DRY_RUN)
                .build());
    assertThat(r.response.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(204);
  }

  @Test
  void aShellRuntime_streamsWithCurl() throws Exception {
    Tools.require("curl");
    String script =
        """
        #!/bin/sh
        API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
        while true; do
          HEADERS=$(mktemp)
          curl -sS -D "$HEADERS" -o /dev/null "$API/invocation/next" || exit 1
          ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d: -f2 | tr -d ' \\r\\n')
          printf 'streamed by curl' | curl -sS -X POST -T - \\
            -H 'Lambda-Runtime-Function-Response-Mode: streaming' \\
            -H 'Transfer-Encoding: chunked' -H 'Content-Type: text/plain' \\
            "$API/invocation/$ID/response" > /dev/null
        done
        """;
    kiln.create(
        "curl-stream",
        Runtime.PROVIDED_AL2023,
        "function.handler",
        ZipsWithLinks.executable("bootstrap", script.getBytes(StandardCharsets.UTF_8)));
    Received r = invoke("curl-stream", "{}");
    assertThat(r.end().errorCode()).isNull();
    assertThat(r.body()).isEqualTo("streamed by curl");
  }

  @Test
  void aStreamOverTheLimit_endsWithResponseSizeTooLarge() throws Exception {
    // Lambda's limit is 200 MB, paced to 2 MB/s past 6 MB: too slow for a test, so lower both
    var api = kiln.server().runtimeApi();
    api.streamLimits(1024 * 1024, 512 * 1024, 64L * 1024 * 1024);
    try {
      kiln.node(
          "stream-too-big",
          "index.js",
          """
          exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
            const chunk = Buffer.alloc(64 * 1024, 120);
            for (let i = 0; i < 32; i++) responseStream.write(chunk);
            responseStream.end();
          });
          """);
      Received r = invoke("stream-too-big", "{}");
      InvokeWithResponseStreamCompleteEvent end = r.end();
      assertThat(end.errorCode()).isEqualTo("Function.ResponseSizeTooLarge");
      assertThat(r.body().length()).isLessThanOrEqualTo(1024 * 1024);
    } finally {
      api.streamLimits(
          dev.kiln.runtimeapi.RuntimeApiServer.MAX_STREAMED_BYTES,
          dev.kiln.runtimeapi.RuntimeApiServer.STREAM_BURST_BYTES,
          dev.kiln.runtimeapi.RuntimeApiServer.STREAM_BYTES_PER_SECOND);
    }
  }
}
