package dev.kiln.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.invoke.InvocationStream;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.InvokeRequest;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.runtimeapi.ResponseStream;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * InvokeWithResponseStream ({@code POST
 * /2021-11-15/functions/{name}/response-streaming-invocations}): the response as an {@code
 * application/vnd.amazon.eventstream}, a {@code PayloadChunk} event per chunk the function wrote,
 * sent as it arrives, then one {@code InvokeComplete} with the function error ({@code ErrorCode},
 * {@code ErrorDetails}) if it failed and the log's tail ({@code LogResult}) if asked for. The
 * framing (prelude, CRC32s, typed headers) is written by software.amazon.eventstream, the library
 * the AWS SDKs read it with. A function that answers buffered gives its whole payload as one chunk,
 * as on Lambda.
 */
final class StreamingInvokeApi {

  private static final String PATH = "/2021-11-15/functions/{name}/response-streaming-invocations";

  /** How long a chunk may take to come before the stream is given up (past any deadline). */
  private static final Duration PATIENCE = Duration.ofMinutes(16);

  private final Invocations invocations;
  private final Account account;

  StreamingInvokeApi(Invocations invocations, Account account) {
    this.invocations = invocations;
    this.account = account;
  }

  void routes(HttpRouting.Builder r) {
    r.post(PATH, this::invoke);
  }

  private void invoke(ServerRequest req, ServerResponse res) throws IOException {
    FunctionRef ref = LambdaApi.functionRef(req, account);
    String type = LambdaApi.header(req, "X-Amz-Invocation-Type").orElse("RequestResponse");
    String logType = LambdaApi.header(req, "X-Amz-Log-Type").orElse("None");
    if (!logType.equals("None") && !logType.equals("Tail")) {
      throw LambdaError.validation(
          "logType", logType, "Member must satisfy enum value set: [None, Tail]");
    }
    if (!type.equals("RequestResponse") && !type.equals("DryRun")) {
      throw LambdaError.validation(
          "invocationType", type, "Member must satisfy enum value set: [RequestResponse, DryRun]");
    }
    Optional<String> clientContext =
        LambdaApi.header(req, "X-Amz-Client-Context").map(LambdaApi::clientContext);
    byte[] payload =
        InvokePayload.check(
            LambdaApi.readBody(req, LambdaApi.MAX_INVOKE_PAYLOAD, "InvokeWithResponseStream"));
    invocations.resolve(ref); // an unknown function or qualifier is refused before anything runs
    if (type.equals("DryRun")) {
      res.status(204).header("x-amzn-RequestId", LambdaApi.requestId(req)).send();
      return;
    }
    InvocationStream result =
        invocations.stream(
            InvokeRequest.sync(ref, payload)
                .withClientContext(clientContext)
                .withTailLog(logType.equals("Tail"))
                .withTraceHeader(req.headers().first(LambdaApi.TRACE_HEADER)));
    ResponseStream body = result.body();
    res.status(200)
        .header("x-amzn-RequestId", result.requestId())
        .header("X-Amz-Executed-Version", result.executedVersion())
        .header(HeaderNames.CONTENT_TYPE, "application/vnd.amazon.eventstream");
    try (OutputStream out = res.outputStream()) {
      while (true) {
        Optional<byte[]> chunk = body.next(PATIENCE);
        if (chunk.isEmpty()) {
          break;
        }
        payloadChunk(chunk.get()).encode(out);
        out.flush();
      }
      ResponseStream.End end = body.end().join();
      Optional<String> tail = Optional.empty();
      try {
        tail = result.logTail().get(TAIL_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        // the invocation is not written up yet: no tail
      }
      invokeComplete(end, tail).encode(out);
      out.flush();
    } catch (UncheckedIOException | IOException e) {
      // the client went away: drop the rest, the function runs on to its end
      body.cancel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      body.cancel();
    } catch (IllegalStateException e) {
      body.cancel();
    }
  }

  /** The write-up (and so the tail) follows the stream's end by the runtime's next poll. */
  private static final long TAIL_WAIT_SECONDS = 5;

  static Message payloadChunk(byte[] bytes) {
    Map<String, HeaderValue> headers = new LinkedHashMap<>();
    headers.put(":event-type", HeaderValue.fromString("PayloadChunk"));
    headers.put(":content-type", HeaderValue.fromString("application/octet-stream"));
    headers.put(":message-type", HeaderValue.fromString("event"));
    return new Message(headers, bytes);
  }

  static Message invokeComplete(ResponseStream.End end, Optional<String> logTail) {
    ObjectNode doc = FunctionJson.JSON.createObjectNode();
    end.errorType().ifPresent(t -> doc.put("ErrorCode", t));
    if (end.failed()) {
      doc.put("ErrorDetails", new String(end.errorBody(), StandardCharsets.UTF_8));
    }
    logTail.ifPresent(t -> doc.put("LogResult", t));
    Map<String, HeaderValue> headers = new LinkedHashMap<>();
    headers.put(":event-type", HeaderValue.fromString("InvokeComplete"));
    headers.put(":content-type", HeaderValue.fromString("application/json"));
    headers.put(":message-type", HeaderValue.fromString("event"));
    return new Message(headers, doc.toString().getBytes(StandardCharsets.UTF_8));
  }
}
