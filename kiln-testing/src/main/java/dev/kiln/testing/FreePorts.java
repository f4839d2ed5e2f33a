package dev.kiln.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A free TCP port for a server that a test starts in another process (Kiln, Kafka, ElasticMQ,
 * PostgreSQL, Prometheus): that process must be told its port before it binds, so the port is
 * chosen here, found free, and left for it.
 *
 * <p>The port comes from <em>below the kernel's ephemeral range</em> ({@code
 * /proc/sys/net/ipv4/ip_local_port_range}, 32768–60999 by default), never from a bind to port 0:
 * ports in that range are also handed to every outgoing connection on the host, and while the
 * suite's two test JVMs open thousands of connections, one of them took a port between its choice
 * and the server's bind. Below the range only a deliberate bind can take a port, and the choice is
 * random, so two JVMs rarely pick the same one.
 *
 * <p>Stateless and thread-safe.
 */
public final class FreePorts {

  private static final int LOWEST = 10_000;

  private FreePorts() {}

  /** A port no socket on this host is bound to now, outside the ephemeral range where it can. */
  public static int next() {
    int[] range = ephemeralRange();
    int below = range[0] - 1;
    if (below - LOWEST < 1_000) {
      return anyFreePort();
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = random.nextInt(LOWEST, below + 1);
      if (isFree(port)) {
        return port;
      }
    }
    return anyFreePort();
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int anyFreePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on this host", e);
    }
  }

  private static int[] ephemeralRange() {
    try {
      // one read: a sysctl file answers nothing at an offset past 0, which Files.readString's
      // first one-byte read leaves it at (it reads "3" of "32768 60999")
      String[] bounds =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
              .get(0)
              .trim()
              .split("\\s+");
      return new int[] {Integer.parseInt(bounds[0]), Integer.parseInt(bounds[1])};
    } catch (IOException | RuntimeException e) {
      // not Linux: IANA's dynamic range, which macOS and Windows use
      return new int[] {49152, 65535};
    }
  }
}
