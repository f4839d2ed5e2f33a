package dev.kiln.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The lock that keeps a second server off a data directory: an OS file lock on {@code kiln.lock},
 * held for the server's life and released when the process ends however it ends.
 */
final class DataDirectoryLock implements AutoCloseable {

  private final FileChannel file;
  private final FileLock lock;

  private DataDirectoryLock(FileChannel file, FileLock lock) {
    this.file = file;
    this.lock = lock;
  }

  /** Takes the lock, or refuses at once if another server holds it. */
  static DataDirectoryLock take(Path dataDir) throws IOException {
    FileChannel file =
        FileChannel.open(
            dataDir.resolve("kiln.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = file.tryLock();
    } catch (IOException | RuntimeException e) {
      file.close();
      throw e;
    }
    if (lock == null) {
      file.close();
      throw new IllegalStateException(
          "another Kiln server is already using the data directory " + dataDir);
    }
    return new DataDirectoryLock(file, lock);
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      file.close();
    }
  }
}
