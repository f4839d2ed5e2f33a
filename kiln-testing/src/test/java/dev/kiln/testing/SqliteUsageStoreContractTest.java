package dev.kiln.testing;

import dev.kiln.store.SqliteUsageStore;
import dev.kiln.store.UsageStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite UsageStore keeps every promise of {@link UsageStoreContract}. */
class SqliteUsageStoreContractTest extends UsageStoreContract {

  @TempDir Path dir;

  @Override
  protected UsageStore newStore() {
    return SqliteUsageStore.open(dir.resolve("usage.db"));
  }
}
