package dev.kiln.store;

import dev.kiln.model.CodeDigest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;

/**
 * The embedded code store: {@code zips/<sha256>.zip} and {@code unpacked/<sha256>/} under one
 * directory, and {@code merged/<key>/}: the union of several packages (a function's layers), made
 * of hard links to their unpacked files, with {@code merged/<key>.parts} naming the packages.
 *
 * <p>A package is checked entry by entry while it is unpacked into a scratch directory, counting
 * the bytes actually inflated rather than trusting sizes the archive declares, so a zip bomb stops
 * at Lambda's 250 MB limit instead of filling the disk. Only a package that unpacked completely is
 * renamed into place, and the zip is written with fsync before its directory: after a crash a
 * digest either names a complete package or nothing.
 */
public final class LocalCodeStore implements CodeStore {

  public static final long MAX_ZIPPED_BYTES = 50L * 1024 * 1024;
  public static final long MAX_UNZIPPED_BYTES = 250L * 1024 * 1024;
  public static final int MAX_ENTRIES = 100_000;

  private static final Set<PosixFilePermission> READ_ONLY_FILE =
      PosixFilePermissions.fromString("r--r--r--");
  private static final Set<PosixFilePermission> READ_ONLY_EXECUTABLE =
      PosixFilePermissions.fromString("r-xr-xr-x");
  private static final Set<PosixFilePermission> READ_ONLY_DIR =
      PosixFilePermissions.fromString("r-xr-xr-x");
  private static final Set<PosixFilePermission> WRITABLE_DIR =
      PosixFilePermissions.fromString("rwxr-xr-x");

  private final Path zips;
  private final Path unpacked;
  private final Path scratch;
  private final Path merged;
  private final ConcurrentHashMap<String, Object> unpackLocks = new ConcurrentHashMap<>();

  /**
   * How long a package stored (or stored again) is safe from {@link #retainOnly} although nothing
   * names it yet: the time between a put and the metadata that names it.
   */
  public static final java.time.Duration DEFAULT_GRACE = java.time.Duration.ofMinutes(10);

  private final java.time.Duration grace;

  public LocalCodeStore(Path root) {
    this(root, DEFAULT_GRACE);
  }

  /**
   * @param grace see {@link #DEFAULT_GRACE}; tests use zero
   */
  public LocalCodeStore(Path root, java.time.Duration grace) {
    this.grace = grace;
    this.zips = root.resolve("zips");
    this.unpacked = root.resolve("unpacked");
    this.scratch = root.resolve("scratch");
    this.merged = root.resolve("merged");
    try {
      Files.createDirectories(zips);
      Files.createDirectories(unpacked);
      Files.createDirectories(scratch);
      Files.createDirectories(merged);
      deleteTree(scratch);
      Files.createDirectories(scratch);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create code store under " + root, e);
    }
  }

