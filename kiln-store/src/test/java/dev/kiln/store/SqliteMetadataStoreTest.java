package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SqliteMetadataStoreTest {

  Path file;
  SqliteMetadataStore store;

  @BeforeEach
  void open() throws Exception {
    file = Files.createTempDirectory("kiln-store-").resolve("metadata.db");
    store = SqliteMetadataStore.open(file);
  }

  @AfterEach
  void close() {
    store.close();
  }

  static FunctionConfig config(String name) {
    ConfigPatch settings =
        ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r");
    return FunctionConfig.create(
        name, new CodeDigest("ab".repeat(32), 10, 20), settings, Instant.now());
  }

  @Test
  void createThenRead_roundTripsTheWholeConfiguration() {
    FunctionConfig f = config("f");
    store.createFunction(f, Map.of("k", "v"), Optional.empty());
    assertThat(store.function("f", "$LATEST")).hasValue(f);
    assertThat(store.tags("f")).containsExactly(Map.entry("k", "v"));
  }

  @Test
  void dataSurvivesReopening() {
    FunctionConfig f = config("durable");
    store.createFunction(f, Map.of(), Optional.empty());
    store.close();
    store = SqliteMetadataStore.open(file);
    assertThat(store.function("durable", "$LATEST")).hasValue(f);
  }

  @Test
  void createTwice_isAConflictAndKeepsTheFirst() {
    FunctionConfig first = config("dup");
    store.createFunction(first, Map.of(), Optional.empty());
    assertThatThrownBy(() -> store.createFunction(config("dup"), Map.of(), Optional.empty()))
        .isInstanceOfSatisfying(
            StorageException.AlreadyExists.class, e -> assertThat(e.key()).isEqualTo("dup"));
    assertThat(store.function("dup", "$LATEST")).hasValue(first);
  }

  @Test
  void replaceLatest_isCompareAndSetOnTheRevision() {
    FunctionConfig f = config("cas");
    store.createFunction(f, Map.of(), Optional.empty());
    FunctionConfig next = f.asVersion("$LATEST");
    store.replaceLatest(next, f.revisionId());
    assertThatThrownBy(() -> store.replaceLatest(f.asVersion("$LATEST"), f.revisionId()))
        .isInstanceOfSatisfying(
            StorageException.StaleRevision.class,
            e -> assertThat(e.entity()).isEqualTo(StorageException.Entity.FUNCTION));
    assertThat(store.function("cas", "$LATEST")).hasValue(next);
  }

  @Test
  void publishVersion_numbersSnapshotsAndSkipsUnchangedOnes() {
    FunctionConfig f = config("pub");
    store.createFunction(f, Map.of(), Optional.empty());
    FunctionConfig v1 = store.publishVersion("pub", Optional.empty());
    assertThat(v1.version()).isEqualTo("1");
    assertThat(store.publishVersion("pub", Optional.empty()).version())
        .as("nothing changed")
        .isEqualTo("1");
    store.replaceLatest(
        f.withCode(new CodeDigest("cd".repeat(32), 5, 5), java.util.List.of(), Instant.now()),
        f.revisionId());
    assertThat(store.publishVersion("pub", Optional.empty()).version()).isEqualTo("2");
  }

  @Test
  void listFunctions_pagesInNameOrder() {
    for (String n : new String[] {"c", "a", "b"}) {
      store.createFunction(config(n), Map.of(), Optional.empty());
    }
    MetadataStore.FunctionPage first = store.listFunctions(Optional.empty(), 2, false);
    assertThat(first.functions())
        .extracting(FunctionConfig::functionName)
        .containsExactly("a", "b");
    assertThat(first.nextMarker()).isPresent();
    MetadataStore.FunctionPage second = store.listFunctions(first.nextMarker(), 2, false);
    assertThat(second.functions()).extracting(FunctionConfig::functionName).containsExactly("c");
    assertThat(second.nextMarker()).isEmpty();
  }

  @Test
  void listFunctions_withAllVersions_listsLatestThenVersionsInNumberOrder() {
    FunctionConfig f = config("v");
    store.createFunction(f, Map.of(), Optional.empty());
    for (int i = 1; i <= 11; i++) {
      FunctionConfig latest = store.function("v", "$LATEST").orElseThrow();
      store.replaceLatest(
          latest.withCode(
              new CodeDigest(String.format("%064x", i), i, i), java.util.List.of(), Instant.now()),
          latest.revisionId());
      store.publishVersion("v", Optional.empty());
    }
    store.createFunction(config("w"), Map.of(), Optional.empty());
    java.util.List<String> seen = new java.util.ArrayList<>();
    Optional<String> marker = Optional.empty();
    do {
      MetadataStore.FunctionPage page = store.listFunctions(marker, 5, true);
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
  void delete_removesVersionsAndTags() {
    store.createFunction(config("gone"), Map.of("a", "b"), Optional.empty());
    store.publishVersion("gone", Optional.empty());
    assertThat(store.deleteFunction("gone")).isTrue();
    assertThat(store.function("gone", "$LATEST")).isEmpty();
    assertThat(store.function("gone", "1")).isEmpty();
    assertThat(store.referencedCode()).isEmpty();
    assertThat(store.deleteFunction("gone")).isFalse();
  }

  @Test
  void tagAndUntag_requireTheFunction() {
    assertThatThrownBy(() -> store.tag("missing", Map.of("a", "b")))
        .isInstanceOfSatisfying(
            StorageException.NotFound.class, e -> assertThat(e.key()).isEqualTo("missing"));
    store.createFunction(config("t"), Map.of(), Optional.empty());
    store.tag("t", Map.of("a", "1", "b", "2"));
    store.untag("t", Set.of("a"));
    assertThat(store.tags("t")).containsExactly(Map.entry("b", "2"));
  }
}
