package dev.kiln.testing;

import dev.kiln.store.UsageStore;

/**
 * The in-memory UsageStore keeps every promise of {@link UsageStoreContract}, as the SQLite one
 * does.
 */
class InMemoryUsageStoreContractTest extends UsageStoreContract {

  @Override
  protected UsageStore newStore() {
    return new InMemoryUsageStore();
  }
}
