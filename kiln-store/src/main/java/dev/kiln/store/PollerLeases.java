package dev.kiln.store;

/**
 * Which node runs an event source mapping's pollers. On one node that node runs them all; a
 * cluster's implementation (over its shared database) gives each mapping to exactly one live node
 * at a time, as a lease that node renews at every reconciliation and that another node takes over
 * once it has lapsed, so that a dead node's mappings move by themselves.
 *
 * <p>The positions the pollers read from are not here: they live in the sources (Kafka's committed
 * offsets, SQS's undeleted messages, a replication slot's confirmed position), so the node that
 * takes a mapping over goes on from where the last one checkpointed.
 */
public interface PollerLeases {

  /** Claims or renews the mapping for this node; whether this node is to run it now. */
  boolean hold(String mappingUuid);

  /** This node stops running the mapping (disabled, deleted, or the node is shutting down). */
  void release(String mappingUuid);

  /** A single node's: it holds every mapping. */
  static PollerLeases singleNode() {
    return new PollerLeases() {
      @Override
      public boolean hold(String mappingUuid) {
        return true;
      }

      @Override
      public void release(String mappingUuid) {}
    };
  }
}
