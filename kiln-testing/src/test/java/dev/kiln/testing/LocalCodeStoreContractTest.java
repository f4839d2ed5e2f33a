package dev.kiln.testing;

import dev.kiln.store.CodeStore;
import dev.kiln.store.LocalCodeStore;
import java.nio.file.Path;
import java.time.Duration;

class LocalCodeStoreContractTest extends CodeStoreContract {
  @Override
  protected CodeStore newStore(Path root) {
    return new LocalCodeStore(root, Duration.ZERO);
  }
}
