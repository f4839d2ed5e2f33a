package dev.kiln.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * Temporary directories for tests that are gone when the test JVM ends. A server's data directory
 * holds its databases, unpacked code and instance logs (100 MB and more once runtimes are
 * installed), and a test class that makes a few of them, run again and again on a developer's
 * machine, fills its disk; JUnit's {@code @TempDir} fits a test method or class, not a fixture
 * shared by helpers, so this deletes at exit whatever it made. A directory that a test must leave
 * to be read afterwards is not made here.
 *
 * <p>Thread-safe: the list of directories is guarded by its own monitor.
 */
public final class TempDirs {

  private static final List<Path> MADE = new ArrayList<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(TempDirs::deleteAll, "kiln-temp-dirs"));
  }

  private TempDirs() {}

  /** A new directory under the system's temporary directory, deleted when the JVM exits. */
  public static Path create(String prefix) {
    try {
      Path dir = Files.createTempDirectory(prefix);
      synchronized (MADE) {
        MADE.add(dir);
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes {@code dir} and everything under it, as far as it can; what it cannot stays. */
  public static void delete(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              try {
                Files.deleteIfExists(file);
              } catch (IOException ignored) {
                // a file in use or not ours: the rest still goes
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) {
              try {
                Files.deleteIfExists(d);
              } catch (IOException ignored) {
                // not empty: something under it could not be deleted
              }
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException ignored) {
      // best effort, at exit
    }
  }

  private static void deleteAll() {
    List<Path> dirs;
    synchronized (MADE) {
      dirs = List.copyOf(MADE);
    }
    dirs.forEach(TempDirs::delete);
  }
}
