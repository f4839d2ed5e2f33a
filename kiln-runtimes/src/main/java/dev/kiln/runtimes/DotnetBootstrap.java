package dev.kiln.runtimes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the .NET runtime Kiln ships as C# source: its own {@code Amazon.Lambda.Core.dll} (the
 * interfaces handlers are written against) and {@code KilnBootstrap.exe} (the Runtime API client),
 * compiled with the host's Mono C# compiler. Compiled once per version of the sources: a stamp file
 * holds the digest of what was built.
 */
final class DotnetBootstrap {

  static final String EXE = "KilnBootstrap.exe";
  static final String CORE = "Amazon.Lambda.Core.dll";

  private static final Logger LOG = LoggerFactory.getLogger(DotnetBootstrap.class);
  private static final List<String> MCS = List.of("/usr/bin/mcs", "/usr/local/bin/mcs");
  private static final List<String> WEB_EXTENSIONS =
      List.of("/usr/lib/mono/4.5/System.Web.Extensions.dll");

  private DotnetBootstrap() {}

  /** Why the .NET runtime cannot be built here, in words for an error message. */
  static String missing() {
    if (compiler().isEmpty()) {
      return "the Mono C# compiler (mcs) was not found";
    }
    if (WEB_EXTENSIONS.stream().noneMatch(p -> Files.isRegularFile(Path.of(p)))) {
      return "Mono's System.Web.Extensions (its JSON serializer) was not found";
    }
    return "building Kiln's .NET bootstrap failed; see the server log";
  }

  private static Optional<Path> compiler() {
    return MCS.stream().map(Path::of).filter(Files::isExecutable).findFirst();
  }

  /** Compiles the sources into {@code dir} unless they were built already; quiet without mcs. */
  static void build(Path dir) throws IOException {
    Optional<Path> mcs = compiler();
    if (mcs.isEmpty()) {
      return;
    }
    String core = source("Amazon.Lambda.Core.cs");
    String bootstrap = source("Bootstrap.cs");
    String digest = sha256(core + "\0" + bootstrap);
    Path stamp = dir.resolve("built-from");
    if (Files.isRegularFile(dir.resolve(EXE))
        && Files.isRegularFile(stamp)
        && Files.readString(stamp).equals(digest)) {
      return;
    }
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve(EXE));
    Path src = Files.createDirectories(dir.resolve("src"));
    Files.writeString(src.resolve("Amazon.Lambda.Core.cs"), core);
    Files.writeString(src.resolve("Bootstrap.cs"), bootstrap);
    boolean built =
        compile(
                List.of(
                    mcs.get().toString(),
                    "-nologo",
                    "-target:library",
                    "-out:" + dir.resolve(CORE),
                    src.resolve("Amazon.Lambda.Core.cs").toString()))
            && compile(
                List.of(
                    mcs.get().toString(),
                    "-nologo",
                    "-out:" + dir.resolve(EXE),
                    "-r:" + dir.resolve(CORE),
                    "-r:System.Web.Extensions.dll",
                    src.resolve("Bootstrap.cs").toString()));
    if (built) {
      Files.writeString(stamp, digest);
    } else {
      Files.deleteIfExists(dir.resolve(EXE));
    }
  }

  private static boolean compile(List<String> command) throws IOException {
    Path log = Files.createTempFile("kiln-mcs-", ".log");
    Process p =
        dev.kiln.sandbox.ProcessSpawner.start(
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()));
    try {
      boolean finished = p.waitFor(2, TimeUnit.MINUTES);
      if (!finished) {
        p.destroyForcibly();
      }
      if (!finished || p.exitValue() != 0) {
        LOG.error(
            "building Kiln's .NET bootstrap failed: {}\n{}",
            command,
            Files.readString(log, StandardCharsets.UTF_8));
        return false;
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      return false;
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static String source(String name) throws IOException {
    try (InputStream in =
        DotnetBootstrap.class.getResourceAsStream("/dev/kiln/runtimes/dotnet/" + name)) {
      if (in == null) {
        throw new IllegalStateException("bootstrap missing from the build: dotnet/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new UncheckedIOException(new IOException(e));
    }
  }
}
