package dev.kiln.testing;

import dev.kiln.store.LogStore;
import dev.kiln.store.SqliteLogStore;
import java.nio.file.Path;
import java.time.InstantSource;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite LogStore keeps every promise of {@link LogStoreContract}. */
class SqliteLogStoreContractTest extends LogStoreContract {

  @TempDir Path dir;

  @Override
  protected LogStore newStore(InstantSource clock) {
    return SqliteLogStore.open(dir.resolve("logs.db"), clock);
  }
}
