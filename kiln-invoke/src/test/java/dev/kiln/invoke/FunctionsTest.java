package dev.kiln.invoke;

import static dev.kiln.invoke.CatalogFixture.assertError;
import static dev.kiln.invoke.CatalogFixture.description;
import static dev.kiln.invoke.CatalogFixture.ref;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Functions and versions over a real store: what the control plane's callers see. */
class FunctionsTest {

  static final String STALE_FUNCTION_REVISION =
      "The Revision Id provided does not match the latest Revision Id. Call the"
          + " GetFunction/GetAlias API to retrieve the latest Revision Id";

  @TempDir Path dir;
  CatalogFixture kiln;
  Functions functions;

  @BeforeEach
  void open() {
    kiln = new CatalogFixture(dir);
    functions = kiln.functions();
  }

  @AfterEach
  void close() {
    kiln.close();
  }

  @Test
  void create_storesLatest_andASecondCreateOfTheNameIsAConflict() {
    FunctionConfig created = kiln.create("f", false);
    assertThat(created.version()).isEqualTo(FunctionRef.LATEST);
    assertThat(functions.get(FunctionRef.of("f"))).isEqualTo(created);
    assertError(
        () -> kiln.create("f", false),
        "ResourceConflictException",
        409,
        "Function already exist: f");
  }

  @Test
  void publish_snapshotsLatest_andPublishingAgainWithNothingChangedReturnsTheSameVersion() {
    kiln.create("f", true);
    assertThat(functions.get(ref("f", "1")).version()).isEqualTo("1");
    FunctionConfig again =
        functions.publish(
            FunctionRef.of("f"), Optional.empty(), Optional.empty(), Optional.empty());
    assertThat(again.version()).isEqualTo("1");

    kiln.publishNewCode("f", "def handler(e, c):\n    return 2\n");
    assertThat(functions.versions(FunctionRef.of("f")))
        .extracting(FunctionConfig::version)
        .containsExactly("$LATEST", "1", "2");
  }

  @Test
  void publish_withACodeSha256OtherThanLatests_isRefused() {
    FunctionConfig latest = kiln.create("f", false);
    assertError(
        () ->
            functions.publish(
                FunctionRef.of("f"), Optional.of("abc"), Optional.empty(), Optional.empty()),
        "InvalidParameterValueException",
        400,
        "CodeSHA256 (abc) is different from current CodeSHA256 in $LATEST ("
            + latest.codeSha256()
            + "). Please try again with the CodeSHA256 in $LATEST.");
  }

  @Test
  void update_givenAnOldRevisionId_isAPreconditionFailure() {
    FunctionConfig first = kiln.create("f", false);
    functions.updateConfiguration(FunctionRef.of("f"), description("one"), Optional.empty());
    assertError(
        () ->
            functions.updateConfiguration(
                FunctionRef.of("f"), description("two"), Optional.of(first.revisionId())),
        "PreconditionFailedException",
        412,
        STALE_FUNCTION_REVISION);
    assertThat(functions.get(FunctionRef.of("f")).description()).isEqualTo("one");
  }

  @Test
  void update_racingAnotherUpdate_isAPreconditionFailure_andTheOtherUpdateStands() {
    kiln.create("f", false);
    // another caller commits between this update's read and its write
    kiln.before(
        "replaceLatest",
        () -> {
          FunctionConfig current = kiln.sqlite.function("f", FunctionRef.LATEST).orElseThrow();
          kiln.sqlite.replaceLatest(
              description("theirs").applyTo(current, current.lastModified()), current.revisionId());
        });
    assertError(
        () ->
            functions.updateConfiguration(
                FunctionRef.of("f"), description("ours"), Optional.empty()),
        "PreconditionFailedException",
        412,
        STALE_FUNCTION_REVISION);
    assertThat(functions.get(FunctionRef.of("f")).description()).isEqualTo("theirs");
  }

  @Test
  void aPublishedVersionIsImmutable() {
    kiln.create("f", true);
    assertError(
        () -> functions.updateConfiguration(ref("f", "1"), description("x"), Optional.empty()),
        "InvalidParameterValueException",
        400,
        "Only the $LATEST version can be updated; a published version is immutable (got"
            + " qualifier 1)");
  }

  @Test
  void resolve_isServedFromMemory_untilItsOwnFunctionChanges() {
    kiln.create("f", false);
    kiln.create("g", false);
    FunctionVersion f = functions.resolve(FunctionRef.of("f"));
    FunctionVersion g = functions.resolve(FunctionRef.of("g"));
    assertThat(kiln.storeCallsDuring(() -> functions.resolve(FunctionRef.of("f")))).isEmpty();

    functions.updateConfiguration(FunctionRef.of("f"), description("new"), Optional.empty());

    assertThat(
            kiln.storeCallsDuring(
                () -> assertThat(functions.resolve(FunctionRef.of("g"))).isSameAs(g)))
        .as("g did not change: its resolution stays in memory")
        .isEmpty();
    FunctionVersion changed = functions.resolve(FunctionRef.of("f"));
    assertThat(changed.config().description()).isEqualTo("new");
    assertThat(changed.key()).isNotEqualTo(f.key());
  }

  @Test
  void resolve_ofAnUnknownFunctionOrVersion_isNotFound_namingItsArn() {
    kiln.create("f", false);
    assertError(
        () -> functions.resolve(ref("f", "7")),
        "ResourceNotFoundException",
        404,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:7");
    assertError(
        () -> functions.resolve(FunctionRef.of("nope")),
        "ResourceNotFoundException",
        404,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope");
  }

  @Test
  void delete_refusesLatestAndVersionsAnAliasNames_andDeletesTheRest() {
    kiln.create("f", true);
    kiln.catalog.aliases().create(FunctionRef.of("f"), "live", "1", "", Map.of());
    assertError(
        () -> functions.delete(ref("f", FunctionRef.LATEST)),
        "InvalidParameterValueException",
        400,
        "$LATEST version cannot be deleted without deleting the function.");
    assertError(
        () -> functions.delete(ref("f", "1")),
        "ResourceConflictException",
        409,
        "Unable to delete version because the following aliases reference it: [live]");
    assertError(
        () -> functions.delete(ref("f", "live")),
        "InvalidParameterValueException",
        400,
        "Deletion of aliases is not supported by DeleteFunction; use DeleteAlias to delete alias"
            + " live");

    functions.delete(FunctionRef.of("f"));
    assertThat(kiln.sqlite.exists("f")).isFalse();
    assertError(
        () -> functions.delete(FunctionRef.of("f")),
        "ResourceNotFoundException",
        404,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f");
  }
}
