package dev.kiln.testing;

import dev.kiln.store.BucketNotificationStore;

/** The in-memory bucket notification store keeps every promise of the contract. */
class InMemoryBucketNotificationStoreContractTest extends BucketNotificationStoreContract {

  @Override
  protected BucketNotificationStore newStore() {
    return new InMemoryBucketNotificationStore();
  }
}
