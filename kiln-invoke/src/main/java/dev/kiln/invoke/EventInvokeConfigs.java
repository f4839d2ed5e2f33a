package dev.kiln.invoke;

import dev.kiln.model.EventInvokeConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.MetadataStore;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/**
 * How asynchronous invocations of a function are delivered: its {@code FunctionEventInvokeConfig}s
 * (Put, Update, Get, Delete, List), one per qualifier, and what the {@link AsyncDispatcher} reads
 * from them when it runs an event: the retries and the maximum age that apply, where the outcome
 * goes ({@code OnSuccess}, {@code OnFailure}) and the version's dead-letter target.
 *
 * <p>A qualifier without a stored configuration gets the defaults (two retries, six hours). A
 * destination must be a function of this Kiln, named by ARN, and exist when it is set. The
 * dispatcher reads the configuration afresh for every event, so nothing is cached and nothing
 * reports to the change feed. Store changes are made under the catalog's shared {@code writeLock};
 * reads take no lock.
 */
public final class EventInvokeConfigs {

  private final MetadataStore store;
  private final References references;
  private final InstantSource clock;
  private final Object writeLock;

  /**
   * @param writeLock held around every change to the stores, by every part of the catalog
   */
  EventInvokeConfigs(
      MetadataStore store, References references, InstantSource clock, Object writeLock) {
    this.store = store;
    this.references = references;
    this.clock = clock;
    this.writeLock = writeLock;
  }

  /**
   * Put ({@code replace}) or Update FunctionEventInvokeConfig: Put sets what is given and resets
   * the rest to the defaults, Update changes only what is given.
   */
  public EventInvokeConfig put(
      FunctionRef ref,
      Optional<Integer> retries,
      Optional<Integer> maxAge,
      Optional<Optional<String>> onSuccess,
      Optional<Optional<String>> onFailure,
      boolean replace) {
    String qualifier = ref.qualifierOrLatest();
    references.requireQualifierExists(ref);
    EventInvokeConfig base =
        replace
            ? EventInvokeConfig.defaults(ref.name(), qualifier)
            : store
                .eventInvokeConfig(ref.name(), qualifier)
                .orElseThrow(() -> noEventInvokeConfig(ref));
    Optional<String> success = onSuccess.orElse(base.onSuccess());
    Optional<String> failure = onFailure.orElse(base.onFailure());
    success.ifPresent(references::checkDestination);
    failure.ifPresent(references::checkDestination);
    EventInvokeConfig config =
        new EventInvokeConfig(
            ref.name(),
            qualifier,
            retries.orElse(base.maxRetryAttempts()),
            maxAge.orElse(base.maxEventAgeSeconds()),
            success,
            failure,
            clock.instant());
    synchronized (writeLock) {
      store.putEventInvokeConfig(config);
    }
    return config;
  }

  /** GetFunctionEventInvokeConfig. */
  public EventInvokeConfig get(FunctionRef ref) {
    references.requireExists(ref);
    return store
        .eventInvokeConfig(ref.name(), ref.qualifierOrLatest())
        .orElseThrow(() -> noEventInvokeConfig(ref));
  }

  /** DeleteFunctionEventInvokeConfig. */
  public void delete(FunctionRef ref) {
    references.requireExists(ref);
    synchronized (writeLock) {
      if (!store.deleteEventInvokeConfig(ref.name(), ref.qualifierOrLatest())) {
        throw noEventInvokeConfig(ref);
      }
    }
  }

  /** ListFunctionEventInvokeConfigs. */
  public List<EventInvokeConfig> list(FunctionRef ref) {
    references.requireExists(ref);
    return store.eventInvokeConfigs(ref.name());
  }

  /** What applies to events of {@code function} invoked as {@code qualifier}. */
  public EventInvokeConfig effective(String function, String qualifier) {
    if (!store.exists(function)) {
      throw LambdaError.functionNotFound(references.account().functionArn(function));
    }
    return store
        .eventInvokeConfig(function, qualifier)
        .orElseGet(() -> EventInvokeConfig.defaults(function, qualifier));
  }

  /**
   * The dead-letter function of the version an event was sent to, from its {@code
   * DeadLetterConfig}; none when the function or version is gone.
   */
  public Optional<String> deadLetterTarget(String function, String qualifier) {
    try {
      return references
          .config(new FunctionRef(function, Optional.of(qualifier)))
          .deadLetterTarget();
    } catch (LambdaError gone) {
      return Optional.empty();
    }
  }

  private LambdaError noEventInvokeConfig(FunctionRef ref) {
    return LambdaError.notFound(
        "The function "
            + references.account().functionArn(ref.name(), ref.qualifierOrLatest())
            + " doesn't have an EventInvokeConfig");
  }
}
