package dev.kiln.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The port {@link RuntimeApiServer#create} reserves stays Kiln's until the server listens on it:
 * the sandbox's firewall is written with that port before the server serves, and two test JVMs (or
 * a busy host's outgoing connections) once took it in the gap between the reservation's closing and
 * the listener's bind.
 */
class PortReservationTest {

  @Test
  void aReservedPort_isGivenToNoOtherBind_norToAnOutgoingConnection_andIsServedOn()
      throws Exception {
    RuntimeApiServer server = RuntimeApiServer.create();
    try {
      int port = server.port();
      for (int i = 0; i < 3000; i++) {
        try (ServerSocket other = new ServerSocket(0)) {
          assertThat(other.getLocalPort()).isNotEqualTo(port);
        }
      }
      try (ServerSocket listener = new ServerSocket(0)) {
        for (int i = 0; i < 3000; i++) {
          try (Socket out = new Socket()) {
            out.connect(new InetSocketAddress("127.0.0.1", listener.getLocalPort()));
            assertThat(out.getLocalPort()).isNotEqualTo(port);
            listener.accept().close();
          }
        }
      }

      server.serve(null);

      HttpResponse<String> answer =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:" + port + "/2018-06-01/runtime/invocation/next"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      // no instance is served at 127.0.0.1: refused, but by this server, on the reserved port
      assertThat(answer.statusCode()).isEqualTo(403);
    } finally {
      server.close();
    }
  }
}
