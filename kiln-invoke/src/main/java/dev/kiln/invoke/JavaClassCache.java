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
 * <p>On a JDK 25 or newer the first instance trains an AOT cache instead ({@code
 * -XX:AOTCacheOutput}, JEP 483 and 514): the classes it loaded, already linked, and the method
 * profiles it gathered, which later instances map with {@code -XX:AOTCache}. The training JVM
 * assembles the cache on its way out (it starts a second JVM for that, inside the same sandbox, a
 * few seconds after Kiln has asked it to stop), so the cost falls on the instance's stop, never on
 * an invocation. Measured on the cold bench's no-op (BENCHMARKS.md, "Node.js snapshot and JDK AOT
 * cache"), the AOT cache starts the runtime sooner than the dynamic archive, so it is the one used
 * where the JDK has it. A training that leaves no cache (the instance was killed, or its memory was
 * too small for the assembling JVM) marks the version, and its next instance makes the dynamic
 * archive instead, so a function never retrains at every cold start.
 *
 * <p>Each version has a directory of its own ({@code <data>/java-cds/<key>}): an archive holds the
 * code of the classes in it, so one function never sees another's. The key covers everything the
 * archive depends on: the JDK, the code, the layers. Caches are copied into that directory under a
 * unique temporary name and renamed into place, so an instance never maps a partial file, and of
 * two instances (or two servers on one data directory) that finish at once the last rename wins
 * with a whole file; instances map them read-only.
 *
 * <p>Locking: {@link #locks} holds one monitor per key, guarding the packing of {@code app.jar};
 * {@link #dumping} (a concurrent set) lets only one instance of a key make a cache at a time.
 */
final class JavaClassCache {

  static final String APP_JAR = "app.jar";
  static final String ARCHIVE = "app.jsa";
  static final String AOT_CACHE = "app.aot";

  /** Where the dumping instance's JVM writes the archive, in its own {@code /tmp}. */
  static final String DUMP_IN_TMP = ".kiln-app.jsa";

  /** Where the training instance's JVM writes the AOT cache, in its own {@code /tmp}. */
  static final String AOT_IN_TMP = ".kiln-app.aot";

  /** The first JDK whose JVM trains an AOT cache in one run ({@code -XX:AOTCacheOutput}). */
  static final int AOT_CACHE_FEATURE = 25;

  /** Marks a version whose AOT training left no cache: its instances use the dynamic archive. */
  private static final String AOT_FAILED = "aot-failed";

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
   * @param dump this instance makes a cache (none yet, and no other instance is making one)
   * @param aot the cache this version uses or makes is an AOT cache, not a dynamic archive
   */
  record Plan(String key, Path dir, boolean dump, boolean aot) {

    /** The cache an instance maps: the version's AOT cache or its archive, when it exists. */
    Optional<Path> cacheToUse() {
      Path cache = dir.resolve(aot ? AOT_CACHE : ARCHIVE);
      return Files.isRegularFile(cache) ? Optional.of(cache) : Optional.empty();
    }

    /** Where the making instance's JVM writes its cache, in its own {@code /tmp}. */
    String fileInTmp() {
      return aot ? AOT_IN_TMP : DUMP_IN_TMP;
    }
  }

  /**
   * Prepares the version's directory ({@code app.jar}) and decides what the instance does.
   *
   * @param jdkFeature the JDK's major version: 25 and later make and use an AOT cache
   */
  Plan plan(FunctionVersion version, String jdk, int jdkFeature) throws IOException {
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
    boolean aot =
        jdkFeature >= AOT_CACHE_FEATURE
            && (Files.isRegularFile(dir.resolve(AOT_CACHE))
                || !Files.exists(dir.resolve(AOT_FAILED)));
    boolean dump = !Files.isRegularFile(dir.resolve(aot ? AOT_CACHE : ARCHIVE)) && dumping.add(key);
    return new Plan(key, dir, dump, aot);
  }

  /**
   * The dumping instance ended: keeps its cache if the JVM exited of its own accord or on SIGTERM
   * (it writes the cache on the way out), and lets another instance try otherwise. An AOT training
   * instance that ran and left nothing (killed, or out of memory while assembling) marks the
   * version, whose next instance makes the dynamic archive instead.
   */
  void finished(Plan plan, ExitStatus exit, Optional<Path> instanceTmp) {
    try {
      boolean graceful = exit.code() == 0 || exit.signal() == 15;
      Path dumped = instanceTmp.map(t -> t.resolve(plan.fileInTmp())).orElse(null);
      if (graceful && dumped != null && Files.isRegularFile(dumped) && Files.size(dumped) > 0) {
        String name = plan.aot() ? AOT_CACHE : ARCHIVE;
        Path partial = plan.dir().resolve(name + "." + UUID.randomUUID() + ".tmp");
        try {
          Files.copy(dumped, partial);
          Files.setPosixFilePermissions(
              partial, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
          Files.move(partial, plan.dir().resolve(name), StandardCopyOption.ATOMIC_MOVE);
        } finally {
          Files.deleteIfExists(partial);
        }
      } else if (plan.aot() && instanceTmp.isPresent()) {
        Files.writeString(plan.dir().resolve(AOT_FAILED), exit.toString());
      }
    } catch (IOException e) {
      // no cache this time; the next instance tries again
    } finally {
      dumping.remove(plan.key());
    }
  }

  /**
   * The training JVM's report of the AOT cache it assembles, which it prints on its way out
   * whatever {@code -Xlog} says, left out of the function's log: each line names Kiln's file in
   * {@code /tmp} ({@link #AOT_IN_TMP}), or is the assembling JVM's note of the options it was
   * given, which it gets through {@code JAVA_TOOL_OPTIONS} and which name the same file.
   */
  static String withoutTrainingReport(String output) {
    if (!output.contains(AOT_IN_TMP)) {
      return output;
    }
    StringBuilder kept = new StringBuilder();
    for (String line : output.split("(?<=\n)")) {
      if (!line.contains(AOT_IN_TMP)) {
        kept.append(line);
      }
    }
    return kept.toString();
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
