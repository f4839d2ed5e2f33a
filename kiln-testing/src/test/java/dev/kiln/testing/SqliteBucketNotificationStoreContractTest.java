package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.store.BucketNotificationStore;
import dev.kiln.store.SqliteMetadataStore;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite bucket notification store (in the metadata database) keeps every promise of {@link
 * BucketNotificationStoreContract}, and what it stored is there when the file is opened again.
 */
class SqliteBucketNotificationStoreContractTest extends BucketNotificationStoreContract {

  @TempDir Path dir;
  private SqliteMetadataStore metadata;

  @Override
  protected BucketNotificationStore newStore() {
    metadata = SqliteMetadataStore.open(dir.resolve("metadata.db"));
    return metadata.bucketNotifications();
  }

  @AfterEach
  void close() {
    metadata.close();
  }

  @Test
  void aConfiguration_survivesReopening() {
    store.put("photos", "<NotificationConfiguration/>");
    metadata.close();
    metadata = SqliteMetadataStore.open(dir.resolve("metadata.db"));
    assertThat(metadata.bucketNotifications().configuration("photos"))
        .contains("<NotificationConfiguration/>");
  }
}