  @Override
  public CodeDigest put(byte[] zip) {
    if (zip.length > MAX_ZIPPED_BYTES) {
      throw tooLarge(
          "Zipped deployment package must be smaller than "
              + MAX_ZIPPED_BYTES
              + " bytes (this one is "
              + zip.length
              + " bytes)");
    }
    String hex = sha256Hex(zip);
    Path target = unpacked.resolve(hex);
    long unzippedSize;
    synchronized (lockFor(hex)) {
      Path scratchDir = scratch.resolve(UUID.randomUUID().toString());
      try {
        unzippedSize = unpack(zip, scratchDir);
        writeDurably(zips.resolve(hex + ".zip"), zip);
        // stored again: a fresh grace period before an unreferenced package may go
        Files.setLastModifiedTime(
            zips.resolve(hex + ".zip"),
            java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
        if (Files.exists(target)) {
          deleteTree(scratchDir);
        } else {
          moveIntoPlace(scratchDir, target);
        }
      } catch (IOException e) {
        deleteQuietly(scratchDir);
        throw new UncheckedIOException("cannot store deployment package " + hex, e);
      } catch (RuntimeException e) {
        deleteQuietly(scratchDir);
        throw e;
      }
    }
    return new CodeDigest(hex, zip.length, unzippedSize);
  }

  @Override
  public Path taskRoot(String sha256Hex) {
    Path target = unpacked.resolve(sha256Hex);
    if (Files.isDirectory(target)) {
      return target;
    }
    synchronized (lockFor(sha256Hex)) {
      if (!Files.isDirectory(target)) {
        Path zip = zips.resolve(sha256Hex + ".zip");
        Path scratchDir = scratch.resolve(UUID.randomUUID().toString());
        try {
          unpack(Files.readAllBytes(zip), scratchDir);
          moveIntoPlace(scratchDir, target);
        } catch (IOException e) {
          deleteQuietly(scratchDir);
          throw new UncheckedIOException("deployment package " + sha256Hex + " is missing", e);
        }
      }
    }
    return target;
  }

  @Override
  public Path merged(List<String> sha256Hexes) {
    String parts = String.join("\n", sha256Hexes);
    String key = sha256Hex(parts.getBytes(StandardCharsets.UTF_8));
    Path target = merged.resolve(key);
    if (Files.isDirectory(target)) {
      return target;
    }
    synchronized (lockFor("merged-" + key)) {
      if (Files.isDirectory(target)) {
        return target;
      }
      Path scratchDir = scratch.resolve(UUID.randomUUID().toString());
      try {
        Files.createDirectories(scratchDir);
        for (String hex : sha256Hexes) {
          overlay(taskRoot(hex), scratchDir);
        }
        Files.writeString(merged.resolve(key + ".parts"), parts);
        sealDirectories(scratchDir);
        moveIntoPlace(scratchDir, target);
      } catch (IOException e) {
        deleteQuietly(scratchDir);
        throw new UncheckedIOException("cannot merge packages " + sha256Hexes, e);
      }
    }
    return target;
  }

  /**
   * Links every file of {@code from} into {@code into}, replacing what is there: a later layer
   * wins, as when Lambda extracts layers one after another into {@code /opt}.
   */
  private static void overlay(Path from, Path into) throws IOException {
    try (var walk = Files.walk(from)) {
      for (Path source : (Iterable<Path>) walk::iterator) {
        Path target = into.resolve(from.relativize(source).toString());
        if (source.equals(from)) {
          continue;
        }
        boolean sourceIsDir = Files.isDirectory(source, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          boolean targetIsDir = Files.isDirectory(target, java.nio.file.LinkOption.NOFOLLOW_LINKS);
          if (sourceIsDir && targetIsDir) {
            continue;
          }
          deleteTree(target);
        }
        if (sourceIsDir) {
          Files.createDirectory(target);
        } else if (Files.isSymbolicLink(source)) {
          Files.createSymbolicLink(target, Files.readSymbolicLink(source));
        } else {
          Files.createLink(target, source);
        }
      }
    }
  }

  @Override
  public long unzippedSize(String sha256Hex) {
    try (var walk = Files.walk(taskRoot(sha256Hex))) {
      return walk.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              })
          .sum();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot measure package " + sha256Hex, e);
    }
  }

  @Override
  public Optional<Path> zip(String sha256Hex) {
    if (!sha256Hex.matches("[0-9a-f]{64}")) {
      return Optional.empty();
    }
    Path zip = zips.resolve(sha256Hex + ".zip");
    return Files.isRegularFile(zip) ? Optional.of(zip) : Optional.empty();
  }

  @Override
  public void retainOnly(Set<String> referenced) {
    try (DirectoryStream<Path> all = Files.newDirectoryStream(zips, "*.zip")) {
      for (Path zip : all) {
        String hex = zip.getFileName().toString().replace(".zip", "");
        boolean fresh =
            Files.getLastModifiedTime(zip)
                .toInstant()
                .isAfter(java.time.Instant.now().minus(grace));
        if (!referenced.contains(hex) && !fresh) {
          synchronized (lockFor(hex)) {
            deleteTree(unpacked.resolve(hex));
            Files.deleteIfExists(zip);
          }
        }
      }
      try (DirectoryStream<Path> combinations = Files.newDirectoryStream(merged, "*.parts")) {
        for (Path partsFile : combinations) {
          String key = partsFile.getFileName().toString().replace(".parts", "");
          boolean stale =
              Files.readAllLines(partsFile).stream()
                  .anyMatch(hex -> !hex.isEmpty() && !referenced.contains(hex));
          if (stale) {
            synchronized (lockFor("merged-" + key)) {
              deleteTree(merged.resolve(key));
              Files.deleteIfExists(partsFile);
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean the code store", e);
    }
  }

  private Object lockFor(String hex) {
    return unpackLocks.computeIfAbsent(hex, k -> new Object());
  }

  /**
   * Unpacks {@code zip} into {@code dir}, returning the bytes written. Rejects, with the entry's
   * name, anything that is not a zip or that escapes {@code dir}.
   */
  static long unpack(byte[] zip, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path root = dir.toRealPath();
    long total = 0;
    int count = 0;
    try (ZipFile archive =
        ZipFile.builder().setSeekableByteChannel(new SeekableInMemoryByteChannel(zip)).get()) {
      Enumeration<ZipArchiveEntry> entries = archive.getEntries();
      while (entries.hasMoreElements()) {
        ZipArchiveEntry entry = entries.nextElement();
        if (++count > MAX_ENTRIES) {
          throw invalid("Could not unzip uploaded file: more than " + MAX_ENTRIES + " entries");
        }
        String name = entry.getName();
        Path target = insideRoot(root, name);
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        Files.createDirectories(target.getParent());
        if (entry.isUnixSymlink()) {
          String link;
          try (InputStream in = archive.getInputStream(entry)) {
            link = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
          }
          Path resolved = target.getParent().resolve(link).normalize();
          if (Path.of(link).isAbsolute() || !resolved.startsWith(root)) {
            throw invalid(
                "Could not unzip uploaded file: symbolic link '"
                    + name
                    + "' points outside the deployment package ("
                    + link
                    + ")");
          }
          Files.createSymbolicLink(target, Path.of(link));
          continue;
        }
        if (!archive.canReadEntryData(entry)) {
          throw invalid(
              "Could not unzip uploaded file: entry '" + name + "' uses an unsupported method");
        }
        try (InputStream in = archive.getInputStream(entry);
            OutputStream out =
                Files.newOutputStream(
                    target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          byte[] buffer = new byte[64 * 1024];
          int n;
          while ((n = in.read(buffer)) > 0) {
            total += n;
            if (total > MAX_UNZIPPED_BYTES) {
              throw invalid("Unzipped size must be smaller than " + MAX_UNZIPPED_BYTES + " bytes");
            }
            out.write(buffer, 0, n);
          }
        } catch (FileAlreadyExistsException e) {
          throw invalid(
              "Could not unzip uploaded file: entry '" + name + "' appears more than once");
        }
        boolean executable = (entry.getUnixMode() & 0111) != 0;
        Files.setPosixFilePermissions(target, executable ? READ_ONLY_EXECUTABLE : READ_ONLY_FILE);
      }
    } catch (StorageException.Rejected e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      if (e instanceof UncheckedIOException || e instanceof java.nio.file.FileSystemException) {
        throw e;
      }
      throw invalid(
          "Could not unzip uploaded file. Please check your file, then try to upload again.");
    }
    sealDirectories(root);
    return total;
  }

  /** Makes every directory under {@code root} read-only, deepest first. */
  private static void sealDirectories(Path root) throws IOException {
    // deepest first, so a parent is still writable while its children are sealed
    try (var walk = Files.walk(root)) {
      List<Path> dirs =
          walk.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
              .sorted((a, b) -> b.compareTo(a))
              .toList();
      for (Path d : dirs) {
        Files.setPosixFilePermissions(d, READ_ONLY_DIR);
      }
    }
  }

  /** A package refused for its shape: not a zip, or an entry that would land outside it. */
  private static StorageException.Rejected invalid(String reason) {
    return new StorageException.Rejected(
        StorageException.Entity.CODE, "deployment package", reason, false);
  }

  /** A package refused for its size. */
  private static StorageException.Rejected tooLarge(String reason) {
    return new StorageException.Rejected(
        StorageException.Entity.CODE, "deployment package", reason, true);
  }

  private static Path insideRoot(Path root, String name) {
    if (name.isEmpty()
        || name.startsWith("/")
        || name.startsWith("\\")
        || name.matches("^[A-Za-z]:.*")
        || name.indexOf('\0') >= 0) {
      throw invalid("Could not unzip uploaded file: entry '" + name + "' has an absolute path");
    }
    Path target = root.resolve(name).normalize();
    if (!target.startsWith(root) || target.equals(root) && !name.endsWith("/")) {
      throw invalid(
          "Could not unzip uploaded file: entry '"
              + name
              + "' would be written outside the code"
              + " directory");
    }
    return target;
  }

  private static void writeDurably(Path file, byte[] bytes) throws IOException {
    if (Files.exists(file)) {
      return;
    }
    Path tmp = file.resolveSibling(file.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try (FileChannel ch =
        FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(bytes));
      ch.force(true);
    }
    moveAtomically(tmp, file);
  }

  private static void moveIntoPlace(Path from, Path to) throws IOException {
    try {
      Files.setPosixFilePermissions(from, WRITABLE_DIR);
      moveAtomically(from, to);
      Files.setPosixFilePermissions(to, READ_ONLY_DIR);
    } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
      deleteTree(from);
    }
  }

  private static void moveAtomically(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      List<Path> all = walk.sorted((a, b) -> b.compareTo(a)).toList();
      for (Path p : all) {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          Files.setPosixFilePermissions(p, WRITABLE_DIR);
        }
      }
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      deleteTree(dir);
    } catch (IOException ignored) {
      // scratch is wiped at the next start anyway
    }
  }

  private static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
