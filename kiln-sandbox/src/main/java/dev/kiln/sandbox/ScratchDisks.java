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
 * <p>Two kinds are handed out. A <em>mounted</em> disk ({@link #take}) is loop-mounted on the host
 * by a {@code mount} process, for bubblewrap to bind; it is unmounted by an {@code umount} process
 * when its instance ends. An <em>image</em> ({@link #image}) is only the written file, for an
 * instance forked from a zygote, whose init attaches it to a loop device that clears itself and
 * mounts it inside the instance's own mount namespace (zygote.py): no process is started for it, it
 * is never mounted on the host, and the kernel unmounts it and frees the loop device when the
 * instance's last process ends, whatever killed it. Writing an image costs about a millisecond, so
 * images are made as they are asked for, none ahead. A forked instance still takes a mounted spare
 * when one is ready ({@link #readyOrImage}): a bind is quicker than its own mount.
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

  /**
   * One instance's disk: its own directory under the state directory's {@code tmp-disks}, holding
   * its image ({@code tmp.img}) and, when Kiln mounted it on the host, the mount point ({@code
   * tmp}).
   */
  record Disk(Path dir, boolean mounted) {
    Path image() {
      return dir.resolve("tmp.img");
    }

    /** Where it is mounted on the host; only for a {@link #mounted} disk. */
    Path mountPoint() {
      return dir.resolve("tmp");
    }
  }

  private final Path templates;
  private final Path disks;
  private final Spare<Disk> spare;
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

  /**
   * A fresh, empty disk of {@code sizeMb} mounted on the host: its mount point is the directory to
   * bind at {@code /tmp}.
   */
  Disk take(int sizeMb) throws IOException {
    return sizeMb == DEFAULT_SIZE_MB ? spare.take() : make(sizeMb);
  }

  /**
   * For an instance that can mount its own: a mounted spare if one is ready (binding it is the
   * quickest start: writing an image and mounting it in the instance adds about 10 ms to a single
   * cold start here), else an {@link #image} (a burst's starts, which then start no process for
   * their disks).
   */
  Disk readyOrImage(int sizeMb) throws IOException {
    Disk ready = sizeMb == DEFAULT_SIZE_MB ? spare.takeReady() : null;
    return ready != null ? ready : image(sizeMb);
  }

  /**
   * A fresh, empty disk of {@code sizeMb} as an image file only, for the instance to mount itself
   * (see the class comment).
   */
  Disk image(int sizeMb) throws IOException {
    Disk disk = new Disk(newDir(), false);
    try {
      write(sizeMb, disk);
    } catch (IOException e) {
      ProcessTrees.deleteTree(disk.dir());
      throw e;
    }
    return disk;
  }

  private Disk make(int sizeMb) throws IOException {
    Disk disk = new Disk(newDir(), true);
    Files.createDirectories(disk.mountPoint());
    try {
      write(sizeMb, disk);
      run(mount, "-o", "loop,nosuid,nodev", disk.image().toString(), disk.mountPoint().toString());
    } catch (IOException e) {
      // a mount that failed late (timed out, interrupted) may have mounted all the same: deleting
      // the tree around it would leave it mounted for good, its image unlinked
      remove(disk);
      throw e;
    }
    return disk;
  }

  private Path newDir() throws IOException {
    return Files.createDirectories(disks.resolve(UUID.randomUUID().toString().replace("-", "")));
  }

  private void write(int sizeMb, Disk disk) throws IOException {
    try {
      template(sizeMb).writeTo(disk.image());
    } catch (IOException e) {
      throw new IOException("could not make the instance's /tmp: " + e.getMessage(), e);
    }
  }

  /**
   * Undoes a disk {@link #take} or {@link #image} gave: unmounts it from the host if Kiln mounted
   * it there, and deletes its image (an instance's own mount of an image holds the file's inode
   * until the kernel clears its loop device).
   */
  void remove(Disk disk) {
    if (disk.mounted()) {
      unmount(disk.mountPoint());
    }
    ProcessTrees.deleteTree(disk.dir());
  }

  /** Removes the disks a Kiln killed with -9 left behind; their instances are gone already. */
  void sweep() {
    for (Path dir : ProcessTrees.instanceDirs(disks)) {
      remove(new Disk(dir, true)); // mounted or not: unmount looks first
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
