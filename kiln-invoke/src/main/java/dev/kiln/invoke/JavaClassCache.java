package dev.kiln.invoke;

import dev.kiln.model.CodeDigest;
import dev.kiln.model.FunctionConfig;
import dev.kiln.sandbox.ExitStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Class data sharing for Java functions: one archive of the classes a function version loads, made
 * by the JVM of its first instance and mapped by every later one, so that a cold start does not
 * parse and verify the same classes again.
 *
 * <p>The JVM writes a dynamic archive ({@code -XX:ArchiveClassesAtExit}) when it exits, and only if
 * no non-empty directory is on its class path. So the function's code is packed once into {@code
 * app.jar} (the task root's files, its {@code lib/*.jar} staying where they are), and the class
 * path becomes the runtime's jars, {@code app.jar}, {@code lib/*.jar} and the layers' {@code
 * java/lib/*.jar}: the same for the instance that makes the archive and those that use it, as the
 * JVM requires. The first instance of a version writes the archive into its own {@code /tmp}; when
 * Kiln stops it gracefully, Kiln moves the archive into the version's directory, which later
 * instances see read-only. An instance that was killed leaves nothing, and the next one tries
 * again.
 *
 * <p>Each version has a directory of its own ({@code <data>/java-cds/<key>}): an archive holds the
 * code of the classes in it, so one function never sees another's. The key covers everything the
 * archive depends on: the JDK, the code, the layers.
 */
final class JavaClassCache {

  static final String APP_JAR = "app.jar";
  static final String ARCHIVE = "app.jsa";

  /** Where the dumping instance's JVM writes the archive, in its own {@code /tmp}. */
  static final String DUMP_IN_TMP = ".kiln-app.jsa";

  private static final String CODE_FILE = "code";

  private final Path root;
  private final Set<String> dumping = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();

  JavaClassCache(Path root) {
    this.root = root;
  }

  /**
   * What an instance does about class data sharing.
   *
   * @param dir the version's directory, with {@code app.jar} and perhaps {@code app.jsa}
   * @param dump this instance makes the archive (no archive yet, and no other instance is making
   *     it)
   */
  record Plan(String key, Path dir, boolean dump) {

    boolean useArchive() {
      return Files.isRegularFile(dir.resolve(ARCHIVE));
    }
  }

  /** Prepares the version's directory ({@code app.jar}) and decides what the instance does. */
  Plan plan(FunctionVersion version, String jdk) throws IOException {
    FunctionConfig c = version.config();
    StringBuilder identity =
        new StringBuilder(jdk)
            .append('\n')
            .append(Files.getLastModifiedTime(Path.of(jdk)).toMillis())
            .append('\n')
            .append(c.codeSha256());
    c.layers().forEach(l -> identity.append('\n').append(l.codeSha256Hex()));
    String key = sha256(identity.toString());
    Path dir = root.resolve(key);
    synchronized (locks.computeIfAbsent(key, k -> new Object())) {
      if (!Files.isRegularFile(dir.resolve(APP_JAR))) {
        pack(version.taskRoot(), dir, CodeDigest.hexFromBase64(c.codeSha256()));
      }
    }
    boolean dump = !Files.isRegularFile(dir.resolve(ARCHIVE)) && dumping.add(key);
    return new Plan(key, dir, dump);
  }

  /**
   * The dumping instance ended: keeps its archive if the JVM exited of its own accord or on SIGTERM
   * (it writes the archive on the way out), and lets another instance try otherwise.
   */
  void finished(Plan plan, ExitStatus exit, Optional<Path> instanceTmp) {
    try {
      boolean graceful = exit.code() == 0 || exit.signal() == 15;
      Path dumped = instanceTmp.map(t -> t.resolve(DUMP_IN_TMP)).orElse(null);
      if (graceful && dumped != null && Files.isRegularFile(dumped) && Files.size(dumped) > 0) {
        Path partial = plan.dir().resolve(ARCHIVE + "." + UUID.randomUUID() + ".tmp");
        Files.copy(dumped, partial);
        Files.setPosixFilePermissions(
            partial, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
        Files.move(partial, plan.dir().resolve(ARCHIVE), StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      // no archive this time; the next instance tries again
    } finally {
      dumping.remove(plan.key());
    }
  }

  /** Deletes the directories of versions whose code no longer exists. */
  void retainOnly(Set<String> referencedCode) {
    if (!Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path dir : dirs.toList()) {
        Path code = dir.resolve(CODE_FILE);
        if (Files.isRegularFile(code) && !referencedCode.contains(Files.readString(code).trim())) {
          deleteTree(dir);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean " + root, e);
    }
  }

  /** Packs the task root's files, all but {@code lib/*.jar}, into the version's {@code app.jar}. */
  private static void pack(Path taskRoot, Path dir, String codeHex) throws IOException {
    Files.createDirectories(dir);
    Path partial = dir.resolve(APP_JAR + "." + UUID.randomUUID() + ".tmp");
    try (OutputStream file = Files.newOutputStream(partial);
        JarOutputStream jar = new JarOutputStream(file);
        Stream<Path> walk = Files.walk(taskRoot)) {
      for (Path p : walk.sorted().toList()) {
        String name = taskRoot.relativize(p).toString();
        if (!Files.isRegularFile(p) || (name.startsWith("lib/") && name.endsWith(".jar"))) {
          continue;
        }
        jar.putNextEntry(new JarEntry(name));
        Files.copy(p, jar);
        jar.closeEntry();
      }
    }
    Files.writeString(dir.resolve(CODE_FILE), codeHex);
    Files.move(partial, dir.resolve(APP_JAR), StandardCopyOption.ATOMIC_MOVE);
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
