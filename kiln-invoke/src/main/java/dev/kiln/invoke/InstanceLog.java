package dev.kiln.invoke;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output of one instance, cut into invocations.
 *
 * <p>The instance appends its stdout and stderr to a file. An invocation is over when the runtime
 * asks for its next event (a runtime may log after it answers: AWS's Java runtime client posts an
 * error, then prints its stack trace), and a write to a file is complete when it returns, so by
 * then everything the function printed is in the file: the invocation's record is exactly the bytes
 * between where the previous record ended and the file's end at that moment. Output written between
 * invocations (during init, say) lands in the next record, as Lambda attributes init output to the
 * first invocation; what a runtime prints after its last invocation (on SIGTERM) is taken when it
 * has stopped. No thread reads the file while the instance is idle.
 */
final class InstanceLog {

  private static final Logger LOG = LoggerFactory.getLogger(InstanceLog.class);

  /**
   * Past this, the file is emptied between invocations so a chatty instance cannot fill the disk.
   */
  private static final long TRUNCATE_AT = 16L * 1024 * 1024;

  /** At most this much of one invocation's output is kept in its record. */
  private static final int MAX_RECORD = 1024 * 1024;

  private final Path file;
  private long offset;

  InstanceLog(Path file) {
    this.file = file;
  }

  /** The output of the record so far, without closing it (for a tail sent before its end). */
  synchronized String peek() {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long end = ch.size();
      long from = Math.max(offset, end - MAX_RECORD);
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.max(0, end - from));
      while (buffer.hasRemaining() && ch.read(buffer, from + buffer.position()) > 0) {
        // read to the end seen above
      }
      return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      LOG.debug("cannot read instance output {}: {}", file, e.toString());
      return "";
    }
  }

  /** Closes the current record and returns the function's output in it. */
  synchronized String takeRecord() {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long end = ch.size();
      long from = Math.max(offset, end - MAX_RECORD);
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.max(0, end - from));
      while (buffer.hasRemaining() && ch.read(buffer, from + buffer.position()) > 0) {
        // read to the end seen above
      }
      offset = end;
      if (end > TRUNCATE_AT) {
        ch.truncate(0);
        offset = 0;
      }
      return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      LOG.debug("cannot read instance output {}: {}", file, e.toString());
      return "";
    }
  }
}
