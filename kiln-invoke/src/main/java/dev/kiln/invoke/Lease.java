package dev.kiln.invoke;

/**
 * One invocation's hold on one instance. Closing it gives the instance back to its pool, which
 * keeps it for the next event if it is still healthy and stops it otherwise.
 */
final class Lease implements AutoCloseable {

  private final InstancePool pool;
  private final Instance instance;
  private final boolean coldStart;
  private boolean closed;

  Lease(InstancePool pool, Instance instance, boolean coldStart) {
    this.pool = pool;
    this.instance = instance;
    this.coldStart = coldStart;
  }

  Instance instance() {
    return instance;
  }

  boolean coldStart() {
    return coldStart;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      pool.giveBack(instance);
    }
  }
}
