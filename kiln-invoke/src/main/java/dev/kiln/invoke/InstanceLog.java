package dev.kiln.invoke;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.model.FunctionConfig.LoggingSettings;
import dev.kiln.store.LogStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output of one instance, cut into invocations, and what of it survives a crash of Kiln.
 *
 * <p>The instance appends its stdout and stderr to a file. An invocation is over when the runtime
 * asks for its next event (a runtime may log after it answers: AWS's Java runtime client posts an
 * error, then prints its stack trace), and a write to a file is complete when it returns, so by
 * then everything the function printed is in the file: the invocation's record is exactly the bytes
 * between where the previous record ended and the file's end at that moment. Output written between
 * invocations (during init, say) lands in the next record, as Lambda attributes init output to the
 * first invocation; what a runtime prints after its last invocation (on SIGTERM) is taken when it
 * has stopped. No thread reads the file while the instance is idle.
 *
 * <p><b>Crashes.</b> Each record is handed to the log writer with the offset it was cut at ({@link
 * Cut#end}), and the log store commits that offset with the record's lines. Beside the output file
 * the instance's log stream is written down ({@value #LABEL}) when it starts. So when Kiln is
 * killed, whatever the instance printed that the store had not committed (lines in the writer's
 * memory, lines printed after the last cut) is still on disk past the committed offset, and the
 * next Kiln ingests it into the instance's stream ({@link #ingestLeftover}) before it removes the
 * instance's directory: nothing twice, nothing lost while the disk survives. The file is emptied
 * past {@link #TRUNCATE_AT} only once the writer has committed everything up to the cut ({@link
 * FunctionLogs#sync}); an offset past the file's end means the file was emptied after it, so all of
 * it is new.
 *
 * <p>Cuts and emptying are synchronized on this object; nothing else is shared.
 */
final class InstanceLog {

  private static final Logger LOG = LoggerFactory.getLogger(InstanceLog.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The file beside the output that names the instance's log group and stream. */
  static final String LABEL = "log-stream.json";

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

  /**
   * One invocation's output: {@code text}, read up to byte {@code end} of the file; {@code full}
   * when the file should be emptied ({@link #empty}) once the record is durable.
   */
  record Cut(String text, long end, boolean full) {}

  /** The output of the record so far, without closing it (for a tail sent before its end). */
  synchronized String peek() {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(ch, offset, ch.size());
    } catch (IOException e) {
      LOG.debug("cannot read instance output {}: {}", file, e.toString());
      return "";
    }
  }

  /** Closes the current record and returns the function's output in it. */
  synchronized Cut cut() {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long end = ch.size();
      String text = read(ch, offset, end);
      offset = end;
      return new Cut(text, end, end > TRUNCATE_AT);
    } catch (IOException e) {
      LOG.debug("cannot read instance output {}: {}", file, e.toString());
      return new Cut("", offset, false);
    }
  }

  /**
   * Empties the file if nothing was appended since the cut at {@code end} (what was would be lost:
   * the next cut tries again); true if it did.
   */
  synchronized boolean empty(long end) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      if (ch.size() != end || offset != end) {
        return false;
      }
      ch.truncate(0);
      offset = 0;
      return true;
    } catch (IOException e) {
      LOG.debug("cannot empty instance output {}: {}", file, e.toString());
      return false;
    }
  }

  /** The bytes {@code [from, end)}, at most the last {@link #MAX_RECORD} of them, as text. */
  private static String read(FileChannel ch, long from, long end) throws IOException {
    long start = Math.max(from, end - MAX_RECORD);
    ByteBuffer buffer = ByteBuffer.allocate((int) Math.max(0, end - start));
    while (buffer.hasRemaining() && ch.read(buffer, start + buffer.position()) > 0) {
      // read to the end seen above
    }
    return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
  }

  /** The log events of {@code text}: one a line, empty lines left out. */
  static List<LogStore.Event> events(String group, String stream, long timestamp, String text) {
    List<LogStore.Event> events = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (!line.isEmpty()) {
        events.add(new LogStore.Event(group, stream, timestamp, line));
      }
    }
    return events;
  }

  /**
   * Writes down, in the instance's directory, where its output goes: the log group and stream, and
   * what decides which lines are kept (the function's logging settings).
   */
  static void label(Path instanceDir, FunctionVersion version, String stream) throws IOException {
    LoggingSettings logging = version.config().logging();
    var label =
        JSON.createObjectNode()
            .put("group", logging.logGroup())
            .put("stream", stream)
            .put("function", version.name())
            .put("version", version.version())
            .put("runtime", version.config().runtime())
            .put("logFormat", logging.logFormat())
            .put("applicationLogLevel", logging.applicationLogLevel().orElse(null));
    Files.createDirectories(instanceDir);
    Files.writeString(instanceDir.resolve(LABEL), label.toString());
  }

  /** The instance's files are going: nothing of its output is to be ingested after a crash. */
  void forget() {
    try {
      Files.deleteIfExists(file.resolveSibling(LABEL));
    } catch (IOException e) {
      LOG.debug("cannot remove {}: {}", file.resolveSibling(LABEL), e.toString());
    }
  }

  /**
   * Ingests what the instance in {@code instanceDir}, left by a Kiln that died, printed past what
   * {@code store} committed of its output, into its log stream, with the offset read to; the
   * instance's processes must be gone. The lines are stamped with the file's last change.
   */
  static void ingestLeftover(Path instanceDir, LogStore store) {
    String instance = instanceDir.getFileName().toString();
    Path output = instanceDir.resolve("output.log");
    JsonNode label;
    try {
      label = JSON.readTree(Files.readString(instanceDir.resolve(LABEL)));
    } catch (NoSuchFileException e) {
      return; // not an instance whose output goes to a log stream, or it was stopped in order
    } catch (IOException e) {
      LOG.warn("cannot read {} of a leftover instance: {}", LABEL, e.toString());
      return;
    }
    try (FileChannel ch = FileChannel.open(output, StandardOpenOption.READ)) {
      long end = ch.size();
      long from = store.outputRead(instance).filter(read -> read <= end).orElse(0L);
      if (from == end) {
        return;
      }
      String text = read(ch, from, end);
      LoggingSettings logging =
          new LoggingSettings(
              label.path("logFormat").asText("Text"),
              Optional.ofNullable(label.path("applicationLogLevel").textValue()),
              Optional.empty(),
              label.path("group").asText());
      PlatformLog platform =
          new PlatformLog(
              logging,
              label.path("function").asText(),
              label.path("version").asText(),
              label.path("runtime").asText(),
              "");
      long at = Files.getLastModifiedTime(output).toMillis();
      List<LogStore.Event> events =
          events(logging.logGroup(), label.path("stream").asText(), at, platform.output(text));
      store.append(events, Map.of(instance, end));
      LOG.info(
          "ingested {} log lines that instance {} of {} printed before Kiln stopped",
          events.size(),
          instance,
          label.path("function").asText());
    } catch (NoSuchFileException e) {
      // it never printed
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot ingest the output of leftover instance {}: {}", instance, e.toString());
    }
  }
}
