package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A copy written from a sparse image is the original byte for byte, and sparse where it is. */
class SparseImageTest {

  @TempDir Path dir;

  @Test
  void aCopy_isTheOriginalByteForByte_andHoldsOnlyItsData() throws Exception {
    Path original = dir.resolve("original.img");
    try (RandomAccessFile f = new RandomAccessFile(original.toFile(), "rw")) {
      f.setLength(64L * 1024 * 1024 + 123); // a length that is not a whole number of blocks
      f.seek(0);
      f.write("superblock".getBytes());
      f.seek(5L * SparseImage.BLOCK + 7); // inside a block, two blocks in a row
      f.write(new byte[SparseImage.BLOCK]); // zeros written: still zeros
      f.seek(9L * SparseImage.BLOCK);
      f.write(new byte[] {1, 2, 3});
      f.seek(10L * SparseImage.BLOCK - 1);
      f.write(new byte[] {4, 5}); // across a block's edge
      f.seek(64L * 1024 * 1024 + 120);
      f.write(new byte[] {9, 9, 9}); // the last, partial block
    }
    SparseImage image = SparseImage.read(original);
    assertThat(image.dataBytes()).isEqualTo(3L * SparseImage.BLOCK + 123);

    Path copy = dir.resolve("copy.img");
    image.writeTo(copy);
    assertThat(Files.size(copy)).isEqualTo(Files.size(original));
    assertThat(Files.mismatch(original, copy)).isEqualTo(-1L);
    // sparse: the file system holds about its data, not its 64 MB
    long allocated = allocatedBytes(copy);
    if (allocated >= 0) {
      assertThat(allocated).isLessThan(1024L * 1024);
    }
  }

  @Test
  void aFileSystemThatRefusesDirectReads_isReadThroughTheCache() throws Exception {
    Path shm = Path.of("/dev/shm");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm), "no tmpfs at /dev/shm");
    Path tmpfs = Files.createTempDirectory(shm, "kiln-sparse-test");
    try {
      Path original = tmpfs.resolve("original.img");
      try (RandomAccessFile f = new RandomAccessFile(original.toFile(), "rw")) {
        f.setLength(8L * 1024 * 1024);
        f.seek(3L * SparseImage.BLOCK);
        f.write("data".getBytes());
      }
      Path copy = dir.resolve("copy.img");
      SparseImage.read(original).writeTo(copy);
      assertThat(Files.mismatch(original, copy)).isEqualTo(-1L);
    } finally {
      try (var files = Files.list(tmpfs)) {
        for (Path f : files.toList()) {
          Files.delete(f);
        }
      }
      Files.delete(tmpfs);
    }
  }

  @Test
  void aCopy_isNotWrittenOverAFileThatExists() throws Exception {
    Path original = dir.resolve("original.img");
    Files.write(original, new byte[] {1});
    Path existing = dir.resolve("existing.img");
    Files.writeString(existing, "kept");
    assertThatThrownBy(() -> SparseImage.read(original).writeTo(existing))
        .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
    assertThat(Files.readString(existing)).isEqualTo("kept");
  }

  /** What {@code du} would say, from {@code stat}'s block count; -1 where stat is not there. */
  private static long allocatedBytes(Path file) throws Exception {
    Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    if (p.waitFor() != 0 || out.isEmpty()) {
      return -1;
    }
    String[] parts = out.split(" ");
    return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
  }
}
