package dev.kiln.invoke;

/**
 * One invocation's hold on one instance. Closing it gives the instance back to its pool, which
 * keeps it for the next event if it is still healthy and stops it otherwise. The instance goes back
 * once its runtime has asked for the next event (the invocation's log ends there) and its
 * extensions have finished with the event too.
 *
 * <p>Giving back after the instance settles runs on the {@code giveBacks} executor the pool passes
 * down from the invoker's configuration ({@link Invoker.Builder#tasks}); the lease makes no thread.
 */
final class Lease implements AutoCloseable {

  private final InstancePool pool;
  private final Instance instance;
  private final java.util.concurrent.Executor giveBacks;
  private boolean closed;

  Lease(InstancePool pool, Instance instance, java.util.concurrent.Executor giveBacks) {
    this.pool = pool;
    this.giveBacks = giveBacks;
    this.instance = instance;
  }

  Instance instance() {
    return instance;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      java.util.concurrent.CompletableFuture<Void> settled = instance.settled();
      if (settled.isDone()) {
        pool.giveBack(instance);
      } else {
        // not on the thread that completes it: that is an extension's own call for its next
        // event, which giving back may need to answer (SHUTDOWN for a retired instance)
        pool.settling(instance, settled.thenRunAsync(() -> pool.giveBack(instance), giveBacks));
      }
    }
  }
}
