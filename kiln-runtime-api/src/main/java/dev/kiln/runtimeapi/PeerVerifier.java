package dev.kiln.runtimeapi;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Answers "is the other end of this TCP connection a process of that instance?" from Linux's {@code
 * /proc}: the connecting socket's inode is found in {@code /proc/net/tcp} by its address pair, and
 * must appear among the open files of one of the instance's processes.
 */
interface PeerVerifier {

  boolean belongsTo(InetSocketAddress remote, InetSocketAddress local, Set<Long> pids);

  PeerVerifier NONE = (remote, local, pids) -> true;

  static PeerVerifier forThisHost() {
    if (!Files.isReadable(Path.of("/proc/net/tcp"))) {
      return NONE;
    }
    return new ProcPeerVerifier();
  }

  final class ProcPeerVerifier implements PeerVerifier {

    @Override
    public boolean belongsTo(InetSocketAddress remote, InetSocketAddress local, Set<Long> pids) {
      Optional<String> inode = socketInode(remote, local);
      if (inode.isEmpty()) {
        return false;
      }
      String link = "socket:[" + inode.get() + "]";
      for (long pid : pids) {
        try (DirectoryStream<Path> fds =
            Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
          for (Path fd : fds) {
            try {
              if (Files.readSymbolicLink(fd).toString().equals(link)) {
                return true;
              }
            } catch (IOException gone) {
              // closed meanwhile
            }
          }
        } catch (IOException gone) {
          // process exited meanwhile
        }
      }
      return false;
    }

    /** The inode of the socket whose local end is {@code remote} and remote end {@code local}. */
    private static Optional<String> socketInode(InetSocketAddress remote, InetSocketAddress local) {
      if (!(remote.getAddress() instanceof Inet4Address)
          || !(local.getAddress() instanceof Inet4Address)) {
        return Optional.empty();
      }
      String want = hex4(remote) + " " + hex4(local);
      String want6 = hex6(remote) + " " + hex6(local);
      for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
        try {
          for (String line : Files.readAllLines(Path.of(table))) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10) {
              continue;
            }
            String pair = f[1] + " " + f[2];
            if (pair.equalsIgnoreCase(want) || pair.equalsIgnoreCase(want6)) {
              return Optional.of(f[9]);
            }
          }
        } catch (IOException e) {
          // table missing: no IPv6, say
        }
      }
      return Optional.empty();
    }

    /** {@code /proc/net/tcp}'s form: the IPv4 address as a little-endian word, then the port. */
    private static String hex4(InetSocketAddress a) {
      byte[] b = a.getAddress().getAddress();
      return String.format(
          Locale.ROOT, "%02X%02X%02X%02X:%04X", b[3], b[2], b[1], b[0], a.getPort());
    }

    /** {@code /proc/net/tcp6}'s form of an IPv4-mapped address. */
    private static String hex6(InetSocketAddress a) {
      byte[] b = a.getAddress().getAddress();
      return String.format(
          Locale.ROOT,
          "0000000000000000FFFF0000%02X%02X%02X%02X:%04X",
          b[3],
          b[2],
          b[1],
          b[0],
          a.getPort());
    }
  }
}
