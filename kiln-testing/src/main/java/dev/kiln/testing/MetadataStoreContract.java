package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.AliasConfig;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.EventInvokeConfig;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionPolicy;
import dev.kiln.model.FunctionUrlConfig;
import dev.kiln.model.LayerPolicy;
import dev.kiln.model.LayerVersion;
import dev.kiln.model.ProvisionedConfig;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.MetadataStore.FunctionPage;
import dev.kiln.store.StorageException;
import dev.kiln.store.StorageException.Entity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link MetadataStore} promises, as tests: extend this class with {@link #newStore}
 * returning an empty store of your implementation, and it is checked method by method, outcomes
 * included (already exists, stale revision, not found, an invalid marker). The SQLite store and the
 * in-memory one run it in kiln-testing's own tests; a PostgreSQL store runs it from its module.
 */
public abstract class MetadataStoreContract {

  protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  protected MetadataStore store;

  /** A new, empty store; closed after each test. */
  protected abstract MetadataStore newStore();

  @BeforeEach
  void openStore() {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  protected static FunctionConfig config(String name) {
    return withCode(
        FunctionConfig.create(
            name,
            new CodeDigest("ab".repeat(32), 10, 20),
            ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r"),
            T0),
        1);
  }

  /** {@code config} with a package of its own, told apart by {@code n}. */
  protected static FunctionConfig withCode(FunctionConfig config, int n) {
    return config.withCode(
        new CodeDigest(String.format("%064x", n), 100 + n, 1000 + n), List.of(), T0);
  }

  private static void assertRefused(
      ThrowingCallable call, Class<? extends StorageException> outcome, Entity entity, String key) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            outcome,
            e -> {
              assertThat(e.entity()).isEqualTo(entity);
              assertThat(e.key()).isEqualTo(key);
            });
  }

  // functions and versions

  @Test
  void createFunction_thenReadsBackTheWholeConfigurationAndTags() {
    FunctionConfig f = config("f");
    store.createFunction(f, Map.of("k", "v"), Optional.empty());
    assertThat(store.function("f", "$LATEST")).hasValue(f);
    assertThat(store.exists("f")).isTrue();
    assertThat(store.tags("f")).containsExactly(Map.entry("k", "v"));
    assertThat(store.function("f", "1")).isEmpty();
    assertThat(store.function("other", "$LATEST")).isEmpty();
    assertThat(store.exists("other")).isFalse();
  }

  @Test
  void createFunction_whenTheNameIsTaken_isAlreadyExistsAndKeepsTheFirst() {
    FunctionConfig first = config("dup");
    store.createFunction(first, Map.of("a", "1"), Optional.empty());
    assertRefused(
        () -> store.createFunction(config("dup"), Map.of("b", "2"), Optional.empty()),
        StorageException.AlreadyExists.class,
        Entity.FUNCTION,
        "dup");
    assertThat(store.function("dup", "$LATEST")).hasValue(first);
    assertThat(store.tags("dup")).containsOnlyKeys("a");
  }

  @Test
  void createFunction_withAPublishedVersion_storesVersion1_andTheNextPublishIs2() {
    FunctionConfig latest = config("p");
    FunctionConfig v1 = latest.asVersion("1");
    store.createFunction(latest, Map.of(), Optional.of(v1));
    assertThat(store.versions("p")).containsExactly(latest, v1);
    store.replaceLatest(withCode(latest, 2), latest.revisionId());
    assertThat(store.publishVersion("p", Optional.empty()).version()).isEqualTo("2");
  }

  @Test
  void replaceLatest_isACompareAndSetOnTheRevision() {
    FunctionConfig f = config("cas");
    store.createFunction(f, Map.of(), Optional.empty());
    FunctionConfig next = withCode(f, 2);
    store.replaceLatest(next, f.revisionId());
    assertThat(store.function("cas", "$LATEST")).hasValue(next);
    assertRefused(
        () -> store.replaceLatest(withCode(f, 3), f.revisionId()),
        StorageException.StaleRevision.class,
        Entity.FUNCTION,
        "cas");
    assertThat(store.function("cas", "$LATEST")).hasValue(next);
  }

  @Test
  void replaceLatest_ofAMissingFunction_isNotFound() {
    FunctionConfig f = config("gone");
    assertRefused(
        () -> store.replaceLatest(f, f.revisionId()),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "gone");
  }

  @Test
  void publishVersion_numbersSnapshots_skipsAnUnchangedOne_andKeepsItsDescription() {
    FunctionConfig f = config("pub");
    store.createFunction(f, Map.of(), Optional.empty());
    FunctionConfig v1 = store.publishVersion("pub", Optional.of("first"));
    assertThat(v1.version()).isEqualTo("1");
    assertThat(v1.description()).isEqualTo("first");
    assertThat(store.publishVersion("pub", Optional.empty()))
        .as("nothing changed: the newest version again")
        .isEqualTo(v1);
    store.replaceLatest(withCode(f, 2), f.revisionId());
    FunctionConfig v2 = store.publishVersion("pub", Optional.empty());
    assertThat(v2.version()).isEqualTo("2");
    assertThat(v2.codeSha256()).isEqualTo(withCode(f, 2).codeSha256());
    assertThat(store.function("pub", "2")).hasValue(v2);
  }

  @Test
  void publishVersion_neverReusesTheNumberOfADeletedVersion() {
    FunctionConfig f = config("renum");
    store.createFunction(f, Map.of(), Optional.empty());
    store.publishVersion("renum", Optional.empty());
    assertThat(store.deleteVersion("renum", "1")).isTrue();
    FunctionConfig latest = store.function("renum", "$LATEST").orElseThrow();
    store.replaceLatest(withCode(latest, 2), latest.revisionId());
    assertThat(store.publishVersion("renum", Optional.empty()).version()).isEqualTo("2");
  }

  @Test
  void publishVersion_ofAMissingFunction_isNotFound() {
    assertRefused(
        () -> store.publishVersion("nope", Optional.empty()),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "nope");
  }

  @Test
  void versions_listLatestFirstThenByNumber() {
    FunctionConfig f = config("v");
    store.createFunction(f, Map.of(), Optional.empty());
    for (int i = 2; i <= 11; i++) {
      FunctionConfig latest = store.function("v", "$LATEST").orElseThrow();
      store.replaceLatest(withCode(latest, i), latest.revisionId());
      store.publishVersion("v", Optional.empty());
    }
    assertThat(store.versions("v"))
        .extracting(FunctionConfig::version)
        .containsExactly("$LATEST", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
    assertThat(store.versions("missing")).isEmpty();
  }

  @Test
  void deleteVersion_removesOnlyThatVersion_andRefusesLatest() {
    store.createFunction(config("d"), Map.of(), Optional.empty());
    store.publishVersion("d", Optional.empty());
    assertThat(store.deleteVersion("d", "1")).isTrue();
    assertThat(store.deleteVersion("d", "1")).isFalse();
    assertThat(store.function("d", "1")).isEmpty();
    assertThat(store.function("d", "$LATEST")).isPresent();
    assertThatThrownBy(() -> store.deleteVersion("d", "$LATEST"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void deleteFunction_removesEverythingThatBelongsToIt() {
    FunctionConfig f = config("gone");
    store.createFunction(f, Map.of("a", "b"), Optional.empty());
    store.publishVersion("gone", Optional.empty());
    store.createAlias(alias("gone", "live", "1"));
    store.putReservedConcurrency("gone", 5);
    store.putProvisioned(new ProvisionedConfig("gone", "live", 2, T0));
    store.putEventInvokeConfig(eventInvokeConfig("gone", "$LATEST", 1));
    store.putFunctionPolicy("gone", "", policy("s1"), Optional.empty());
    FunctionUrlConfig url = functionUrl("gone", Optional.empty());
    store.createFunctionUrlConfig(url);
    store.createFunctionUrlConfig(functionUrl("gone", Optional.of("live")));
    store.createEventSourceMapping(mapping("m-gone", "gone", "arn:aws:sqs:us-east-1:1:q"), "q");

    assertThat(store.deleteFunction("gone")).isTrue();

    assertThat(store.exists("gone")).isFalse();
    assertThat(store.function("gone", "$LATEST")).isEmpty();
    assertThat(store.function("gone", "1")).isEmpty();
    assertThat(store.tags("gone")).isEmpty();
    assertThat(store.aliases("gone")).isEmpty();
    assertThat(store.reservedConcurrency()).doesNotContainKey("gone");
    assertThat(store.provisionedConfigs(Optional.of("gone"))).isEmpty();
    assertThat(store.eventInvokeConfigs("gone")).isEmpty();
    assertThat(store.functionPolicy("gone", "")).isEmpty();
    assertThat(store.functionUrlConfigs("gone")).isEmpty();
    assertThat(store.functionUrlConfigByUrlId(url.urlId())).isEmpty();
    assertThat(store.eventSourceMapping("m-gone")).isEmpty();
    assertThat(store.referencedCode()).isEmpty();
    assertThat(store.usage()).isEqualTo(new MetadataStore.Usage(0, 0));
    assertThat(store.deleteFunction("gone")).isFalse();
  }

  @Test
  void aFunctionCreatedAgainAfterItsDeletion_startsAfresh() {
    store.createFunction(config("again"), Map.of("old", "tag"), Optional.empty());
    store.publishVersion("again", Optional.empty());
    store.deleteFunction("again");
    FunctionConfig fresh = config("again");
    store.createFunction(fresh, Map.of(), Optional.empty());
    assertThat(store.versions("again")).containsExactly(fresh);
    assertThat(store.tags("again")).isEmpty();
    assertThat(store.publishVersion("again", Optional.empty()).version()).isEqualTo("1");
  }

  // paging

  @Test
  void listFunctions_pagesThroughLatestConfigurationsInNameOrder() {
    for (String n : new String[] {"c", "a", "b"}) {
      store.createFunction(config(n), Map.of(), Optional.empty());
      store.publishVersion(n, Optional.empty());
    }
    FunctionPage first = store.listFunctions(Optional.empty(), 2, false);
    assertThat(first.functions())
        .extracting(c -> c.functionName() + ":" + c.version())
        .containsExactly("a:$LATEST", "b:$LATEST");
    assertThat(first.nextMarker()).isPresent();
    FunctionPage second = store.listFunctions(first.nextMarker(), 2, false);
    assertThat(second.functions())
        .extracting(c -> c.functionName() + ":" + c.version())
        .containsExactly("c:$LATEST");
    assertThat(second.nextMarker()).isEmpty();
  }

  @Test
  void listFunctions_refusesAMarkerItNeverIssued() {
    store.createFunction(config("a"), Map.of(), Optional.empty());
    for (String bogus : List.of("no-slash", "a/not-a-number", "")) {
      assertThatThrownBy(() -> store.listFunctions(Optional.of(bogus), 2, false))
          .isInstanceOfSatisfying(
              StorageException.InvalidMarker.class,
              e -> assertThat(e.entity()).isEqualTo(Entity.FUNCTION));
    }
  }

  @Test
  void listFunctions_aPageThatEndsTheList_hasNoMarker() {
    store.createFunction(config("a"), Map.of(), Optional.empty());
    store.createFunction(config("b"), Map.of(), Optional.empty());
    FunctionPage all = store.listFunctions(Optional.empty(), 2, false);
    assertThat(all.functions()).hasSize(2);
    assertThat(all.nextMarker()).isEmpty();
    assertThat(store.listFunctions(Optional.empty(), 50, true).functions()).hasSize(2);
  }

  @Test
  void listFunctions_withAllVersions_pagesLatestThenVersionsByNumber() {
    FunctionConfig f = config("v");
    store.createFunction(f, Map.of(), Optional.empty());
    for (int i = 2; i <= 12; i++) {
      FunctionConfig latest = store.function("v", "$LATEST").orElseThrow();
      store.replaceLatest(withCode(latest, i), latest.revisionId());
      store.publishVersion("v", Optional.empty());
    }
    store.createFunction(config("w"), Map.of(), Optional.empty());
    List<String> seen = new ArrayList<>();
    Optional<String> marker = Optional.empty();
    do {
      FunctionPage page = store.listFunctions(marker, 5, true);
      assertThat(page.functions()).hasSizeLessThanOrEqualTo(5);
      page.functions().forEach(c -> seen.add(c.functionName() + ":" + c.version()));
      marker = page.nextMarker();
    } while (marker.isPresent());
    assertThat(seen)
        .containsExactly(
            "v:$LATEST",
            "v:1",
            "v:2",
            "v:3",
            "v:4",
            "v:5",
            "v:6",
            "v:7",
            "v:8",
            "v:9",
            "v:10",
            "v:11",
            "w:$LATEST");
  }

  @Test
  void listFunctions_withAMarkerItNeverIssued_isAnInvalidMarker() {
    assertRefused(
        () -> store.listFunctions(Optional.of("no-slash-here"), 10, false),
        StorageException.InvalidMarker.class,
        Entity.FUNCTION,
        "no-slash-here");
  }

  // tags

  @Test
  void tagAndUntag_changeOnlyTheKeysNamed_andNeedTheFunction() {
    store.createFunction(config("t"), Map.of("a", "1"), Optional.empty());
    store.tag("t", Map.of("a", "one", "b", "2", "c", "3"));
    store.untag("t", Set.of("c", "never-set"));
    assertThat(store.tags("t")).containsExactly(Map.entry("a", "one"), Map.entry("b", "2"));
    assertRefused(
        () -> store.tag("missing", Map.of("a", "b")),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "missing");
    assertRefused(
        () -> store.untag("missing", Set.of("a")),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "missing");
  }

  // aliases

  protected static AliasConfig alias(String function, String name, String version) {
    return AliasConfig.of(function, name, version, "", Map.of());
  }

  @Test
  void createAlias_thenReadsItBack_andListsAliasesByName() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    AliasConfig live = alias("f", "live", "$LATEST");
    AliasConfig beta = alias("f", "beta", "$LATEST");
    store.createAlias(live);
    store.createAlias(beta);
    assertThat(store.alias("f", "live")).hasValue(live);
    assertThat(store.alias("f", "other")).isEmpty();
    assertThat(store.aliases("f")).containsExactly(beta, live);
  }

  @Test
  void createAlias_twice_isAlreadyExists_andForAMissingFunction_isNotFound() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    AliasConfig first = alias("f", "live", "$LATEST");
    store.createAlias(first);
    assertRefused(
        () -> store.createAlias(alias("f", "live", "$LATEST")),
        StorageException.AlreadyExists.class,
        Entity.ALIAS,
        "live");
    assertThat(store.alias("f", "live")).hasValue(first);
    assertRefused(
        () -> store.createAlias(alias("nope", "live", "$LATEST")),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "nope");
  }

  @Test
  void replaceAlias_isACompareAndSetOnTheRevision_andAMissingAliasIsNotFound() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    AliasConfig first = alias("f", "live", "$LATEST");
    store.createAlias(first);
    AliasConfig second = alias("f", "live", "$LATEST");
    store.replaceAlias(second, first.revisionId());
    assertThat(store.alias("f", "live")).hasValue(second);
    assertRefused(
        () -> store.replaceAlias(alias("f", "live", "$LATEST"), first.revisionId()),
        StorageException.StaleRevision.class,
        Entity.ALIAS,
        "live");
    assertThat(store.alias("f", "live")).hasValue(second);
    assertRefused(
        () -> store.replaceAlias(alias("f", "other", "$LATEST"), "any"),
        StorageException.NotFound.class,
        Entity.ALIAS,
        "other");
  }

  @Test
  void deleteAlias_saysWhetherThereWasOne() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    store.createAlias(alias("f", "live", "$LATEST"));
    assertThat(store.deleteAlias("f", "live")).isTrue();
    assertThat(store.deleteAlias("f", "live")).isFalse();
    assertThat(store.aliases("f")).isEmpty();
  }

  // concurrency, provisioned concurrency, event-invoke configs

  @Test
  void reservedConcurrency_isPutReplacedAndDeleted_andNeedsTheFunction() {
    store.createFunction(config("a"), Map.of(), Optional.empty());
    store.createFunction(config("b"), Map.of(), Optional.empty());
    store.putReservedConcurrency("a", 5);
    store.putReservedConcurrency("a", 7);
    store.putReservedConcurrency("b", 0);
    assertThat(store.reservedConcurrency()).containsOnly(Map.entry("a", 7), Map.entry("b", 0));
    assertThat(store.deleteReservedConcurrency("a")).isTrue();
    assertThat(store.deleteReservedConcurrency("a")).isFalse();
    assertThat(store.reservedConcurrency()).containsOnly(Map.entry("b", 0));
    assertRefused(
        () -> store.putReservedConcurrency("nope", 1),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "nope");
  }

  @Test
  void provisioned_isPutPerQualifier_listedByFunctionAndQualifier_andNeedsTheFunction() {
    store.createFunction(config("b"), Map.of(), Optional.empty());
    store.createFunction(config("a"), Map.of(), Optional.empty());
    ProvisionedConfig b1 = new ProvisionedConfig("b", "1", 2, T0);
    ProvisionedConfig aLive = new ProvisionedConfig("a", "live", 3, T0);
    ProvisionedConfig a1 = new ProvisionedConfig("a", "1", 1, T0);
    store.putProvisioned(b1);
    store.putProvisioned(new ProvisionedConfig("a", "live", 9, T0));
    store.putProvisioned(aLive);
    store.putProvisioned(a1);
    assertThat(store.provisioned("a", "live")).hasValue(aLive);
    assertThat(store.provisioned("a", "2")).isEmpty();
    assertThat(store.provisionedConfigs(Optional.of("a"))).containsExactly(a1, aLive);
    assertThat(store.provisionedConfigs(Optional.empty())).containsExactly(a1, aLive, b1);
    assertThat(store.deleteProvisioned("a", "live")).isTrue();
    assertThat(store.deleteProvisioned("a", "live")).isFalse();
    assertRefused(
        () -> store.putProvisioned(new ProvisionedConfig("nope", "1", 1, T0)),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "nope");
  }

  protected static EventInvokeConfig eventInvokeConfig(
      String function, String qualifier, int retries) {
    return new EventInvokeConfig(
        function, qualifier, retries, 60, Optional.empty(), Optional.of("arn:dest"), T0);
  }

  @Test
  void eventInvokeConfigs_arePutPerQualifier_listedByQualifier_andNeedTheFunction() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    EventInvokeConfig latest = eventInvokeConfig("f", "$LATEST", 0);
    EventInvokeConfig live = eventInvokeConfig("f", "live", 1);
    store.putEventInvokeConfig(eventInvokeConfig("f", "live", 2));
    store.putEventInvokeConfig(live);
    store.putEventInvokeConfig(latest);
    assertThat(store.eventInvokeConfig("f", "live")).hasValue(live);
    assertThat(store.eventInvokeConfig("f", "1")).isEmpty();
    assertThat(store.eventInvokeConfigs("f")).containsExactly(latest, live);
    assertThat(store.deleteEventInvokeConfig("f", "live")).isTrue();
    assertThat(store.deleteEventInvokeConfig("f", "live")).isFalse();
    assertRefused(
        () -> store.putEventInvokeConfig(eventInvokeConfig("nope", "$LATEST", 0)),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "nope");
  }

  protected static EventSourceMapping mapping(String uuid, String function, String arn) {
    return new EventSourceMapping.Builder(uuid, "sqs", function, T0)
        .eventSourceArn(Optional.of(arn))
        .batchSize(10)
        .filters(List.of("{\"body\":{\"a\":[1]}}"))
        .build();
  }

  @Test
  void eventSourceMappings_areOnePerFunctionAndSource_listedInOrderOfCreation_andPaged() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    store.createFunction(config("g"), Map.of(), Optional.empty());
    EventSourceMapping a = mapping("a", "f", "arn:aws:sqs:us-east-1:1:q1");
    EventSourceMapping b = mapping("b", "g", "arn:aws:sqs:us-east-1:1:q1");
    EventSourceMapping c = mapping("c", "f", "arn:aws:sqs:us-east-1:1:q2");
    store.createEventSourceMapping(a, "q1");
    store.createEventSourceMapping(b, "q1");
    store.createEventSourceMapping(c, "q2");

    assertRefused(
        () -> store.createEventSourceMapping(mapping("d", "f", "arn:aws:sqs:us-east-1:1:q1"), "q1"),
        StorageException.AlreadyExists.class,
        Entity.EVENT_SOURCE_MAPPING,
        "a");
    assertRefused(
        () -> store.createEventSourceMapping(mapping("e", "nope", "arn:x"), "x"),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "nope");

    assertThat(store.eventSourceMapping("a")).hasValue(a);
    assertThat(store.eventSourceMapping("zzz")).isEmpty();
    var all = store.eventSourceMappings(Optional.empty(), Optional.empty(), Optional.empty(), 10);
    assertThat(all.mappings()).containsExactly(a, b, c);
    assertThat(all.nextMarker()).isEmpty();
    assertThat(
            store
                .eventSourceMappings(Optional.of("f"), Optional.empty(), Optional.empty(), 10)
                .mappings())
        .containsExactly(a, c);
    assertThat(
            store
                .eventSourceMappings(
                    Optional.empty(),
                    Optional.of("arn:aws:sqs:us-east-1:1:q1"),
                    Optional.empty(),
                    10)
                .mappings())
        .containsExactly(a, b);
    var first = store.eventSourceMappings(Optional.empty(), Optional.empty(), Optional.empty(), 2);
    assertThat(first.mappings()).containsExactly(a, b);
    var second =
        store.eventSourceMappings(Optional.empty(), Optional.empty(), first.nextMarker(), 2);
    assertThat(second.mappings()).containsExactly(c);
    assertThat(second.nextMarker()).isEmpty();
    assertRefused(
        () ->
            store.eventSourceMappings(
                Optional.empty(), Optional.empty(), Optional.of("not-a-marker"), 2),
        StorageException.InvalidMarker.class,
        Entity.EVENT_SOURCE_MAPPING,
        "not-a-marker");

    assertThat(store.deleteEventSourceMapping("b")).isTrue();
    assertThat(store.deleteEventSourceMapping("b")).isFalse();
    // the source is free again for that function
    store.createEventSourceMapping(mapping("b2", "g", "arn:aws:sqs:us-east-1:1:q1"), "q1");
  }

  @Test
  void updatingAMapping_changesItInPlace_andBumpsItsRevision() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    EventSourceMapping a = mapping("a", "f", "arn:aws:sqs:us-east-1:1:q1");
    store.createEventSourceMapping(a, "q1");

    Optional<EventSourceMapping> changed =
        store.updateEventSourceMapping("a", m -> m.toBuilder().batchSize(5).enabled(false).build());

    assertThat(changed).isPresent();
    assertThat(changed.get().batchSize()).isEqualTo(5);
    assertThat(changed.get().revision()).isEqualTo(a.revision() + 1);
    assertThat(store.eventSourceMapping("a")).isEqualTo(changed);
    assertThat(store.updateEventSourceMapping("a", m -> null)).isEqualTo(changed);
    assertThat(store.eventSourceMapping("a").get().revision()).isEqualTo(a.revision() + 1);
    assertThat(store.updateEventSourceMapping("zzz", m -> m)).isEmpty();
  }

  @Test
  void aMappingMovesToAnotherFunction_unlessThatOneReadsTheSourceAlready_andGoesWithItsNewOne() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    store.createFunction(config("g"), Map.of(), Optional.empty());
    store.createFunction(config("h"), Map.of(), Optional.empty());
    store.createEventSourceMapping(mapping("a", "f", "arn:aws:sqs:us-east-1:1:q1"), "q1");
    store.createEventSourceMapping(mapping("b", "h", "arn:aws:sqs:us-east-1:1:q1"), "q1");

    assertRefused(
        () -> store.updateEventSourceMapping("a", m -> m.toBuilder().functionName("h").build()),
        StorageException.AlreadyExists.class,
        Entity.EVENT_SOURCE_MAPPING,
        "b");
    assertRefused(
        () -> store.updateEventSourceMapping("a", m -> m.toBuilder().functionName("nope").build()),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "nope");
    assertThat(store.eventSourceMapping("a").get().functionName()).isEqualTo("f");

    store.updateEventSourceMapping("a", m -> m.toBuilder().functionName("g").build());
    assertThat(
            store
                .eventSourceMappings(Optional.of("g"), Optional.empty(), Optional.empty(), 10)
                .mappings())
        .extracting(EventSourceMapping::uuid)
        .containsExactly("a");
    assertThat(store.deleteFunction("f")).isTrue();
    assertThat(store.eventSourceMapping("a")).isPresent();
    assertThat(store.deleteFunction("g")).isTrue();
    assertThat(store.eventSourceMapping("a")).isEmpty();
  }

  protected static FunctionUrlConfig functionUrl(String function, Optional<String> qualifier) {
    return new FunctionUrlConfig(
        FunctionUrlConfig.newUrlId(),
        function,
        qualifier,
        "NONE",
        Optional.of(
            new FunctionUrlConfig.Cors(
                Optional.of(true),
                List.of("x-a"),
                List.of("GET"),
                List.of("https://example.com"),
                List.of(),
                Optional.of(60))),
        "BUFFERED",
        T0,
        T0);
  }

  @Test
  void functionUrls_areOnePerQualifier_foundByUrlId_andListedFunctionFirst() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    store.createAlias(alias("f", "live", "$LATEST"));
    FunctionUrlConfig own = functionUrl("f", Optional.empty());
    FunctionUrlConfig live = functionUrl("f", Optional.of("live"));
    store.createFunctionUrlConfig(live);
    store.createFunctionUrlConfig(own);

    assertThat(store.functionUrlConfig("f", "")).hasValue(own);
    assertThat(store.functionUrlConfig("f", "live")).hasValue(live);
    assertThat(store.functionUrlConfig("f", "other")).isEmpty();
    assertThat(store.functionUrlConfigByUrlId(live.urlId())).hasValue(live);
    assertThat(store.functionUrlConfigByUrlId("a".repeat(32))).isEmpty();
    assertThat(store.functionUrlConfigs("f")).containsExactly(own, live);
    assertThat(store.functionUrlConfigs("nope")).isEmpty();

    assertRefused(
        () -> store.createFunctionUrlConfig(functionUrl("f", Optional.of("live"))),
        StorageException.AlreadyExists.class,
        Entity.FUNCTION_URL,
        "f:live");
    assertRefused(
        () -> store.createFunctionUrlConfig(functionUrl("f", Optional.empty())),
        StorageException.AlreadyExists.class,
        Entity.FUNCTION_URL,
        "f");
    assertRefused(
        () -> store.createFunctionUrlConfig(functionUrl("nope", Optional.empty())),
        StorageException.NotFound.class,
        Entity.FUNCTION,
        "nope");
    assertThat(store.functionUrlConfigs("f")).containsExactly(own, live);
  }

  @Test
  void replacingAFunctionUrl_keepsItsUrlIdAndCreationTime() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    FunctionUrlConfig own = functionUrl("f", Optional.empty());
    store.createFunctionUrlConfig(own);
    Instant later = T0.plusSeconds(5);
    FunctionUrlConfig changed =
        new FunctionUrlConfig(
            FunctionUrlConfig.newUrlId(),
            "f",
            Optional.empty(),
            "AWS_IAM",
            Optional.empty(),
            "RESPONSE_STREAM",
            later,
            later);

    store.replaceFunctionUrlConfig(changed);

    FunctionUrlConfig stored = store.functionUrlConfig("f", "").orElseThrow();
    assertThat(stored.urlId()).isEqualTo(own.urlId());
    assertThat(stored.creationTime()).isEqualTo(T0);
    assertThat(stored.lastModifiedTime()).isEqualTo(later);
    assertThat(stored.authType()).isEqualTo("AWS_IAM");
    assertThat(stored.cors()).isEmpty();
    assertThat(stored.invokeMode()).isEqualTo("RESPONSE_STREAM");
    assertThat(store.functionUrlConfigByUrlId(own.urlId())).hasValue(stored);
    assertRefused(
        () -> store.replaceFunctionUrlConfig(functionUrl("f", Optional.of("live"))),
        StorageException.NotFound.class,
        Entity.FUNCTION_URL,
        "f:live");
  }

  @Test
  void deletingAFunctionUrlOrItsAlias_removesIt() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    store.createAlias(alias("f", "live", "$LATEST"));
    FunctionUrlConfig own = functionUrl("f", Optional.empty());
    FunctionUrlConfig live = functionUrl("f", Optional.of("live"));
    store.createFunctionUrlConfig(own);
    store.createFunctionUrlConfig(live);

    assertThat(store.deleteAlias("f", "live")).isTrue();
    assertThat(store.functionUrlConfig("f", "live")).isEmpty();
    assertThat(store.functionUrlConfigByUrlId(live.urlId())).isEmpty();
    assertThat(store.functionUrlConfigs("f")).containsExactly(own);

    assertThat(store.deleteFunctionUrlConfig("f", "")).isTrue();
    assertThat(store.deleteFunctionUrlConfig("f", "")).isFalse();
    assertThat(store.functionUrlConfigByUrlId(own.urlId())).isEmpty();
    assertThat(store.functionUrlConfigs("f")).isEmpty();
  }

  // usage and code

  @Test
  void usage_countsFunctionsAndTheCodeOfEveryVersion() {
    assertThat(store.usage()).isEqualTo(new MetadataStore.Usage(0, 0));
    FunctionConfig a = config("a");
    store.createFunction(a, Map.of(), Optional.of(a.asVersion("1")));
    store.createFunction(config("b"), Map.of(), Optional.empty());
    assertThat(store.usage()).isEqualTo(new MetadataStore.Usage(2, 3 * a.codeSize()));
  }

  @Test
  void referencedCode_isTheCodeOfEveryVersion_theLayersTheyUse_andEveryLayerVersion() {
    FunctionConfig f =
        withCode(config("f"), 1)
            .withLayers(List.of(new FunctionConfig.Layer("arn:layer:1", 5, "e".repeat(64), 50)));
    store.createFunction(f, Map.of(), Optional.empty());
    store.replaceLatest(withCode(f, 2), f.revisionId());
    store.publishVersion("f", Optional.empty());
    store.publishLayerVersion(layer("lib", "c".repeat(64)));
    // code 1 went with the $LATEST it was replaced in; the layer stays with code 2 and version 1
    assertThat(store.referencedCode())
        .containsExactlyInAnyOrder(String.format("%064x", 2), "e".repeat(64), "c".repeat(64));
  }

  @Test
  void referencedCode_includesTheLayersAVersionUses() {
    FunctionConfig f =
        config("f").withLayers(List.of(new FunctionConfig.Layer("arn:l:1", 5, "e".repeat(64), 50)));
    store.createFunction(f, Map.of(), Optional.empty());
    assertThat(store.referencedCode())
        .containsExactlyInAnyOrder(String.format("%064x", 1), "e".repeat(64));
  }

  // layers

  protected static LayerVersion layer(String name, String sha256Hex) {
    return new LayerVersion(
        name,
        0,
        "d",
        T0,
        List.of("python3.12"),
        List.of("x86_64"),
        Optional.of("MIT"),
        sha256Hex,
        10,
        20);
  }

  @Test
  void publishLayerVersion_numbersEachLayerOnePastTheLastItEverHad() {
    LayerVersion a1 = store.publishLayerVersion(layer("a", "1".repeat(64)));
    LayerVersion a2 = store.publishLayerVersion(layer("a", "2".repeat(64)));
    LayerVersion b1 = store.publishLayerVersion(layer("b", "3".repeat(64)));
    assertThat(List.of(a1.version(), a2.version(), b1.version())).containsExactly(1L, 2L, 1L);
    assertThat(store.deleteLayerVersion("a", 2)).isTrue();
    assertThat(store.deleteLayerVersion("a", 2)).isFalse();
    assertThat(store.publishLayerVersion(layer("a", "4".repeat(64))).version()).isEqualTo(3);
    assertThat(store.layerVersion("a", 1)).hasValue(a1);
    assertThat(store.layerVersion("a", 2)).isEmpty();
  }

  @Test
  void layerVersions_listNewestFirstWithinEachLayer() {
    store.publishLayerVersion(layer("b", "1".repeat(64)));
    store.publishLayerVersion(layer("a", "2".repeat(64)));
    store.publishLayerVersion(layer("a", "3".repeat(64)));
    assertThat(store.layerVersions(Optional.empty()))
        .extracting(v -> v.layerName() + ":" + v.version())
        .containsExactly("a:2", "a:1", "b:1");
    assertThat(store.layerVersions(Optional.of("a")))
        .extracting(v -> v.layerName() + ":" + v.version())
        .containsExactly("a:2", "a:1");
    assertThat(store.layerVersions(Optional.of("none"))).isEmpty();
  }

  protected static LayerPolicy layerPolicy(String statementId) {
    return LayerPolicy.empty()
        .with(
            new LayerPolicy.Statement(
                statementId, "lambda:GetLayerVersion", "*", Optional.empty()));
  }

  @Test
  void layerPolicy_isACompareAndSetOnItsRevision_andAnEmptyOneRemovesIt() {
    store.publishLayerVersion(layer("lib", "1".repeat(64)));
    assertThat(store.layerPolicy("lib", 1)).isEmpty();
    LayerPolicy first = layerPolicy("s1");
    store.putLayerPolicy("lib", 1, first, Optional.empty());
    assertThat(store.layerPolicy("lib", 1)).hasValue(first);
    LayerPolicy second = first.with(layerPolicy("s2").statements().get(0));
    store.putLayerPolicy("lib", 1, second, Optional.of(first.revisionId()));
    assertThat(store.layerPolicy("lib", 1)).hasValue(second);
    assertRefused(
        () -> store.putLayerPolicy("lib", 1, layerPolicy("s3"), Optional.of(first.revisionId())),
        StorageException.StaleRevision.class,
        Entity.LAYER_POLICY,
        "lib:1");
    store.putLayerPolicy("lib", 1, second.without("s1").without("s2"), Optional.empty());
    assertThat(store.layerPolicy("lib", 1)).isEmpty();
  }

  @Test
  void layerPolicy_ofAMissingLayerVersion_isNotFound() {
    assertRefused(
        () -> store.putLayerPolicy("lib", 7, layerPolicy("s1"), Optional.empty()),
        StorageException.NotFound.class,
        Entity.LAYER_VERSION,
        "lib:7");
  }

  @Test
  void deleteLayerVersion_takesItsPolicyAlong() {
    store.publishLayerVersion(layer("lib", "1".repeat(64)));
    store.putLayerPolicy("lib", 1, layerPolicy("s1"), Optional.empty());
    store.deleteLayerVersion("lib", 1);
    assertThat(store.layerPolicy("lib", 1)).isEmpty();
  }

  // function policies

  protected static FunctionPolicy policy(String statementId) {
    return FunctionPolicy.empty()
        .with(
            new FunctionPolicy.Statement(
                statementId,
                "lambda:InvokeFunction",
                "s3.amazonaws.com",
                "arn:aws:lambda:us-east-1:000000000000:function:f",
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty()));
  }

  @Test
  void functionPolicy_isKeptPerQualifier_comparedAndSetOnItsRevision_andRemovedWhenEmpty() {
    store.createFunction(config("f"), Map.of(), Optional.empty());
    FunctionPolicy unqualified = policy("s1");
    FunctionPolicy live = policy("s2");
    store.putFunctionPolicy("f", "", unqualified, Optional.empty());
    store.putFunctionPolicy("f", "live", live, Optional.empty());
    assertThat(store.functionPolicy("f", "")).hasValue(unqualified);
    assertThat(store.functionPolicy("f", "live")).hasValue(live);
    assertThat(store.functionPolicy("f", "1")).isEmpty();
    FunctionPolicy next = unqualified.without("s1");
    assertRefused(
        () -> store.putFunctionPolicy("f", "", next, Optional.of(live.revisionId())),
        StorageException.StaleRevision.class,
        Entity.FUNCTION_POLICY,
        "f");
    assertThat(store.functionPolicy("f", "")).hasValue(unqualified);
    store.putFunctionPolicy("f", "", next, Optional.of(unqualified.revisionId()));
    assertThat(store.functionPolicy("f", "")).isEmpty();
    assertThat(store.functionPolicy("f", "live")).hasValue(live);
  }

  @Test
  void check_answersOnAHealthyStore() {
    store.check();
  }
}
