package dev.kiln.testing;

import dev.kiln.store.LogStore;
import java.time.InstantSource;

/**
 * The in-memory LogStore keeps every promise of {@link LogStoreContract}, as the SQLite one does.
 */
class InMemoryLogStoreContractTest extends LogStoreContract {

  @Override
  protected LogStore newStore(InstantSource clock) {
    return new InMemoryLogStore(clock);
  }
}
