package dev.kiln.testing;

import dev.kiln.store.MetadataStore;

/**
 * The in-memory MetadataStore keeps every promise of {@link MetadataStoreContract}, as the SQLite
 * one does.
 */
class InMemoryMetadataStoreContractTest extends MetadataStoreContract {

  @Override
  protected MetadataStore newStore() {
    return new InMemoryMetadataStore();
  }
}
