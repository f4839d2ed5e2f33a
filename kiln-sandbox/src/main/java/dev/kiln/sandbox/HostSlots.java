package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Numbered slots (the /30 instance networks) shared by every Kiln server on one host, in one JVM or
 * in many, claimed so that no two ever hold the same slot at once.
 *
 * <p>The model: slot {@code n} is held by whoever holds an OS file lock ({@link
 * FileChannel#tryLock()}) on {@code <dir>/<n>.lock}. The kernel drops a process's locks when it
 * dies, however it dies, so a slot held by a Kiln killed with -9 is free again at once, with no
 * clean-up and no stale-lock guessing. The lock files are never deleted: unlinking one while it is
 * locked would let another process lock a fresh file of the same name while the holder still holds
 * the old one. While held, the file holds its holder's note (what it made with the slot: the name
 * of its network namespace and veth link), so that the next holder of a slot whose holder died can
 * remove what was left behind; a slot released in order has an empty note.
 *
 * <p>File locks belong to the process, not to the thread or the channel, and on Linux closing
 * <em>any</em> channel of a locked file drops the JVM's lock on it. So a JVM must never open the
 * file of a slot it holds: {@link #held} records the slots this JVM holds (several servers in one
 * JVM, as in tests, share one {@code HostSlots} per directory through {@link #at}), and a claim
 * skips those before it opens anything.
 *
 * <p>Locking: the monitor of this object guards {@link #held}; a claim and a release each run under
 * it, file operations included (about 30 microseconds for a claim, note and release, off the
 * invocation path: networks are made as spares in the background).
 */
final class HostSlots {

  /**
   * Where Kiln servers on this host claim instance networks. Where {@code /run} outlives a reboot
   * (it is not a tmpfs everywhere), a note from before names namespaces and links that are gone,
   * and the next holder finds nothing to remove.
   */
  static final Path NETWORK_SLOTS = Path.of("/run/kiln/net-slots");

  private static final Map<Path, HostSlots> BY_DIR = new ConcurrentHashMap<>();

  private final Path dir;
  private final int count;
  private final BitSet held;

  private HostSlots(Path dir, int count) {
    this.dir = dir;
    this.count = count;
    this.held = new BitSet(count);
  }

  /** The slots {@code 0 .. count-1} claimed under {@code dir}, one object per directory per JVM. */
  static HostSlots at(Path dir, int count) {
    return BY_DIR.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> new HostSlots(d, count));
  }

  /** A slot this process holds until {@link #release}, or until the process dies. */
  final class Claim {
    private final int slot;
    private final FileChannel channel;
    private final FileLock lock;
    private final String previousNote;

    private Claim(int slot, FileChannel channel, FileLock lock, String previousNote) {
      this.slot = slot;
      this.channel = channel;
      this.lock = lock;
      this.previousNote = previousNote;
    }

    int slot() {
      return slot;
    }

    /**
     * What the slot's last holder noted and did not clear: the leftovers of a holder that died with
     * it; empty when it was released in order (or never held).
     */
    String previousNote() {
      return previousNote;
    }

    /** Notes what this holder makes with the slot, for the next holder should this one die. */
    void note(String note) throws IOException {
      synchronized (HostSlots.this) {
        channel.truncate(0);
        // no fsync: the note must outlive its process, which the page cache does; a reboot takes
        // the namespaces it names with it
        channel.write(ByteBuffer.wrap(note.getBytes(StandardCharsets.UTF_8)), 0);
      }
    }

    /** Clears the note and gives the slot back. */
    void release() {
      synchronized (HostSlots.this) {
        try {
          channel.truncate(0);
        } catch (IOException e) {
          // the next holder finds the note and removes what it names, which is gone already
        }
        try {
          lock.release();
          channel.close();
        } catch (IOException e) {
          // closing drops the lock regardless
        }
        held.clear(slot);
      }
    }
  }

  /** Claims a free slot, starting the search at a random one so that claimants rarely meet. */
  synchronized Claim claim() throws IOException {
    Files.createDirectories(dir);
    int start = ThreadLocalRandom.current().nextInt(count);
    for (int i = 0; i < count; i++) {
      int slot = (start + i) % count;
      if (held.get(slot)) {
        continue; // this JVM holds it; opening its file could drop the lock
      }
      Claim claim = tryClaim(slot);
      if (claim != null) {
        held.set(slot);
        return claim;
      }
    }
    throw new IOException("all " + count + " instance networks on this host are in use");
  }

  private Claim tryClaim(int slot) throws IOException {
    FileChannel channel =
        FileChannel.open(
            dir.resolve(slot + ".lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException | IOException e) {
      lock = null;
    }
    if (lock == null) {
      channel.close(); // held by another process: this JVM held no lock on it to lose
      return null;
    }
    try {
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(channel.size(), 4096));
      channel.read(buffer, 0);
      String note = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
      return new Claim(slot, channel, lock, note.trim());
    } catch (IOException e) {
      channel.close();
      throw e;
    }
  }
}
