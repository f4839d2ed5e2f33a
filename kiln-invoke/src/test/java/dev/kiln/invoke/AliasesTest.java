package dev.kiln.invoke;

import static dev.kiln.invoke.CatalogFixture.assertError;
import static dev.kiln.invoke.CatalogFixture.ref;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.AliasConfig;
import dev.kiln.model.FunctionRef;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Aliases over a real store, and what a change to one does to the resolutions cached for
 * invocations.
 */
class AliasesTest {

  @TempDir Path dir;
  CatalogFixture kiln;
  Aliases aliases;
  Functions functions;

  @BeforeEach
  void open() {
    kiln = new CatalogFixture(dir);
    aliases = kiln.catalog.aliases();
    functions = kiln.functions();
  }

  @AfterEach
  void close() {
    kiln.close();
  }

  @Test
  void createGetUpdateList_roundTrip() {
    kiln.create("f", true);
    kiln.publishNewCode("f", "def handler(e, c):\n    return 2\n");
    AliasConfig created = aliases.create(FunctionRef.of("f"), "live", "1", "first", Map.of());
    assertThat(aliases.get("f", "live")).isEqualTo(created);

    AliasConfig updated =
        aliases.update(
            FunctionRef.of("f"),
            "live",
            Optional.of("2"),
            Optional.empty(),
            Optional.of(Map.of("1", 0.25)),
            Optional.of(created.revisionId()));
    assertThat(updated.functionVersion()).isEqualTo("2");
    assertThat(updated.description()).as("kept: not given").isEqualTo("first");
    assertThat(updated.additionalVersionWeights()).isEqualTo(Map.of("1", 0.25));
    assertThat(aliases.list(FunctionRef.of("f"), Optional.of("1")))
        .extracting(AliasConfig::name)
        .containsExactly("live");

    aliases.delete(FunctionRef.of("f"), "live");
    assertError(
        () -> aliases.get("f", "live"),
        "ResourceNotFoundException",
        404,
        "Alias not found: arn:aws:lambda:us-east-1:000000000000:function:f:live");
  }

  @Test
  void anAliasMustNameAnExistingVersion() {
    kiln.create("f", true);
    assertError(
        () -> aliases.create(FunctionRef.of("f"), "live", "9", "", Map.of()),
        "ResourceNotFoundException",
        404,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:9");
  }

  @Test
  void update_givenAnOldRevisionId_isAPreconditionFailure() {
    kiln.create("f", true);
    AliasConfig first = aliases.create(FunctionRef.of("f"), "live", "1", "", Map.of());
    aliases.update(
        FunctionRef.of("f"),
        "live",
        Optional.empty(),
        Optional.of("moved on"),
        Optional.empty(),
        Optional.empty());
    assertError(
        () ->
            aliases.update(
                FunctionRef.of("f"),
                "live",
                Optional.empty(),
                Optional.of("late"),
                Optional.empty(),
                Optional.of(first.revisionId())),
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the GetAlias API"
            + " to retrieve the latest Revision Id");
  }

  @Test
  void update_racingAnotherUpdate_isAPreconditionFailure() {
    kiln.create("f", true);
    aliases.create(FunctionRef.of("f"), "live", "1", "", Map.of());
    kiln.before(
        "replaceAlias",
        () -> {
          AliasConfig current = kiln.sqlite.alias("f", "live").orElseThrow();
          kiln.sqlite.replaceAlias(
              AliasConfig.of("f", "live", "1", "theirs", Map.of()), current.revisionId());
        });
    assertError(
        () ->
            aliases.update(
                FunctionRef.of("f"),
                "live",
                Optional.empty(),
                Optional.of("ours"),
                Optional.empty(),
                Optional.empty()),
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the"
            + " GetAlias API to retrieve the latest Revision Id");
    assertThat(aliases.get("f", "live").description()).isEqualTo("theirs");
  }

  @Test
  void movingAnAlias_sendsOnlyItsOwnFunctionsNextResolveBackToTheStore() {
    for (String name : new String[] {"f", "g"}) {
      kiln.create(name, true);
      kiln.publishNewCode(name, "def handler(e, c):\n    return 2\n");
      aliases.create(FunctionRef.of(name), "live", "1", "", Map.of());
    }
    assertThat(functions.resolve(ref("f", "live")).version()).isEqualTo("1");
    FunctionVersion g = functions.resolve(ref("g", "live"));

    aliases.update(
        FunctionRef.of("f"),
        "live",
        Optional.of("2"),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());

    assertThat(functions.resolve(ref("f", "live")).version())
        .as("f's alias moved: its next invocation runs the new version")
        .isEqualTo("2");
    assertThat(
            kiln.storeCallsDuring(
                () -> assertThat(functions.resolve(ref("g", "live"))).isSameAs(g)))
        .as("g did not change: its alias and version stay in memory")
        .isEmpty();
  }

  @Test
  void deletingAnAlias_makesItUnresolvable_atOnce() {
    kiln.create("f", true);
    aliases.create(FunctionRef.of("f"), "live", "1", "", Map.of());
    functions.resolve(ref("f", "live"));
    aliases.delete(FunctionRef.of("f"), "live");
    assertError(
        () -> functions.resolve(ref("f", "live")),
        "ResourceNotFoundException",
        404,
        "Alias not found: arn:aws:lambda:us-east-1:000000000000:function:f:live");
  }
}
