package dev.kiln.testing;

import dev.kiln.store.IamStore;
import dev.kiln.store.SqliteIamStore;
import java.nio.file.Path;
import java.time.InstantSource;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite IamStore keeps every promise of {@link IamStoreContract}. */
class SqliteIamStoreContractTest extends IamStoreContract {

  @TempDir Path dir;

  @Override
  protected IamStore newStore(InstantSource clock) {
    return SqliteIamStore.open(dir.resolve("iam.db"), clock);
  }
}
