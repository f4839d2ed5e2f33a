package dev.kiln.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;

import io.helidon.webserver.WebServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ClientTimeout} on a bare server with a 1 s timeout, spoken to over raw sockets: what is
 * cut off, and what must not be (a kept-alive connection between requests, a slow body that keeps
 * coming, requests sent back to back). No timing is asserted; a socket waits up to 30 s so that a
 * connection the server never closes fails the test instead of hanging it.
 */
class ClientTimeoutTest {

  static WebServer server;

  @BeforeAll
  static void start() {
    var builder =
        WebServer.builder()
            .port(0)
            .shutdownHook(false)
            .routing(
                r ->
                    r.post(
                            "/echo",
                            (req, res) -> {
                              try (InputStream in = req.content().inputStream()) {
                                res.send("read " + in.readAllBytes().length);
                              }
                            })
                        .get("/hello", (req, res) -> res.send("hello")));
    ClientTimeout.apply(builder, Duration.ofSeconds(1), dev.kiln.time.Ticker.system());
    server = builder.build().start();
  }

  @AfterAll
  static void stop() {
    server.stop();
  }

  @Test
  void stalledHeaders_areA408_andTheConnectionCloses() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Half: ");
      assertThat(readUntilClosed(s)).startsWith("HTTP/1.1 408").contains("Connection: close");
    }
  }

  @Test
  void aStalledBody_isA408_andTheConnectionCloses() throws Exception {
    try (Socket s = connect()) {
      send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
      assertThat(readUntilClosed(s)).startsWith("HTTP/1.1 408").contains("Connection: close");
    }
  }

  @Test
  void aStalledChunkedBody_isA408() throws Exception {
    try (Socket s = connect()) {
      send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
      assertThat(readUntilClosed(s)).startsWith("HTTP/1.1 408");
    }
  }

  @Test
  void aConnectionThatSendsNothing_isClosedWithoutAnAnswer() throws Exception {
    try (Socket s = connect()) {
      assertThat(readUntilClosed(s)).isEmpty();
    }
  }

  @Test
  void aSlowBodyThatKeepsComing_isReadToTheEnd() throws Exception {
    try (Socket s = connect()) {
      send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nConnection: close\r\n\r\n");
      for (int i = 0; i < 5; i++) {
        Thread.sleep(400); // 2 s in all, twice the timeout, never a pause as long
        send(s, "0123456789");
      }
      assertThat(readUntilClosed(s)).startsWith("HTTP/1.1 200").endsWith("read 50");
    }
  }

  @Test
  void aKeptAliveConnection_mayWaitLongerThanTheTimeout_betweenRequests() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(readResponse(s)).startsWith("HTTP/1.1 200").endsWith("hello");
      Thread.sleep(2500);
      send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
      assertThat(readResponse(s)).startsWith("HTTP/1.1 200").endsWith("read 3");
    }
  }

  @Test
  void requestsSentBackToBack_areAllAnswered() throws Exception {
    try (Socket s = connect()) {
      send(
          s,
          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
              + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
              + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      String all = readUntilClosed(s);
      assertThat(all.split("HTTP/1.1 200", -1)).hasSize(4);
      assertThat(all).contains("read 2").endsWith("hello");
    }
  }

  @Test
  void afterAResponseSayingConnectionClose_theServerCloses() throws Exception {
    try (Socket s = connect()) {
      send(s, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertThat(readUntilClosed(s)).startsWith("HTTP/1.1 200").endsWith("hello");
    }
  }

  @Test
  void aClientThatHangsUpMidBody_leavesTheServerServing() throws Exception {
    try (Socket s = connect()) {
      send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc");
    }
    try (Socket s = connect()) {
      send(s, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertThat(readUntilClosed(s)).startsWith("HTTP/1.1 200");
    }
  }

  static Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", server.port());
    s.setSoTimeout(30_000);
    return s;
  }

  static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  /** One response with a Content-Length, the connection left open. */
  static String readResponse(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new AssertionError("closed after " + head);
      }
      head.append((char) c);
    }
    int length =
        head.toString()
            .lines()
            .filter(l -> l.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:"))
            .mapToInt(l -> Integer.parseInt(l.substring(15).trim()))
            .findFirst()
            .orElseThrow();
    return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
  }

  static String readUntilClosed(Socket s) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    try {
      for (int n; (n = s.getInputStream().read(buffer)) != -1; ) {
        got.write(buffer, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError(
          "still open after 30 s, having sent: " + got.toString(StandardCharsets.ISO_8859_1), e);
    } catch (SocketException reset) {
      // closed all the same
    }
    return got.toString(StandardCharsets.ISO_8859_1);
  }
}
