package dev.kiln.invoke;

import dev.kiln.model.Account;
import dev.kiln.model.AliasConfig;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.MetadataStore;
import java.util.Optional;

/**
 * What a reference names in the store, for every part of the catalog: whether a function (or the
 * version or alias a qualifier names) exists, the configuration a reference names, an alias, and
 * the AWS errors for the references that name nothing.
 *
 * <p>A qualifier is {@code $LATEST}, a published version's number, or an alias's name ({@link
 * #isAliasName}); an alias names a version, so a reference through an alias reads the alias first,
 * then the version it points to. Everything here is a read: it changes nothing, caches nothing and
 * takes no lock (each read is one store query, which the store keeps consistent on its own). The
 * one cache of what references resolve to, for the invocation path, is {@link Functions#resolve}.
 */
final class References {

  private final MetadataStore store;
  private final Account account;

  References(MetadataStore store, Account account) {
    this.store = store;
    this.account = account;
  }

  Account account() {
    return account;
  }

  /**
   * The configuration a reference names: {@code $LATEST}, a published version number, or an alias
   * (the version it points to).
   */
  FunctionConfig config(FunctionRef ref) {
    String qualifier = ref.qualifierOrLatest();
    if (isAliasName(qualifier)) {
      AliasConfig alias = alias(ref.name(), qualifier);
      return store.function(ref.name(), alias.functionVersion()).orElseThrow(() -> notFound(ref));
    }
    return store.function(ref.name(), qualifier).orElseThrow(() -> notFound(ref));
  }

  /** GetAlias: alias {@code name} of {@code function}. */
  AliasConfig alias(String function, String name) {
    AliasConfig.checkName(name);
    if (!store.exists(function)) {
      throw LambdaError.functionNotFound(account.functionArn(function));
    }
    return store
        .alias(function, name)
        .orElseThrow(
            () -> LambdaError.notFound("Alias not found: " + account.functionArn(function, name)));
  }

  /** Version numbers and {@code $LATEST} are not alias names; anything else is. */
  static boolean isAliasName(String qualifier) {
    return !qualifier.equals(FunctionRef.LATEST) && !qualifier.chars().allMatch(Character::isDigit);
  }

  void requireExists(FunctionRef ref) {
    if (!store.exists(ref.name())) {
      throw notFound(ref);
    }
  }

  /** The function exists, and so does the version or alias its qualifier names. */
  void requireQualifierExists(FunctionRef ref) {
    String qualifier = ref.qualifierOrLatest();
    if (isAliasName(qualifier)) {
      alias(ref.name(), qualifier);
    } else if (store.function(ref.name(), qualifier).isEmpty()) {
      throw notFound(ref);
    }
  }

  static void requireUnqualified(FunctionRef ref) {
    if (ref.qualifier().isPresent() && !ref.qualifier().get().equals(FunctionRef.LATEST)) {
      throw LambdaError.invalidParameter(
          "Only the $LATEST version can be updated; a published version is immutable (got"
              + " qualifier "
              + ref.qualifier().get()
              + ")");
    }
  }

  static void checkRevision(FunctionConfig current, Optional<String> revisionId) {
    if (revisionId.isPresent() && !revisionId.get().equals(current.revisionId())) {
      throw LambdaError.preconditionFailed(
          "The Revision Id provided does not match the latest Revision Id. Call the"
              + " GetFunction/GetAlias API to retrieve the latest Revision Id");
    }
  }

  /** Destinations and dead-letter targets are functions of this Kiln, named by ARN. */
  void checkDestination(String arn) {
    if (!arn.startsWith("arn:") || !arn.contains(":lambda:") || !arn.contains(":function:")) {
      throw LambdaError.invalidParameter(
          "The destination ARN "
              + arn
              + " is invalid: Kiln delivers to Lambda functions only, named by their ARN"
              + " (arn:aws:lambda:<region>:<account>:function:<name>)");
    }
    FunctionRef to = FunctionRef.parse(arn, "destination", account);
    if (!store.exists(to.name())) {
      throw LambdaError.invalidParameter(
          "The destination function " + arn + " does not exist in this Kiln");
    }
  }

  LambdaError notFound(FunctionRef ref) {
    return LambdaError.functionNotFound(
        ref.qualifier().isPresent()
            ? account.functionArn(ref.name(), ref.qualifier().get())
            : account.functionArn(ref.name()));
  }
}
