package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * A client that opens a connection and then stalls or trickles (slowloris) is cut off after {@code
 * --client-timeout}, on the Lambda API and on the Runtime API's server, which serves the Lambda API
 * to functions: a request stalled after part of it was sent gets a 408 (in AWS's shape on the API)
 * and the connection closes; one that sent nothing is just disconnected. Nothing is logged above
 * INFO for it, and the server goes on answering.
 *
 * <p>No timing is asserted: each socket waits up to 30 s, so that a server that never closes fails
 * the test rather than hanging it, while the server's timeout is 2 s.
 */
class SlowClientIT {

  static final Duration TIMEOUT = Duration.ofSeconds(2);
  static final int PATIENCE_MILLIS = 30_000;

  @RegisterExtension
  static final KilnServerExtension kiln =
      KilnServerExtension.withSettings(s -> s.withClientTimeout(TIMEOUT));

  static ListAppender<ILoggingEvent> logged = new ListAppender<>();

  @BeforeAll
  static void start() {
    logged.start();
    root().addAppender(logged);
  }

  @AfterAll
  static void stop() {
    root().detachAppender(logged);
  }

  static ch.qos.logback.classic.Logger root() {
    return (ch.qos.logback.classic.Logger)
        LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  @AfterEach
  void nothingLoggedAboveInfo_andTheServerStillAnswers() {
    assertThat(logged.list)
        .filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .extracting(e -> e.getLoggerName() + ": " + e.getFormattedMessage())
        .isEmpty();
    // a signed request through the SDK, on a new connection
    assertThat(kiln.lambda().listFunctions().functions()).isNotNull();
  }

  int api() {
    return kiln.server().port();
  }

  int runtimeApi() {
    return kiln.server().runtimeApiPort();
  }

  @Test
  void headersNeverFinished_areA408_inAwsShape_andTheConnectionCloses() throws Exception {
    String answer =
        answerTo(
            api(), "GET /2015-03-31/functions/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Date: 2024");
    assertThat(answer)
        .startsWith("HTTP/1.1 408")
        .contains("x-amzn-ErrorType: RequestTimeoutException")
        .containsIgnoringCase("Connection: close")
        .contains("\"message\":\"The client did not send the request in time");
  }

  @Test
  void aRequestLineNeverFinished_isA408_andTheConnectionCloses() throws Exception {
    assertThat(answerTo(api(), "GET /2015-03-31/func")).startsWith("HTTP/1.1 408");
  }

  @Test
  void aBodyThatStalls_isA408_inAwsShape_andTheConnectionCloses() throws Exception {
    String answer =
        answerTo(
            api(),
            "POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                + "{\"Functio");
    assertThat(answer)
        .startsWith("HTTP/1.1 408")
        .contains("x-amzn-ErrorType: RequestTimeoutException")
        .containsIgnoringCase("Connection: close")
        .contains("The request body stalled for 2 seconds");
  }

  @Test
  void aConnectionThatSendsNothing_isClosedWithoutAnAnswer() throws Exception {
    assertThat(answerTo(api(), "")).isEmpty();
  }

  @Test
  void headersTrickledInForever_areCutOff() throws Exception {
    // the classic slowloris: a header line every half second, never the blank line that ends them
    try (Socket s = connect(api())) {
      OutputStream out = s.getOutputStream();
      out.write(bytes("GET /2015-03-31/functions/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
      AtomicBoolean stop = new AtomicBoolean();
      Thread trickle =
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int i = 0; !stop.get() && i < 2 * PATIENCE_MILLIS / 1000; i++) {
                      try {
                        Thread.sleep(500);
                        out.write(bytes("X-Slow-" + i + ": x\r\n"));
                        out.flush();
                      } catch (IOException | InterruptedException e) {
                        return; // the server closed the connection
                      }
                    }
                  });
      String answer;
      try {
        answer = readUntilClosed(s.getInputStream());
      } finally {
        stop.set(true);
        trickle.join();
      }
      // closed, with a 408 unless the trickle's next line made the server reset the connection
      // before the answer was read
      assertThat(answer.isEmpty() || answer.startsWith("HTTP/1.1 408")).as(answer).isTrue();
    }
  }

  @Test
  void aSlowBodyThatKeepsComing_isReadToTheEnd() throws Exception {
    // 1000 bytes in 8 pieces, 0.5 s apart: 4 s in all, twice the timeout, but no pause as long
    try (Socket s = connect(api())) {
      OutputStream out = s.getOutputStream();
      out.write(
          bytes(
              "POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + "Content-Type: application/json\r\nContent-Length: 1000\r\n"
                  + "Connection: close\r\n\r\n"));
      out.flush();
      for (int i = 0; i < 8; i++) {
        Thread.sleep(500);
        out.write(new byte[125]);
        out.flush();
      }
      String answer = readUntilClosed(s.getInputStream());
      // the body was read; then the request is refused for want of a signature
      assertThat(answer).startsWith("HTTP/1.1 403").contains("x-amzn-ErrorType");
    }
  }

  @Test
  void aClientThatHangsUpMidBody_isLetGoQuietly() throws Exception {
    try (Socket s = connect(api())) {
      s.getOutputStream()
          .write(
              bytes(
                  "POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"Fu"));
    }
    // what the server logs for it would be logged by now (then checked after each test); a
    // server that waited for the rest would be cut off by the timeout anyway
    Thread.sleep(TIMEOUT.toMillis());
  }

  @Test
  void aTlsHandshakeThatStalls_isCutOff() throws Exception {
    try (KilnFixture https =
        new KilnFixture(
            s -> s.withTls(ServerTls.Settings.selfSigned()).withClientTimeout(TIMEOUT))) {
      try (Socket s = connect(https.server.port())) {
        // a TLS record header of a ClientHello, and then nothing of the handshake
        s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01});
        s.getOutputStream().flush();
        // closed (perhaps with a TLS alert first), never answered in HTTP
        assertThat(readUntilClosed(s.getInputStream())).doesNotContain("HTTP/1.1");
      }
    }
  }

  @Test
  void theRuntimeApisServer_cutsOffStalledHeaders() throws Exception {
    assertThat(
            answerTo(
                runtimeApi(),
                "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1\r\nX-"))
        .startsWith("HTTP/1.1 408");
  }

  @Test
  void theRuntimeApisServer_cutsOffAStalledBody_ofTheLambdaApiItServesFunctions() throws Exception {
    assertThat(
            answerTo(
                runtimeApi(),
                "POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"key\":1,"))
        .startsWith("HTTP/1.1 408");
  }

  @Test
  void theRuntimeApisServer_closesAConnectionThatSendsNothing() throws Exception {
    assertThat(answerTo(runtimeApi(), "")).isEmpty();
  }

  /** Sends {@code partial}, then nothing: all the server says before it closes the connection. */
  static String answerTo(int port, String partial) throws IOException {
    try (Socket s = connect(port)) {
      s.getOutputStream().write(bytes(partial));
      s.getOutputStream().flush();
      return readUntilClosed(s.getInputStream());
    }
  }

  static Socket connect(int port) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(PATIENCE_MILLIS); // a server that never closes fails the test, not hangs it
    return s;
  }

  /** Until the server closes (or resets) the connection; a read timeout fails the test. */
  static String readUntilClosed(InputStream in) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    try {
      for (int n; (n = in.read(buffer)) != -1; ) {
        got.write(buffer, 0, n);
      }
    } catch (java.net.SocketTimeoutException e) {
      throw new AssertionError(
          "the server kept the connection open for "
              + PATIENCE_MILLIS / 1000
              + " s; it had sent: "
              + got.toString(StandardCharsets.ISO_8859_1),
          e);
    } catch (SocketException reset) {
      // closed with a reset: closed all the same
    }
    return got.toString(StandardCharsets.ISO_8859_1);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
