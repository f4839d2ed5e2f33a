package dev.kiln.sandbox;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A file held as its length and the runs of blocks that are not all zeros, so that copies of it can
 * be written without running {@code cp}: a freshly formatted ext4 image of 512 MB has about 450 KB
 * of such blocks, and every process Kiln starts costs 5–6 ms of CPU on a small VM (a {@code cp} per
 * instance's {@code /tmp} disk was one process in six of a start's sandbox parts). A copy is sparse
 * where the original's zeros are, and byte for byte the same.
 */
final class SparseImage {

  /** The unit the file is read and compared in; ext4's block size. */
  static final int BLOCK = 4096;

  private record Run(long offset, byte[] bytes) {}

  private final long length;
  private final List<Run> runs;

  private SparseImage(long length, List<Run> runs) {
    this.length = length;
    this.runs = runs;
  }

  /**
   * Reads {@code file} whole, keeping the blocks with any byte that is not zero. The read bypasses
   * the page cache where the file system allows ({@code O_DIRECT}): a buffered read of a 512 MB
   * image's holes would fill the cache with half a gigabyte of zeros (about 1 s here, against
   * 0.1–0.2 s direct).
   */
  static SparseImage read(Path file) throws IOException {
    try (FileChannel in =
        FileChannel.open(
            file, StandardOpenOption.READ, com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
      return read(in, ByteBuffer.allocateDirect(CHUNK + BLOCK).alignedSlice(BLOCK));
    } catch (UnsupportedOperationException | IOException direct) {
      // tmpfs and some others refuse O_DIRECT (EINVAL): read through the cache
      try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
        return read(in, ByteBuffer.allocateDirect(CHUNK));
      }
    }
  }

  /** What is read at once; a multiple of {@link #BLOCK}. */
  private static final int CHUNK = 1 << 22;

  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(BLOCK).asReadOnlyBuffer();

  private static SparseImage read(FileChannel in, ByteBuffer chunk) throws IOException {
    List<Run> runs = new ArrayList<>();
    long length = in.size();
    long position = 0;
    long runStart = -1;
    java.io.ByteArrayOutputStream run = new java.io.ByteArrayOutputStream();
    byte[] block = new byte[BLOCK];
    while (position < length) {
      chunk.clear();
      chunk.limit(CHUNK);
      int read = in.read(chunk, position);
      if (read <= 0) {
        break;
      }
      for (int at = 0; at < read; at += BLOCK) {
        int n = Math.min(BLOCK, read - at);
        ByteBuffer b = chunk.slice(at, n);
        if (b.mismatch(ZEROS.slice(0, n)) >= 0) {
          if (runStart < 0) {
            runStart = position + at;
          }
          b.get(block, 0, n);
          run.write(block, 0, n);
        } else if (runStart >= 0) {
          runs.add(new Run(runStart, run.toByteArray()));
          run.reset();
          runStart = -1;
        }
      }
      position += read;
    }
    if (runStart >= 0) {
      runs.add(new Run(runStart, run.toByteArray()));
    }
    return new SparseImage(length, List.copyOf(runs));
  }

  /** Bytes the copy holds that are not holes. */
  long dataBytes() {
    return runs.stream().mapToLong(r -> r.bytes().length).sum();
  }

  /** Writes a copy to {@code file}, which must not exist yet. */
  void writeTo(Path file) throws IOException {
    try (FileChannel out =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (Run r : runs) {
        ByteBuffer b = ByteBuffer.wrap(r.bytes());
        long at = r.offset();
        while (b.hasRemaining()) {
          at += out.write(b, at);
        }
      }
    }
    // the length last: a file extended past its last write is a hole up to there
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(length);
    }
  }
}
