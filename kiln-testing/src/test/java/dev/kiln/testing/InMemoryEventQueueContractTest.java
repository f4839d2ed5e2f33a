package dev.kiln.testing;

import dev.kiln.store.EventQueue;
import java.time.InstantSource;

/**
 * The in-memory EventQueue keeps every promise of {@link EventQueueContract}, as the SQLite one
 * does.
 */
class InMemoryEventQueueContractTest extends EventQueueContract {

  @Override
  protected EventQueue newQueue(InstantSource clock) {
    return new InMemoryEventQueue(clock);
  }
}
