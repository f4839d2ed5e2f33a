package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class FreePortsTest {

  @Test
  void aPort_isBelowTheEphemeralRange_andCanBeListenedOn() throws Exception {
    int lowestEphemeral =
        Integer.parseInt(
            Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                .get(0)
                .trim()
                .split("\\s+")[0]);
    for (int i = 0; i < 20; i++) {
      int port = FreePorts.next();
      assertThat(port).isBetween(10_000, lowestEphemeral - 1);
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(port));
        assertThat(s.getLocalPort()).isEqualTo(port);
      }
    }
  }

  @Test
  void aPortSomeoneListensOn_isNotGiven() throws Exception {
    try (ServerSocket taken = new ServerSocket(FreePorts.next())) {
      for (int i = 0; i < 2000; i++) {
        assertThat(FreePorts.next()).isNotEqualTo(taken.getLocalPort());
      }
    }
  }
}
