package dev.kiln.testing;

import dev.kiln.store.EventBusStore;

/** The in-memory EventBusStore keeps every promise of {@link EventBusStoreContract}. */
class InMemoryEventBusStoreContractTest extends EventBusStoreContract {

  @Override
  protected EventBusStore newStore() {
    return new InMemoryEventBusStore(T0);
  }
}
