package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.Account;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.store.LogStore;
import dev.kiln.store.SqliteLogStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What an instance printed reaches its log stream once, across a crash of Kiln: what the writer
 * committed, with how far it had read, and the rest of the output file at the next start.
 */
class InstanceLogTest {

  static final String GROUP = "/aws/lambda/f";
  static final String STREAM = "2026/01/01/[$LATEST]abc";

  Path root;
  Path dir;
  SqliteLogStore store;

  @BeforeEach
  void open() throws Exception {
    root = dev.kiln.testing.TempDirs.create("kiln-instance-log-");
    dir = root.resolve("abc");
    store = SqliteLogStore.open(root.resolve("logs.db"), java.time.InstantSource.system());
    FunctionConfig config =
        FunctionConfig.create(
            "f",
            new CodeDigest("00".repeat(32), 1, 1),
            ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r"),
            Instant.now());
    FunctionVersion version =
        new FunctionVersion(
            config,
            Account.DEFAULT.functionArn("f"),
            root,
            RuntimeTable.install(root.resolve("runtimes"), Map.of()).launch("python3.12"),
            Optional.empty(),
            true);
    InstanceLog.label(dir, version, STREAM);
  }

  @AfterEach
  void close() {
    store.close();
  }

  List<String> stream() {
    return store
        .events(GROUP, STREAM, 0, Long.MAX_VALUE, Optional.empty(), Optional.empty(), 1000, true)
        .stream()
        .map(LogStore.StoredEvent::message)
        .toList();
  }

  @Test
  void whatTheWriterCommitted_isNotIngestedAgain_theRestIs() throws Exception {
    Path output = dir.resolve("output.log");
    Files.writeString(output, "one\ntwo\n");
    InstanceLog log = new InstanceLog(output);
    InstanceLog.Cut cut = log.cut();
    try (BufferedLogWriter writer =
        BufferedLogWriter.builder(store, Duration.ofDays(1), 1 << 30).build()) {
      writer.record(GROUP, STREAM, System.currentTimeMillis(), cut.text(), "abc", cut.end());
    }
    Files.writeString(output, "three\nfour\n", java.nio.file.StandardOpenOption.APPEND);

    // Kiln is killed here; the next one finds the directory
    InstanceLog.ingestLeftover(dir, store);
    assertThat(stream()).containsExactly("one", "two", "three", "four");
    InstanceLog.ingestLeftover(dir, store);
    assertThat(stream()).as("nothing twice").containsExactly("one", "two", "three", "four");
  }

  @Test
  void aFileEmptiedAfterTheLastCommit_isIngestedWhole() throws Exception {
    Path output = dir.resolve("output.log");
    store.append(List.of(new LogStore.Event(GROUP, STREAM, 1, "old")), Map.of("abc", 1000L));
    Files.writeString(output, "new\n");
    InstanceLog.ingestLeftover(dir, store);
    assertThat(stream()).containsExactly("old", "new");
  }

  @Test
  void anInstanceStoppedInOrder_leavesNothingToIngest() throws Exception {
    Path output = dir.resolve("output.log");
    Files.writeString(output, "printed after its last cut\n");
    new InstanceLog(output).forget();
    InstanceLog.ingestLeftover(dir, store);
    assertThat(stream()).isEmpty();
  }

  @Test
  void aFullFileIsEmptiedOnlyIfNothingCameAfterTheCut() throws Exception {
    Path output = dir.resolve("output.log");
    Files.write(output, new byte[17 * 1024 * 1024]);
    InstanceLog log = new InstanceLog(output);
    InstanceLog.Cut cut = log.cut();
    assertThat(cut.full()).isTrue();
    Files.writeString(output, "late\n", java.nio.file.StandardOpenOption.APPEND);
    assertThat(log.empty(cut.end())).as("a line came after the cut").isFalse();
    InstanceLog.Cut next = log.cut();
    assertThat(next.text()).isEqualTo("late\n");
    assertThat(log.empty(next.end())).isTrue();
    assertThat(Files.size(output)).isZero();
  }
}
