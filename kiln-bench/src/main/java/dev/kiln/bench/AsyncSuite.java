package dev.kiln.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;

/**
 * Durable asynchronous invocations: how many {@code Event} Invokes per second Kiln accepts (answers
 * 202, which it does only once the event is committed to its SQLite event queue), against the bare
 * cost of that durability: a fsync'd insert of the same row into a SQLite file of the same settings
 * (WAL, {@code synchronous=FULL}, one transaction per event, one connection used by one thread at a
 * time, as Kiln's queue does), measured in the same run with the same number of clients.
 *
 * <p>Both run as closed loops for the measurement duration. Kiln also works through the queue as it
 * fills (the function is a no-op), as it would in use; the bare insert does nothing else, so the
 * ratio is an upper bound on what the platform costs beyond the disk.
 */
final class AsyncSuite implements Suite {

  record Measurement(
      int clients,
      double bareInsertsPerSecond,
      double kilnAcceptedPerSecond,
      double kilnOverBare,
      Latency bareInsertServiceTime,
      Latency kilnAcceptServiceTime,
      long errors,
      String firstError) {}

  @Override
  public String name() {
    return "async";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    BenchSettings settings = context.settings();
    int clients = settings.asyncClients();
    report.note(
        clients
            + " clients, closed loop, warm-up "
            + settings.warmup().toMillis()
            + " ms then "
            + settings.duration().toMillis()
            + " ms; Kiln: raw HTTP Invoke with X-Amz-Invocation-Type: Event of a no-op Python"
            + " function; bare: INSERT of the same columns into SQLite (WAL, synchronous=FULL),"
            + " autocommit, in the same temporary file system as Kiln's data directory.");
    String function = "bench-async-python";
    context.createNoop(function, Language.PYTHON, Map.of());
    Path dir = Files.createTempDirectory("kiln-bench-sqlite-");
    try (BareEventStore store = new BareEventStore(dir.resolve("events.db"))) {
      LoadGenerator.Call insert = store::insert;
      LoadGenerator.Call accept =
          HttpCalls.invoke(
              context.http(),
              context.kiln().invokeUri(function),
              "Event",
              context.kiln().credentials());
      LoadGenerator.closedLoop(insert, clients, settings.warmup());
      LoadGenerator.Recording bare = LoadGenerator.closedLoop(insert, clients, settings.duration());
      LoadGenerator.closedLoop(accept, clients, settings.warmup());
      LoadGenerator.Recording kiln = LoadGenerator.closedLoop(accept, clients, settings.duration());
      Measurement m =
          new Measurement(
              clients,
              bare.callsPerSecond(),
              kiln.callsPerSecond(),
              kiln.callsPerSecond() / bare.callsPerSecond(),
              Latency.of(bare.serviceTime(), bare.errors()),
              Latency.of(kiln.serviceTime(), kiln.errors()),
              bare.errors() + kiln.errors(),
              bare.firstError() != null ? bare.firstError() : kiln.firstError());
      report.result(m);
      report
          .table(
              Table.of(
                  "durable Event invocations, " + clients + " clients",
                  "",
                  "per second",
                  "ratio to bare insert",
                  "p50 µs",
                  "p99 µs",
                  "errors"))
          .row(
              "bare fsync'd SQLite insert",
              m.bareInsertsPerSecond(),
              1.0,
              m.bareInsertServiceTime().p50Micros(),
              m.bareInsertServiceTime().p99Micros(),
              bare.errors())
          .row(
              "Kiln Event invoke accepted (202)",
              m.kilnAcceptedPerSecond(),
              m.kilnOverBare(),
              m.kilnAcceptServiceTime().p50Micros(),
              m.kilnAcceptServiceTime().p99Micros(),
              kiln.errors());
    } finally {
      ScratchFiles.deleteTree(dir);
    }
  }

  /** The baseline: one SQLite file with Kiln's durability settings and one table of events. */
  private static final class BareEventStore implements AutoCloseable {
    private final Connection db;
    private final PreparedStatement insert;
    private final byte[] payload = "{}".getBytes();

    BareEventStore(Path file) throws Exception {
      db = DriverManager.getConnection("jdbc:sqlite:" + file);
      try (Statement st = db.createStatement()) {
        st.execute("PRAGMA journal_mode=WAL");
        st.execute("PRAGMA synchronous=FULL");
        st.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL,"
                + " function TEXT NOT NULL, qualifier TEXT NOT NULL, payload BLOB NOT NULL,"
                + " received_at INTEGER NOT NULL, attempts INTEGER NOT NULL, throttles INTEGER"
                + " NOT NULL, due_at INTEGER NOT NULL, in_flight INTEGER NOT NULL)");
        st.execute("CREATE INDEX events_due ON events (in_flight, due_at)");
      }
      insert =
          db.prepareStatement(
              "INSERT INTO events (request_id, function, qualifier, payload, received_at,"
                  + " attempts, throttles, due_at, in_flight) VALUES (?, ?, ?, ?, ?, 0, 0, ?, 0)");
    }

    synchronized void insert() throws Exception {
      long now = System.currentTimeMillis();
      insert.setString(1, UUID.randomUUID().toString());
      insert.setString(2, "bench-async-python");
      insert.setString(3, "$LATEST");
      insert.setBytes(4, payload);
      insert.setLong(5, now);
      insert.setLong(6, now);
      insert.executeUpdate();
    }

    @Override
    public synchronized void close() throws Exception {
      insert.close();
      db.close();
    }
  }
}
