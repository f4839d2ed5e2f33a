package dev.kiln.testing;

import dev.kiln.store.EventQueue;
import dev.kiln.store.SqliteEventQueue;
import java.nio.file.Path;
import java.time.InstantSource;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite EventQueue keeps every promise of {@link EventQueueContract}. */
class SqliteEventQueueContractTest extends EventQueueContract {

  @TempDir Path dir;

  @Override
  protected EventQueue newQueue(InstantSource clock) {
    return SqliteEventQueue.open(dir.resolve("events.db"), clock);
  }
}
