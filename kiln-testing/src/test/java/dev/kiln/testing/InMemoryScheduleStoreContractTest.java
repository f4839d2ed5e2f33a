package dev.kiln.testing;

import dev.kiln.store.ScheduleStore;

/** The in-memory ScheduleStore keeps every promise of {@link ScheduleStoreContract}. */
class InMemoryScheduleStoreContractTest extends ScheduleStoreContract {

  @Override
  protected ScheduleStore newStore() {
    return new InMemoryScheduleStore();
  }
}
