package dev.kiln.invoke;

import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.model.ProvisionedConfig;
import dev.kiln.store.MetadataStore;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/**
 * A function's concurrency settings: reserved concurrency (Put/Get/DeleteFunctionConcurrency) and
 * provisioned concurrency (Put/Get/Delete/ListProvisionedConcurrencyConfigs).
 *
 * <p>Reserved concurrency sets aside part of the account's limit for one function, and caps it
 * there; the store keeps the setting and the invoker's {@link ConcurrencyBudget} enforces it, and
 * both change together under {@code writeLock}, so that two reservations can never together push
 * the account's unreserved pool below its minimum. Provisioned concurrency keeps a number of a
 * version's instances started ahead of demand: on a version, or on an alias, meaning the version
 * the alias points to (it moves with the alias: see {@link Aliases#update}); within a function's
 * reservation when it has one. The store keeps what was asked for, the version's pool does the
 * work, and {@link ProvisionedView} says how far it has come.
 *
 * <p>Neither changes what a function resolves to, so nothing here reports to the change feed.
 */
public final class Concurrency {

  private final MetadataStore store;
  private final Invoker invoker;
  private final References references;
  private final Functions functions;
  private final InstantSource clock;
  private final Object writeLock;

  /**
   * @param writeLock held around every change to the stores, by every part of the catalog
   */
  Concurrency(
      MetadataStore store,
      Invoker invoker,
      References references,
      Functions functions,
      InstantSource clock,
      Object writeLock) {
    this.store = store;
    this.invoker = invoker;
    this.references = references;
    this.functions = functions;
    this.clock = clock;
    this.writeLock = writeLock;
  }

  // ---- reserved concurrency -----------------------------------------------------------------

  /**
   * PutFunctionConcurrency: reserves {@code count} of the account's concurrency for the function.
   */
  public int reserve(FunctionRef ref, int count) {
    References.requireUnqualified(ref);
    references.requireExists(ref);
    ConcurrencyBudget budget = invoker.budget();
    if (count < 0) {
      throw LambdaError.validation(
          "reservedConcurrentExecutions",
          count,
          "Member must have value greater than or equal to 0");
    }
    synchronized (writeLock) {
      if (budget.unreservedIf(ref.name(), count) < budget.minimumUnreserved()) {
        throw LambdaError.invalidParameter(
            "Specified ReservedConcurrentExecutions for function decreases account's"
                + " UnreservedConcurrentExecution below its minimum value of ["
                + budget.minimumUnreserved()
                + "].");
      }
      store.putReservedConcurrency(ref.name(), count);
      budget.reserve(ref.name(), count);
    }
    return count;
  }

  /** GetFunctionConcurrency: the function's reserved concurrency, if it has any. */
  public Optional<Integer> reserved(FunctionRef ref) {
    references.requireExists(ref);
    return Optional.ofNullable(invoker.budget().reservations().get(ref.name()));
  }

  /** DeleteFunctionConcurrency: the function shares the unreserved pool again. */
  public void unreserve(FunctionRef ref) {
    References.requireUnqualified(ref);
    references.requireExists(ref);
    synchronized (writeLock) {
      store.deleteReservedConcurrency(ref.name());
      invoker.budget().unreserve(ref.name());
    }
  }

  // ---- provisioned concurrency --------------------------------------------------------------

  /** A provisioned-concurrency configuration and how far Kiln has come with it. */
  public record ProvisionedView(ProvisionedConfig config, int ready, Optional<String> failure) {

    /** {@code READY} when all requested instances are initialised, as AWS's status enum says. */
    public String status() {
      if (failure.isPresent()) {
        return "FAILED";
      }
      return ready >= config.requested() ? "READY" : "IN_PROGRESS";
    }
  }

  /** PutProvisionedConcurrencyConfig on a version or an alias. */
  public ProvisionedView provision(FunctionRef ref, int count) {
    String qualifier = provisionableQualifier(ref);
    if (count < 1) {
      throw LambdaError.validation(
          "provisionedConcurrentExecutions",
          count,
          "Member must have value greater than or equal to 1");
    }
    FunctionVersion target = provisionedVersion(ref.name(), qualifier);
    Integer reserved = invoker.budget().reservations().get(ref.name());
    if (reserved != null) {
      int others =
          store.provisionedConfigs(Optional.of(ref.name())).stream()
              .filter(c -> !c.qualifier().equals(qualifier))
              .mapToInt(ProvisionedConfig::requested)
              .sum();
      if (others + count > reserved) {
        throw LambdaError.invalidParameter(
            "Requested Provisioned Concurrency should not be greater than the"
                + " reservedConcurrentExecution for function");
      }
    }
    ProvisionedConfig config = new ProvisionedConfig(ref.name(), qualifier, count, clock.instant());
    synchronized (writeLock) {
      store.putProvisioned(config);
    }
    invoker.provision(target, count);
    return view(config);
  }

  /** GetProvisionedConcurrencyConfig. */
  public ProvisionedView provisioned(FunctionRef ref) {
    String qualifier = provisionableQualifier(ref);
    return store
        .provisioned(ref.name(), qualifier)
        .map(this::view)
        .orElseThrow(
            () ->
                new LambdaError(
                    "ProvisionedConcurrencyConfigNotFoundException",
                    404,
                    "No Provisioned Concurrency Config found for this function"));
  }

  /** DeleteProvisionedConcurrencyConfig. */
  public void deprovision(FunctionRef ref) {
    String qualifier = provisionableQualifier(ref);
    FunctionVersion target = provisionedVersion(ref.name(), qualifier);
    synchronized (writeLock) {
      store.deleteProvisioned(ref.name(), qualifier);
    }
    invoker.provision(target, 0);
  }

  /** ListProvisionedConcurrencyConfigs. */
  public List<ProvisionedView> provisionedConfigs(FunctionRef ref) {
    references.requireExists(ref);
    return store.provisionedConfigs(Optional.of(ref.name())).stream().map(this::view).toList();
  }

  /** Starts provisioning what the store holds: at start-up, after a restart. */
  public void restoreProvisioning() {
    for (ProvisionedConfig c : store.provisionedConfigs(Optional.empty())) {
      try {
        invoker.provision(provisionedVersion(c.functionName(), c.qualifier()), c.requested());
      } catch (LambdaError e) {
        // the version or alias went away with an earlier Kiln; nothing to provision
      }
    }
  }

  private ProvisionedView view(ProvisionedConfig config) {
    Invoker.Provisioning p =
        invoker.provisioning(provisionedVersion(config.functionName(), config.qualifier()));
    return new ProvisionedView(config, p.ready(), p.failure());
  }

  private FunctionVersion provisionedVersion(String function, String qualifier) {
    String version =
        References.isAliasName(qualifier)
            ? references.alias(function, qualifier).functionVersion()
            : qualifier;
    return functions.resolve(new FunctionRef(function, Optional.of(version)));
  }

  private String provisionableQualifier(FunctionRef ref) {
    references.requireExists(ref);
    String qualifier =
        ref.qualifier()
            .orElseThrow(
                () -> LambdaError.validation("qualifier", "null", "Member must not be null"));
    if (qualifier.equals(FunctionRef.LATEST)) {
      throw LambdaError.invalidParameter(
          "Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
    }
    return qualifier;
  }
}
