package dev.kiln.invoke;

import dev.kiln.model.Account;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import java.time.InstantSource;

/**
 * The functions Kiln knows, and the one way to change them: the control plane's parts, one per part
 * of the Lambda API, built together by {@link #of} because they share two things.
 *
 * <ul>
 *   <li>{@link Functions}: functions and versions, and {@link Functions#resolve}, the cached
 *       resolution the invocation path runs from;
 *   <li>{@link Aliases}; {@link Concurrency} (reserved and provisioned); {@link EventInvokeConfigs}
 *       (how asynchronous invocations are delivered); {@link FunctionPolicies} (resource-based
 *       policies); {@link FunctionTags}; {@link LayerCatalog}, the layers; and {@link
 *       FunctionUrls}, the function URLs and the look-up of a URL id.
 * </ul>
 *
 * <p>What they share: one {@link ChangeFeed}, which every part that changes something a resolution
 * or an instance depends on tells {@code changed(function)} after the store's commit, so that a
 * change to one function sends only that function's next resolve back to the store; and one write
 * lock, held around every change to the stores, so that deleting unused code never races a function
 * or layer version starting to name it. Every change goes to the durable stores first and only then
 * to memory.
 *
 * @param account the account every ARN names
 */
public record Catalog(
    Account account,
    Functions functions,
    Aliases aliases,
    Concurrency concurrency,
    EventInvokeConfigs eventInvokeConfigs,
    FunctionPolicies policies,
    FunctionTags tags,
    LayerCatalog layers,
    FunctionUrls urls) {

  /**
   * The catalog over its stores with the function URLs a Kiln on its default port (9000) on this
   * host would hand out; for tests and benchmarks that serve no URLs.
   */
  public static Catalog of(
      MetadataStore store,
      CodeStore code,
      RuntimeTable runtimes,
      Invoker invoker,
      Account account,
      InstantSource clock) {
    return of(
        store,
        code,
        runtimes,
        invoker,
        account,
        clock,
        FunctionUrlAddress.localhost("http", account.region(), () -> 9000));
  }

  /**
   * The catalog of a running Kiln, over its stores, telling {@code invoker} what changed.
   *
   * @param urlAddress makes the {@code FunctionUrl} of a function URL from its URL id
   */
  public static Catalog of(
      MetadataStore store,
      CodeStore code,
      RuntimeTable runtimes,
      Invoker invoker,
      Account account,
      InstantSource clock,
      FunctionUrlAddress urlAddress) {
    // every part sees a store's refusals as the Lambda API's errors, worded in one place
    store = StorageOutcomes.mapped(store);
    code = StorageOutcomes.mapped(code);
    ChangeFeed changes = new ChangeFeed();
    Object writeLock = new Object();
    References references = new References(store, account);
    Functions functions =
        new Functions(store, code, runtimes, invoker, references, clock, writeLock, changes);
    Concurrency concurrency =
        new Concurrency(store, invoker, references, functions, clock, writeLock);
    return new Catalog(
        account,
        functions,
        new Aliases(store, invoker, references, functions, concurrency, writeLock, changes),
        concurrency,
        new EventInvokeConfigs(store, references, clock, writeLock),
        new FunctionPolicies(store, references, writeLock),
        new FunctionTags(store, invoker, references, writeLock, changes),
        functions.layers(),
        new FunctionUrls(store, references, urlAddress, clock, writeLock, changes));
  }
}
