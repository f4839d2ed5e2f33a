package dev.kiln.invoke;

import dev.kiln.model.AliasConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.MetadataStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A function's aliases: names that point to one of its published versions (or {@code $LATEST}),
 * optionally sending a share of invocations to a second version ({@code RoutingConfig}).
 *
 * <p>An alias is a stored record with a revision id: UpdateAlias given a {@code RevisionId} changes
 * it only if it is still that revision, and otherwise fails with {@code
 * PreconditionFailedException}. Every alias that names a version must name one that exists, and a
 * version an alias names cannot be deleted ({@link Functions#delete}). Which version an invocation
 * through an alias runs is decided in {@link Functions#resolve}, which caches the alias: every
 * change here reports {@code changed(function)} to the change feed after the store's commit, which
 * sends only that function's next resolve back to the store. Provisioned concurrency on an alias
 * follows the alias to its new version, and goes with the alias when it is deleted.
 *
 * <p>Store changes are made under the catalog's shared {@code writeLock}; reads take no lock.
 */
public final class Aliases {

  private final MetadataStore store;
  private final Invoker invoker;
  private final References references;
  private final Functions functions;
  private final Concurrency concurrency;
  private final Object writeLock;
  private final ChangeFeed changes;

  /**
   * @param writeLock held around every change to the stores, by every part of the catalog
   * @param changes told of every change to a function's aliases
   */
  Aliases(
      MetadataStore store,
      Invoker invoker,
      References references,
      Functions functions,
      Concurrency concurrency,
      Object writeLock,
      ChangeFeed changes) {
    this.store = store;
    this.invoker = invoker;
    this.references = references;
    this.functions = functions;
    this.concurrency = concurrency;
    this.writeLock = writeLock;
    this.changes = changes;
  }

  /** CreateAlias. */
  public AliasConfig create(
      FunctionRef ref,
      String name,
      String functionVersion,
      String description,
      Map<String, Double> weights) {
    References.requireUnqualified(ref);
    references.requireExists(ref);
    AliasConfig alias = AliasConfig.of(ref.name(), name, functionVersion, description, weights);
    requireVersions(alias);
    synchronized (writeLock) {
      store.createAlias(alias);
    }
    changes.changed(ref.name());
    return alias;
  }

  /** GetAlias. */
  public AliasConfig get(String function, String name) {
    return references.alias(function, name);
  }

  /** UpdateAlias: changes what is given, keeps the rest. */
  public AliasConfig update(
      FunctionRef ref,
      String name,
      Optional<String> functionVersion,
      Optional<String> description,
      Optional<Map<String, Double>> weights,
      Optional<String> revisionId) {
    AliasConfig current = get(ref.name(), name);
    if (revisionId.isPresent() && !revisionId.get().equals(current.revisionId())) {
      throw LambdaError.preconditionFailed(
          "The Revision Id provided does not match the latest Revision Id. Call the GetAlias API"
              + " to retrieve the latest Revision Id");
    }
    AliasConfig next =
        AliasConfig.of(
            ref.name(),
            name,
            functionVersion.orElse(current.functionVersion()),
            description.orElse(current.description()),
            weights.orElse(current.additionalVersionWeights()));
    requireVersions(next);
    synchronized (writeLock) {
      store.replaceAlias(next, current.revisionId());
    }
    changes.changed(ref.name());
    // provisioned concurrency on the alias moves with it to its new version
    store
        .provisioned(ref.name(), name)
        .filter(c -> !current.functionVersion().equals(next.functionVersion()))
        .ifPresent(
            c -> {
              invoker.provision(
                  functions.resolve(
                      new FunctionRef(ref.name(), Optional.of(next.functionVersion()))),
                  c.requested());
              invoker.provision(
                  functions.resolve(
                      new FunctionRef(ref.name(), Optional.of(current.functionVersion()))),
                  0);
            });
    return next;
  }

  /** DeleteAlias, with the provisioned concurrency configured on it. */
  public void delete(FunctionRef ref, String name) {
    AliasConfig.checkName(name);
    if (store.provisioned(ref.name(), name).isPresent()) {
      concurrency.deprovision(new FunctionRef(ref.name(), Optional.of(name)));
    }
    synchronized (writeLock) {
      store.deleteAlias(ref.name(), name);
    }
    changes.changed(ref.name());
  }

  /** ListAliases, optionally only those that route to {@code functionVersion}. */
  public List<AliasConfig> list(FunctionRef ref, Optional<String> functionVersion) {
    references.requireExists(ref);
    return store.aliases(ref.name()).stream()
        .filter(a -> functionVersion.map(v -> a.versions().contains(v)).orElse(true))
        .toList();
  }

  private void requireVersions(AliasConfig alias) {
    for (String v : alias.versions()) {
      if (store.function(alias.functionName(), v).isEmpty()) {
        throw LambdaError.notFound(
            "Function not found: " + references.account().functionArn(alias.functionName(), v));
      }
    }
  }
}
