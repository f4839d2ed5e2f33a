package dev.kiln.invoke;

import dev.kiln.model.FunctionRef;
import dev.kiln.store.MetadataStore;
import java.util.Map;
import java.util.Set;

/**
 * A function's tags (TagResource, UntagResource, ListTags): keys and values on the function as a
 * whole, never on one of its versions or aliases.
 *
 * <p>Tags are labels, with one exception that changes how a function runs: {@link
 * FunctionVersion#NETWORK_TAG} set to {@code off} cuts its instances off the network beyond the
 * host. A change that touches that tag reports {@code changed(function)} to the change feed, so the
 * function's next resolve reads the tag again, and retires every instance of the function, so the
 * next invocation starts one with the new network; both happen under the catalog's shared {@code
 * writeLock} together with the store's change. Any other tag changes nothing that runs.
 */
public final class FunctionTags {

  private final MetadataStore store;
  private final Invoker invoker;
  private final References references;
  private final Object writeLock;
  private final ChangeFeed changes;

  /**
   * @param writeLock held around every change to the stores, by every part of the catalog
   * @param changes told when a function's network tag changes
   */
  FunctionTags(
      MetadataStore store,
      Invoker invoker,
      References references,
      Object writeLock,
      ChangeFeed changes) {
    this.store = store;
    this.invoker = invoker;
    this.references = references;
    this.writeLock = writeLock;
    this.changes = changes;
  }

  /** ListTags: the function's tags; not found for an unknown function. */
  public Map<String, String> list(FunctionRef ref) {
    references.requireExists(ref);
    return store.tags(ref.name());
  }

  /** TagResource: adds {@code tags}, replacing the values of keys the function already has. */
  public void tag(FunctionRef ref, Map<String, String> tags) {
    synchronized (writeLock) {
      store.tag(ref.name(), tags);
      if (tags.containsKey(FunctionVersion.NETWORK_TAG)) {
        networkChanged(ref.name());
      }
    }
  }

  /** UntagResource: removes the tags with {@code keys}. */
  public void untag(FunctionRef ref, Set<String> keys) {
    synchronized (writeLock) {
      store.untag(ref.name(), keys);
      if (keys.contains(FunctionVersion.NETWORK_TAG)) {
        networkChanged(ref.name());
      }
    }
  }

  /** The network tag changed: new invocations get instances with the new network. */
  private void networkChanged(String name) {
    changes.changed(name);
    invoker.retireAll(name);
  }
}
