package dev.kiln.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Runtime API's streaming response mode, spoken byte by byte as a runtime's HTTP client speaks
 * it: chunks handed on as they arrive, the end, error trailers, the size limit.
 */
class StreamingResponseTest {

  RuntimeApiServer server;
  RuntimeChannel channel;

  @BeforeEach
  void start() {
    server = RuntimeApiServer.startWithoutPeerChecks();
    channel = server.open("instance-1", Set::of);
  }

  @AfterEach
  void stop() {
    channel.close();
    server.close();
  }

  /** A runtime's connection, which takes the event and starts a streamed response. */
  final class Runtime implements AutoCloseable {
    final Socket socket;
    final OutputStream out;
    final InputStream in;

    Runtime() throws Exception {
      String[] hostPort = channel.runtimeApiAddress().split(":");
      socket = new Socket(hostPort[0], Integer.parseInt(hostPort[1]));
      out = socket.getOutputStream();
      in = socket.getInputStream();
    }

    void send(String text) throws Exception {
      out.write(text.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }

    void chunk(String data) throws Exception {
      send(Integer.toHexString(data.length()) + "\r\n" + data + "\r\n");
    }

    /** The response's status line and headers, and as much of the body as has come. */
    String answer() throws Exception {
      socket.setSoTimeout(10_000);
      byte[] buf = new byte[4096];
      StringBuilder got = new StringBuilder();
      while (!got.toString().contains("\r\n\r\n")) {
        int n = in.read(buf);
        if (n < 0) {
          break;
        }
        got.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
      }
      return got.toString();
    }

    @Override
    public void close() throws Exception {
      socket.close();
    }
  }

  RuntimeChannel.Submission taken(String id) throws Exception {
    RuntimeChannel.Submission s =
        channel.submit(
            new RuntimeEvent(
                id, "{}".getBytes(), 30_000, "arn", "Root=1", Optional.empty(), Optional.empty()));
    var http = java.net.http.HttpClient.newHttpClient();
    http.send(
        java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(
                    "http://"
                        + channel.runtimeApiAddress()
                        + "/2018-06-01/runtime/invocation/next"))
            .build(),
        java.net.http.HttpResponse.BodyHandlers.discarding());
    return s;
  }

  static String streamingPost(String id, String extraHeaders) {
    return "POST /2018-06-01/runtime/invocation/"
        + id
        + "/response HTTP/1.1\r\nHost: x\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n"
        + "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n"
        + extraHeaders
        + "\r\n";
  }

  @Test
  void chunksReachTheReader_beforeTheRuntimeSendsTheRest() throws Exception {
    RuntimeChannel.Submission s = taken("r1");
    try (Runtime runtime = new Runtime()) {
      runtime.send(streamingPost("r1", ""));
      runtime.chunk("first");
      RuntimeAnswer answer = s.answer().get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(answer).isInstanceOf(RuntimeAnswer.Streaming.class);
      ResponseStream stream = ((RuntimeAnswer.Streaming) answer).stream();
      assertThat(stream.contentType()).isEqualTo("text/plain");
      // the runtime has sent nothing more: the first chunk is here all the same
      assertThat(new String(stream.next(Duration.ofSeconds(10)).orElseThrow())).isEqualTo("first");
      assertThat(stream.end()).isNotDone();
      runtime.chunk("second");
      runtime.send("0\r\n\r\n");
      assertThat(new String(stream.next(Duration.ofSeconds(10)).orElseThrow())).isEqualTo("second");
      assertThat(stream.next(Duration.ofSeconds(10))).isEmpty();
      assertThat(stream.end().join().failed()).isFalse();
      assertThat(stream.end().join().bytes()).isEqualTo(11);
      assertThat(runtime.answer()).startsWith("HTTP/1.1 202");
    }
  }

  @Test
  void errorTrailers_endTheStreamWithTheRuntimesErrorTypeAndBody() throws Exception {
    RuntimeChannel.Submission s = taken("r2");
    String doc = "{\"errorType\":\"TypeError\",\"errorMessage\":\"broke\"}";
    try (Runtime runtime = new Runtime()) {
      runtime.send(
          streamingPost(
              "r2",
              "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"));
      runtime.chunk("partial");
      ResponseStream stream =
          ((RuntimeAnswer.Streaming) s.answer().get(10, java.util.concurrent.TimeUnit.SECONDS))
              .stream();
      assertThat(new String(stream.next(Duration.ofSeconds(10)).orElseThrow()))
          .isEqualTo("partial");
      runtime.send(
          "0\r\nLambda-Runtime-Function-Error-Type: TypeError\r\n"
              + "Lambda-Runtime-Function-Error-Body: "
              + Base64.getEncoder().encodeToString(doc.getBytes(StandardCharsets.UTF_8))
              + "\r\n\r\n");
      assertThat(stream.next(Duration.ofSeconds(10))).isEmpty();
      ResponseStream.End end = stream.end().join();
      assertThat(end.errorType()).hasValue("TypeError");
      assertThat(new String(end.errorBody(), StandardCharsets.UTF_8)).isEqualTo(doc);
      assertThat(runtime.answer()).startsWith("HTTP/1.1 202");
    }
  }

  @Test
  void aStreamOverTheLimit_endsWithResponseSizeTooLarge_andTheRuntimeIsTold413() throws Exception {
    server.streamLimits(10, 5, 1_000_000);
    RuntimeChannel.Submission s = taken("r3");
    try (Runtime runtime = new Runtime()) {
      runtime.send(streamingPost("r3", ""));
      runtime.chunk("12345678");
      ResponseStream stream =
          ((RuntimeAnswer.Streaming) s.answer().get(10, java.util.concurrent.TimeUnit.SECONDS))
              .stream();
      assertThat(stream.next(Duration.ofSeconds(10))).isPresent();
      runtime.chunk("9abcdef");
      assertThat(stream.next(Duration.ofSeconds(10))).isEmpty();
      assertThat(stream.end().join().errorType()).hasValue("Function.ResponseSizeTooLarge");
      assertThat(runtime.answer()).startsWith("HTTP/1.1 413");
    }
  }

  @Test
  void aReaderThatGivesUp_neverBlocksTheWriter() {
    ResponseStream stream = new ResponseStream("application/octet-stream");
    stream.cancel();
    for (int i = 0; i < 1000; i++) {
      stream.write(new byte[1024]);
    }
    stream.complete();
    assertThat(stream.end().join().bytes()).isEqualTo(1000 * 1024);
  }

  @Test
  void aBufferedAnswer_isOneChunkThenTheEnd() throws Exception {
    ResponseStream stream = ResponseStream.of("application/json", "{}".getBytes());
    assertThat(stream.next(Duration.ofSeconds(1)))
        .hasValueSatisfying(c -> assertThat(c).hasSize(2));
    assertThat(stream.next(Duration.ofSeconds(1))).isEmpty();
    assertThat(stream.end().join().failed()).isFalse();
  }
}
