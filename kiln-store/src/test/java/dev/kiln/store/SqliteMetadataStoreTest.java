package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What only the SQLite metadata store has to show: what it stored is there when the file is opened
 * again. What every metadata store promises is {@code MetadataStoreContract}, run against this
 * store in kiln-testing.
 */
class SqliteMetadataStoreTest {

  @Test
  void dataSurvivesReopening() throws Exception {
    Path file = Files.createTempDirectory("kiln-store-").resolve("metadata.db");
    FunctionConfig f =
        FunctionConfig.create(
            "durable",
            new CodeDigest("ab".repeat(32), 10, 20),
            ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r"),
            Instant.now());
    try (SqliteMetadataStore store = SqliteMetadataStore.open(file)) {
      store.createFunction(f, Map.of("k", "v"), Optional.empty());
    }
    try (SqliteMetadataStore store = SqliteMetadataStore.open(file)) {
      assertThat(store.function("durable", "$LATEST")).hasValue(f);
      assertThat(store.tags("durable")).containsExactly(Map.entry("k", "v"));
    }
  }
}
