package dev.kiln.testing;

import dev.kiln.store.IamStore;
import java.time.InstantSource;

/**
 * The in-memory IamStore keeps every promise of {@link IamStoreContract}, as the SQLite one does.
 */
class InMemoryIamStoreContractTest extends IamStoreContract {

  @Override
  protected IamStore newStore(InstantSource clock) {
    return new InMemoryIamStore(clock);
  }
}
