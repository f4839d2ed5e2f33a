package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;

/**
 * Each instance's {@code /tmp}: a disk of exactly the function's {@code EphemeralStorage}, private
 * to the instance, that answers ENOSPC when it is full.
 *
 * <p>A tmpfs would be quicker to make, but the kernel charges tmpfs pages to the memory limit of
 * whoever writes them, so a 128 MB function could not fill a 512 MB {@code /tmp} as it can on
 * Lambda: it would be OOM-killed. So {@code /tmp} is an ext4 file system in a sparse image on a
 * loop device. Formatting costs tens of milliseconds, so each size is formatted once into a
 * template; an instance gets a sparse copy of the template, written by Kiln from the template's
 * blocks held in memory ({@link SparseImage}, about 450 KB for 512 MB: no {@code cp} process), and
 * a loop mount (a few milliseconds). A disk of the default size is kept ready ({@link Spare}), so
 * most cold starts do not wait even for that. Needs root; without it the driver falls back to a
 * size-limited tmpfs.
 *
 * <p>Disks live under the driver's state directory, not in the instance's, so that a spare can be
 * made before its instance exists; what a Kiln killed with -9 left there is swept at the next
 * start.
 */
final class ScratchDisks {

  /** ext4's own metadata takes about 3% and a few MB; the image is that much larger. */
  static long imageBytes(int sizeMb) {
    long bytes = sizeMb * 1024L * 1024L;
    return bytes + bytes * 3 / 100 + 8L * 1024 * 1024;
  }

  /** Lambda's default {@code EphemeralStorage}, the size kept ready. */
  static final int DEFAULT_SIZE_MB = 512;

  private final Path templates;
  private final Path disks;
  private final Spare<Path> spare;
  private final String owner;
  private final String mkfs;
  private final String mount;
  private final String umount;
  private final String debugfs;

  /** Each size's template, read once; guarded by {@code this} (see {@link #template}). */
  private final java.util.Map<Integer, SparseImage> images = new java.util.HashMap<>();

  private ScratchDisks(
      Path stateDir,
      Executor executor,
      String owner,
      String mkfs,
      String mount,
      String umount,
      String debugfs) {
    this.templates = stateDir.resolve("tmp-templates");
    this.disks = stateDir.resolve("tmp-disks");
    this.spare = new Spare<>("/tmp disk", () -> make(DEFAULT_SIZE_MB), this::remove, executor);
    this.owner = owner;
    this.mkfs = mkfs;
    this.mount = mount;
    this.umount = umount;
    this.debugfs = debugfs;
  }

  /**
   * Scratch disks, when this host can make them (root, and mkfs.ext4, mount and loop devices
   * there); they belong to {@code uid:gid}.
   */
  static Optional<ScratchDisks> create(Path stateDir, int uid, int gid, Executor executor) {
    Optional<String> mkfs = ProcessTrees.executable("mkfs.ext4");
    Optional<String> mount = ProcessTrees.executable("mount");
    Optional<String> umount = ProcessTrees.executable("umount");
    Optional<String> debugfs = ProcessTrees.executable("debugfs");
    if (!LinuxSandboxDriver.isRoot()
        || mkfs.isEmpty()
        || mount.isEmpty()
        || umount.isEmpty()
        || debugfs.isEmpty()
        || !Files.exists(Path.of("/dev/loop-control"))) {
      return Optional.empty();
    }
    try {
      Files.createDirectories(stateDir.resolve("tmp-templates"));
      Files.createDirectories(stateDir.resolve("tmp-disks"));
    } catch (IOException e) {
      return Optional.empty();
    }
    return Optional.of(
        new ScratchDisks(
            stateDir,
            executor,
            uid + ":" + gid,
            mkfs.get(),
            mount.get(),
            umount.get(),
            debugfs.get()));
  }

  /** Makes the first spare; call once leftovers are swept. */
  void prepare() {
    spare.refill();
  }

  /** A fresh, empty, mounted disk of {@code sizeMb}: the directory to bind at {@code /tmp}. */
  Path take(int sizeMb) throws IOException {
    return sizeMb == DEFAULT_SIZE_MB ? spare.take() : make(sizeMb);
  }

  private Path make(int sizeMb) throws IOException {
    SparseImage template = template(sizeMb);
    Path dir = disks.resolve(UUID.randomUUID().toString().replace("-", ""));
    Path mountPoint = dir.resolve("tmp");
    Path image = dir.resolve("tmp.img");
    Files.createDirectories(mountPoint);
    try {
      try {
        template.writeTo(image);
      } catch (IOException e) {
        throw new IOException("could not make the instance's /tmp: " + e.getMessage(), e);
      }
      run(mount, "-o", "loop,nosuid,nodev", image.toString(), mountPoint.toString());
    } catch (IOException e) {
      // a mount that failed late (timed out, interrupted) may have mounted all the same: deleting
      // the tree around it would leave it mounted for good, its image unlinked
      unmount(mountPoint);
      ProcessTrees.deleteTree(dir);
      throw e;
    }
    return mountPoint;
  }

  /** Unmounts a disk {@link #take} gave and deletes its image. */
  void remove(Path disk) {
    unmount(disk);
    ProcessTrees.deleteTree(disk.getParent());
  }

  /** Removes the disks a Kiln killed with -9 left behind; their instances are gone already. */
  void sweep() {
    for (Path dir : ProcessTrees.instanceDirs(disks)) {
      remove(dir.resolve("tmp"));
    }
  }

  /** Disks of the default size made ahead of need and ready to be taken. */
  int spares() {
    return spare.ready();
  }

  /** Removes the spare. */
  void close() {
    spare.close();
  }

  private void unmount(Path mountPoint) {
    if (isMountPoint(mountPoint)) {
      try {
        // lazily: a process still holding a file there must not keep the loop device busy
        run(umount, "-l", mountPoint.toString());
      } catch (IOException e) {
        // nothing more to do; the next start of Kiln sweeps it
      }
    }
  }

  private synchronized SparseImage template(int sizeMb) throws IOException {
    SparseImage image = images.get(sizeMb);
    if (image == null) {
      image = SparseImage.read(templateFile(sizeMb));
      images.put(sizeMb, image);
    }
    return image;
  }

  private Path templateFile(int sizeMb) throws IOException {
    Path template = templates.resolve(sizeMb + "mb.ext4");
    if (!Files.exists(template)) {
      Path partial = templates.resolve(sizeMb + "mb.ext4.partial");
      Files.deleteIfExists(partial);
      try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(partial.toFile(), "rw")) {
        f.setLength(imageBytes(sizeMb)); // sparse: no block is written
      }
      run(
          mkfs,
          "-q",
          "-F",
          "-m",
          "0",
          "-O",
          "^has_journal",
          "-E",
          "root_owner=" + owner,
          partial.toString());
      // Lambda's /tmp starts empty: no lost+found
      run(debugfs, "-w", "-R", "rmdir lost+found", partial.toString());
      Files.move(partial, template);
    }
    return template;
  }

  static boolean isMountPoint(Path dir) {
    try {
      String target = " " + dir.toAbsolutePath() + " ";
      return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
          .anyMatch(l -> l.contains(target));
    } catch (IOException e) {
      return false;
    }
  }

  private static void run(String... command) throws IOException {
    try {
      ProcessTrees.run(List.of(command), "");
    } catch (IOException e) {
      throw new IOException("could not make the instance's /tmp: " + e.getMessage(), e);
    }
  }
}
