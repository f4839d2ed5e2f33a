package dev.kiln.testing;

import dev.kiln.store.ScheduleStore;
import dev.kiln.store.SqliteScheduleStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite ScheduleStore keeps every promise of {@link ScheduleStoreContract}. */
class SqliteScheduleStoreContractTest extends ScheduleStoreContract {

  @TempDir Path dir;

  @Override
  protected ScheduleStore newStore() {
    return SqliteScheduleStore.open(dir.resolve("metadata.db"));
  }
}
