package dev.kiln.bench.jmh;

import dev.kiln.api.auth.AccessControl;
import dev.kiln.api.auth.AccessKeys;
import dev.kiln.api.auth.ApiOperations;
import dev.kiln.api.auth.Caller;
import dev.kiln.api.auth.IdentityPolicies;
import dev.kiln.api.auth.RequestConditions;
import dev.kiln.api.auth.SessionKeys;
import dev.kiln.model.Account;
import dev.kiln.store.IamStore;
import dev.kiln.testing.InMemoryIamStore;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the policy check costs an Invoke request at the gate: finding the operation in the action
 * table, gathering its condition keys and evaluating the caller's policies ({@link AccessControl}),
 * for an {@code invoke} key (Kiln's KilnInvokeAccess), an {@code admin} key (AdministratorAccess)
 * and a function's session whose role has two inline policies and AWSLambda_ReadOnlyAccess attached
 * (its role's documents cached, as between IAM writes).
 *
 * <p>Baseline: the check before roles had policies: the same table look-up, then a comparison of
 * the key's role with {@code admin} and of the action with the two invoke actions.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class AccessCheckBench {

  static final Account ACCOUNT = Account.DEFAULT;
  static final String PATH = "/2015-03-31/functions/my-function/invocations";
  static final String TRUST =
      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
          + "{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";

  AccessControl access;
  Caller invokeKey;
  Caller adminKey;
  Caller session;
  AccessKeys.Key invoke;

  @Setup
  public void setUp() {
    InMemoryIamStore store = new InMemoryIamStore();
    store.createRole(
        new IamStore.Role(
            "worker", "AROAEXAMPLE0000000001", "/", TRUST, "", 3600, Instant.now(), Map.of()));
    store.putRolePolicy(
        "worker",
        "invoke-some",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
            + "\"lambda:InvokeFunction\",\"Resource\":\"arn:aws:lambda:*:*:function:my-*\"}]}");
    store.putRolePolicy(
        "worker",
        "no-delete",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":"
            + "\"lambda:Delete*\",\"Resource\":\"*\"}]}");
    store.attachRolePolicy("worker", "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess");
    IdentityPolicies identities =
        new IdentityPolicies(store, ACCOUNT, IdentityPolicies.Mode.COMPAT);
    access =
        new AccessControl(
            identities,
            (principal, action, function, qualifier) -> false,
            function -> Map.of(),
            ACCOUNT,
            Clock.systemUTC());
    invoke =
        new AccessKeys.Key(
            "AKIAEXAMPLE000000001", "secret", AccessKeys.Role.INVOKE, Instant.now(), "bench");
    invokeKey = new Caller.User(invoke, ACCOUNT);
    adminKey =
        new Caller.User(
            new AccessKeys.Key(
                "AKIAEXAMPLE000000002", "secret", AccessKeys.Role.ADMIN, Instant.now(), "bench"),
            ACCOUNT);
    session =
        new Caller.AssumedRole(
            new SessionKeys.Session(
                invoke,
                "token",
                Instant.now().plusSeconds(3600),
                ACCOUNT.functionArn("caller"),
                "arn:aws:iam::" + ACCOUNT.accountId() + ":role/worker",
                "AROAEXAMPLE0000000001"),
            ACCOUNT);
    if (check(invokeKey).isPresent() || check(adminKey).isPresent() || check(session).isPresent()) {
      throw new IllegalStateException("every caller here may invoke my-function");
    }
  }

  private Optional<String> check(Caller caller) {
    ApiOperations.Operation op =
        ApiOperations.lambda("POST", PATH, List.of(), new byte[0], ACCOUNT).orElseThrow();
    return access.denial(caller, op, RequestConditions.of(op, List.of(), new byte[0], ACCOUNT));
  }

  @Benchmark
  public boolean baselineRoleCheck() {
    ApiOperations.Operation op =
        ApiOperations.lambda("POST", PATH, List.of(), new byte[0], ACCOUNT).orElseThrow();
    return invoke.role() == AccessKeys.Role.ADMIN
        || op.action().equals("lambda:InvokeFunction")
        || op.action().equals("lambda:InvokeAsync");
  }

  @Benchmark
  public Optional<String> invokeKey() {
    return check(invokeKey);
  }

  @Benchmark
  public Optional<String> adminKey() {
    return check(adminKey);
  }

  @Benchmark
  public Optional<String> functionSession() {
    return check(session);
  }
}
