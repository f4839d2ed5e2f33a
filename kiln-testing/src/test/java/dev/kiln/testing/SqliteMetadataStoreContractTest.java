package dev.kiln.testing;

import dev.kiln.store.MetadataStore;
import dev.kiln.store.SqliteMetadataStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite MetadataStore keeps every promise of {@link MetadataStoreContract}. */
class SqliteMetadataStoreContractTest extends MetadataStoreContract {

  @TempDir Path dir;

  @Override
  protected MetadataStore newStore() {
    return SqliteMetadataStore.open(dir.resolve("metadata.db"));
  }
}
