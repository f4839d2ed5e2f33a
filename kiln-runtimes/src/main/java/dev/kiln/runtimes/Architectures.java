package dev.kiln.runtimes;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a function's {@code Architectures} means on this host.
 *
 * <p>Lambda runs an {@code arm64} function on Graviton and an {@code x86_64} one on Intel or AMD;
 * Kiln runs on one machine of one architecture. A function of a runtime whose code is portable
 * (Python, Node.js, Ruby, Java, .NET: source or byte code run by the host's interpreter) runs on
 * the host's interpreter whichever architecture it asks for; its {@code Architectures} is echoed as
 * asked, as Lambda echoes it, and the function's {@code INIT_START} line and the banner say what it
 * really runs on. A custom runtime's {@code bootstrap} is the function's own program, so it must be
 * built for the architecture the function asks for, as on Lambda, where any other fails with {@code
 * Runtime.InvalidEntrypoint} ("exec format error"); one built for the other architecture than the
 * host's runs under qemu's user-mode emulator ({@code qemu-aarch64-static}, {@code
 * qemu-x86_64-static}, Debian's {@code qemu-user-static}), invoked explicitly so that the host's
 * binfmt registrations do not matter, and fails in the same way where it is not installed.
 *
 * <p>Stateless: every method reads the host or the file it is given.
 */
public final class Architectures {

  private Architectures() {}

  public static final String X86_64 = "x86_64";
  public static final String ARM64 = "arm64";

  /** The host's architecture, in Lambda's words. */
  public static String host() {
    String arch = System.getProperty("os.arch");
    return arch.equals("aarch64") || arch.equals("arm64") ? ARM64 : X86_64;
  }

  /** The architecture a function asks for: its one {@code Architectures} entry, x86_64 if none. */
  public static String requested(List<String> architectures) {
    return architectures.isEmpty() ? X86_64 : architectures.get(0);
  }

  /**
   * The architecture an ELF executable is built for ({@code e_machine} of its header), or empty for
   * anything else (a script, which the host's interpreter runs whatever the architecture).
   */
  public static Optional<String> ofExecutable(Path file) {
    byte[] header = new byte[20];
    try (InputStream in = Files.newInputStream(file)) {
      if (in.readNBytes(header, 0, header.length) < header.length) {
        return Optional.empty();
      }
    } catch (IOException e) {
      return Optional.empty();
    }
    if (header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') {
      return Optional.empty();
    }
    boolean littleEndian = header[5] == 1;
    int machine =
        littleEndian
            ? (header[18] & 0xff) | (header[19] & 0xff) << 8
            : (header[19] & 0xff) | (header[18] & 0xff) << 8;
    return switch (machine) {
      case 0x3e -> Optional.of(X86_64); // EM_X86_64
      case 0xb7 -> Optional.of(ARM64); // EM_AARCH64
      default -> Optional.of("machine " + machine);
    };
  }

  /** qemu's user-mode emulator for {@code arch}, when it is installed. */
  public static Optional<Path> emulator(String arch) {
    String name = arch.equals(ARM64) ? "qemu-aarch64-static" : "qemu-x86_64-static";
    for (String dir : List.of("/usr/bin", "/usr/local/bin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * What a function asking for {@code requested} really runs on here, in a few words, or empty when
   * that is simply what it asked for.
   *
   * @param customBootstrap a custom runtime's bootstrap on the host, which runs as built for {@code
   *     requested} when it is a program, and on the host's interpreter when it is a script
   */
  public static Optional<String> runsOn(String requested, Optional<Path> customBootstrap) {
    String host = host();
    if (requested.equals(host)) {
      return Optional.empty();
    }
    if (customBootstrap.isPresent() && ofExecutable(customBootstrap.get()).isPresent()) {
      return Optional.of(
          requested
              + " under "
              + emulator(requested).map(Path::toString).orElse("qemu (not installed)")
              + " on this "
              + host
              + " host");
    }
    return Optional.of(
        host + " (the runtime's code is portable; Architectures asks for " + requested + ")");
  }

  /** One line for the banner: what arm64 and x86_64 functions run on here. */
  public static String describe() {
    String host = host();
    String other = host.equals(X86_64) ? ARM64 : X86_64;
    return "architecture "
        + host
        + "; "
        + other
        + " functions of Python, Node.js, Ruby, Java and .NET run on this host's "
        + host
        + " interpreters, custom runtimes' "
        + other
        + " bootstraps "
        + emulator(other)
            .map(p -> "under " + p)
            .orElse(
                "fail with Runtime.InvalidEntrypoint (no "
                    + (other.equals(ARM64) ? "qemu-aarch64-static" : "qemu-x86_64-static")
                    + ": apt-get install qemu-user-static)");
  }
}
