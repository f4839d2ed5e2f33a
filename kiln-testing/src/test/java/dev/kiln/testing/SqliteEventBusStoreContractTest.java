package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.store.EventBusStore;
import dev.kiln.store.SqliteEventBusStore;
import dev.kiln.store.SqliteMetadataStore;
import java.nio.file.Path;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite EventBusStore keeps every promise of {@link EventBusStoreContract}, shares the
 * metadata database with the metadata store, and keeps what it stored when opened again.
 */
class SqliteEventBusStoreContractTest extends EventBusStoreContract {

  @TempDir Path dir;

  @Override
  protected EventBusStore newStore() {
    return SqliteEventBusStore.open(dir.resolve("metadata.db"), InstantSource.fixed(T0));
  }

  @Test
  void sharesTheMetadataDatabaseAndSurvivesReopening() {
    store.createBus(bus("orders"));
    store.putRule(rule("orders", "r"));
    store.putTargets("orders", "r", java.util.List.of(target("1")));
    store.close();
    try (SqliteMetadataStore metadata = SqliteMetadataStore.open(dir.resolve("metadata.db"));
        EventBusStore again =
            SqliteEventBusStore.open(dir.resolve("metadata.db"), InstantSource.fixed(T0))) {
      metadata.check();
      assertThat(again.bus("orders")).hasValue(bus("orders"));
      assertThat(again.rule("orders", "r")).hasValue(rule("orders", "r"));
      assertThat(again.targets("orders", "r")).containsExactly(target("1"));
      assertThat(again.buses()).hasSize(2);
    }
    store = SqliteEventBusStore.open(dir.resolve("metadata.db"), InstantSource.fixed(T0));
  }
}
