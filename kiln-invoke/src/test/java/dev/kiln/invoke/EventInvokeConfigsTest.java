package dev.kiln.invoke;

import static dev.kiln.invoke.CatalogFixture.assertError;
import static dev.kiln.invoke.CatalogFixture.ref;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.EventInvokeConfig;
import dev.kiln.model.FunctionRef;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Put, Update, Get, Delete and List FunctionEventInvokeConfig, and what the dispatcher reads. */
class EventInvokeConfigsTest {

  static final String G_ARN = "arn:aws:lambda:us-east-1:000000000000:function:g";

  @TempDir Path dir;
  CatalogFixture kiln;
  EventInvokeConfigs configs;

  @BeforeEach
  void open() {
    kiln = new CatalogFixture(dir);
    configs = kiln.catalog.eventInvokeConfigs();
    kiln.create("f", true);
  }

  @AfterEach
  void close() {
    kiln.close();
  }

  EventInvokeConfig put(
      FunctionRef ref,
      Optional<Integer> retries,
      Optional<Integer> maxAge,
      Optional<Optional<String>> onFailure,
      boolean replace) {
    return configs.put(ref, retries, maxAge, Optional.empty(), onFailure, replace);
  }

  @Test
  void putSetsWhatIsGivenAndResetsTheRest_updateChangesOnlyWhatIsGiven() {
    kiln.create("g", false);
    put(
        FunctionRef.of("f"),
        Optional.of(1),
        Optional.of(100),
        Optional.of(Optional.of(G_ARN)),
        true);

    EventInvokeConfig updated =
        put(FunctionRef.of("f"), Optional.empty(), Optional.of(200), Optional.empty(), false);
    assertThat(updated.maxRetryAttempts()).isEqualTo(1);
    assertThat(updated.maxEventAgeSeconds()).isEqualTo(200);
    assertThat(updated.onFailure()).contains(G_ARN);
    assertThat(configs.get(FunctionRef.of("f"))).isEqualTo(updated);

    EventInvokeConfig replaced =
        put(FunctionRef.of("f"), Optional.empty(), Optional.of(300), Optional.empty(), true);
    assertThat(replaced.maxRetryAttempts()).isEqualTo(EventInvokeConfig.DEFAULT_RETRIES);
    assertThat(replaced.onFailure()).isEmpty();
    assertThat(configs.effective("f", FunctionRef.LATEST)).isEqualTo(replaced);
  }

  @Test
  void outOfRangeValues_areRefusedAsTheServiceModelWordsIt() {
    assertError(
        () -> put(FunctionRef.of("f"), Optional.of(3), Optional.empty(), Optional.empty(), true),
        "ValidationException",
        400,
        "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy"
            + " constraint: Member must have value less than or equal to 2");
    assertError(
        () -> put(FunctionRef.of("f"), Optional.empty(), Optional.of(59), Optional.empty(), true),
        "ValidationException",
        400,
        "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy"
            + " constraint: Member must have value greater than or equal to 60");
    assertThat(kiln.sqlite.eventInvokeConfigs("f")).isEmpty();
  }

  @Test
  void aDestination_isAFunctionOfThisKiln_namedByArn() {
    assertError(
        () ->
            put(
                FunctionRef.of("f"),
                Optional.empty(),
                Optional.empty(),
                Optional.of(Optional.of("arn:aws:sqs:us-east-1:000000000000:q")),
                true),
        "InvalidParameterValueException",
        400,
        "The destination ARN arn:aws:sqs:us-east-1:000000000000:q is invalid: Kiln delivers to"
            + " Lambda functions only, named by their ARN"
            + " (arn:aws:lambda:<region>:<account>:function:<name>)");
    assertError(
        () ->
            put(
                FunctionRef.of("f"),
                Optional.empty(),
                Optional.empty(),
                Optional.of(Optional.of(G_ARN)),
                true),
        "InvalidParameterValueException",
        400,
        "The destination function " + G_ARN + " does not exist in this Kiln");
  }

  @Test
  void aQualifierWithoutAConfig_getsNotFound_butTheDispatcherGetsTheDefaults() {
    String missing =
        "The function arn:aws:lambda:us-east-1:000000000000:function:f:1 doesn't have an"
            + " EventInvokeConfig";
    assertError(() -> configs.get(ref("f", "1")), "ResourceNotFoundException", 404, missing);
    assertError(
        () -> put(ref("f", "1"), Optional.empty(), Optional.of(60), Optional.empty(), false),
        "ResourceNotFoundException",
        404,
        missing);
    assertThat(configs.effective("f", "1")).isEqualTo(EventInvokeConfig.defaults("f", "1"));

    put(ref("f", "1"), Optional.of(0), Optional.empty(), Optional.empty(), true);
    assertThat(configs.list(FunctionRef.of("f")))
        .extracting(EventInvokeConfig::qualifier)
        .containsExactly("1");
    configs.delete(ref("f", "1"));
    assertError(() -> configs.delete(ref("f", "1")), "ResourceNotFoundException", 404, missing);
  }

  @Test
  void aConfigOnAnAliasThatDoesNotExist_isRefused() {
    assertError(
        () -> put(ref("f", "live"), Optional.of(0), Optional.empty(), Optional.empty(), true),
        "ResourceNotFoundException",
        404,
        "Alias not found: arn:aws:lambda:us-east-1:000000000000:function:f:live");
  }
}
