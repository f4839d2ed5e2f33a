package dev.kiln.invoke;

import static dev.kiln.invoke.CatalogFixture.assertError;
import static dev.kiln.invoke.CatalogFixture.ref;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.FunctionRef;
import dev.kiln.model.ProvisionedConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reserved concurrency's bookkeeping in the store and the budget, and the checks on provisioned
 * concurrency that come before any instance is started (the tests start none).
 */
class ConcurrencyTest {

  @TempDir Path dir;
  CatalogFixture kiln;
  Concurrency concurrency;

  @BeforeEach
  void open() {
    kiln = new CatalogFixture(dir);
    concurrency = kiln.catalog.concurrency();
  }

  @AfterEach
  void close() {
    kiln.close();
  }

  @Test
  void aReservation_isStoredAndTakenFromTheUnreservedPool_untilItIsDeleted() {
    kiln.create("f", false);
    ConcurrencyBudget budget = kiln.invoker.budget();
    int unreserved = budget.unreserved();

    assertThat(concurrency.reserve(FunctionRef.of("f"), 150)).isEqualTo(150);
    assertThat(concurrency.reserved(FunctionRef.of("f"))).contains(150);
    assertThat(kiln.sqlite.reservedConcurrency()).isEqualTo(Map.of("f", 150));
    assertThat(budget.unreserved()).isEqualTo(unreserved - 150);

    concurrency.reserve(FunctionRef.of("f"), 50);
    assertThat(budget.unreserved())
        .as("a new reservation replaces the old")
        .isEqualTo(unreserved - 50);

    concurrency.unreserve(FunctionRef.of("f"));
    assertThat(concurrency.reserved(FunctionRef.of("f"))).isEmpty();
    assertThat(kiln.sqlite.reservedConcurrency()).isEmpty();
    assertThat(budget.unreserved()).isEqualTo(unreserved);
  }

  @Test
  void aReservation_mayNotLeaveTheAccountLessThanItsMinimumUnreserved() {
    kiln.create("f", false);
    kiln.create("g", false);
    concurrency.reserve(FunctionRef.of("f"), 800);
    assertError(
        () -> concurrency.reserve(FunctionRef.of("g"), 101),
        "InvalidParameterValueException",
        400,
        "Specified ReservedConcurrentExecutions for function decreases account's"
            + " UnreservedConcurrentExecution below its minimum value of [100].");
    assertThat(concurrency.reserved(FunctionRef.of("g"))).isEmpty();
    assertThat(kiln.sqlite.reservedConcurrency()).doesNotContainKey("g");
    assertThat(concurrency.reserve(FunctionRef.of("g"), 100)).isEqualTo(100);
  }

  @Test
  void aReservation_isCheckedBeforeItIsStored() {
    kiln.create("f", true);
    assertError(
        () -> concurrency.reserve(FunctionRef.of("f"), -1),
        "ValidationException",
        400,
        "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to"
            + " satisfy constraint: Member must have value greater than or equal to 0");
    assertError(
        () -> concurrency.reserve(ref("f", "1"), 5),
        "InvalidParameterValueException",
        400,
        "Only the $LATEST version can be updated; a published version is immutable (got"
            + " qualifier 1)");
    assertError(
        () -> concurrency.reserve(FunctionRef.of("nope"), 5),
        "ResourceNotFoundException",
        404,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope");
    assertThat(kiln.sqlite.reservedConcurrency()).isEmpty();
  }

  @Test
  void provisioning_needsAPublishedQualifierAndAtLeastOneInstance() {
    kiln.create("f", true);
    assertError(
        () -> concurrency.provision(FunctionRef.of("f"), 1),
        "ValidationException",
        400,
        "1 validation error detected: Value 'null' at 'qualifier' failed to satisfy constraint:"
            + " Member must not be null");
    assertError(
        () -> concurrency.provision(ref("f", FunctionRef.LATEST), 1),
        "InvalidParameterValueException",
        400,
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
    assertError(
        () -> concurrency.provision(ref("f", "1"), 0),
        "ValidationException",
        400,
        "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to"
            + " satisfy constraint: Member must have value greater than or equal to 1");
    assertError(
        () -> concurrency.provisioned(ref("f", "1")),
        "ProvisionedConcurrencyConfigNotFoundException",
        404,
        "No Provisioned Concurrency Config found for this function");
  }

  @Test
  void provisioning_staysWithinTheFunctionsReservation_countingItsOtherQualifiers() {
    kiln.create("f", true);
    kiln.publishNewCode("f", "def handler(e, c):\n    return 2\n");
    concurrency.reserve(FunctionRef.of("f"), 10);
    kiln.sqlite.putProvisioned(new ProvisionedConfig("f", "1", 6, Instant.EPOCH));
    assertError(
        () -> concurrency.provision(ref("f", "2"), 5),
        "InvalidParameterValueException",
        400,
        "Requested Provisioned Concurrency should not be greater than the"
            + " reservedConcurrentExecution for function");
    assertThat(kiln.sqlite.provisioned("f", "2")).isEqualTo(Optional.empty());
  }
}
