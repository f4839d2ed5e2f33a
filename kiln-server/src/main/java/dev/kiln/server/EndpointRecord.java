package dev.kiln.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Where a Kiln server answers, recorded in its data directory ({@code <data-dir>/endpoint.json})
 * when it starts, so that every client command on that data directory ({@code kiln credentials},
 * {@code kiln logs}, {@code kiln usage}) reaches the server that is really there, whatever {@code
 * --port}, {@code --bind}, TLS or {@code --region} it was started with.
 *
 * <p>The record is written once, atomically (a new file renamed over the old), after the server
 * listens; it stays when the server stops, as the best guess for the next start on that data
 * directory, and the next start replaces it. Only the server holding the data directory's lock
 * writes it, so no lock of its own is needed.
 *
 * @param endpoint what clients call: {@code http(s)://host:port}, 127.0.0.1 for a server bound to
 *     every address
 * @param region the region requests must be signed for
 */
record EndpointRecord(URI endpoint, String region) {

  static final String FILE = "endpoint.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Writes this record into {@code dataDir}, replacing the one a previous start left. */
  void write(Path dataDir) {
    ObjectNode node = JSON.createObjectNode();
    node.put("endpoint", endpoint.toString());
    node.put("region", region);
    Path file = dataDir.resolve(FILE);
    try {
      Path scratch = Files.createTempFile(dataDir, FILE, ".new");
      Files.writeString(scratch, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
      Files.move(
          scratch, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** The record in {@code dataDir}; empty when no server has started there yet. */
  static Optional<EndpointRecord> read(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      JsonNode node = JSON.readTree(file.toFile());
      String endpoint = node.path("endpoint").asText("");
      if (endpoint.isEmpty()) {
        throw new IllegalStateException(file + " names no endpoint");
      }
      return Optional.of(
          new EndpointRecord(URI.create(endpoint), node.path("region").asText("us-east-1")));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
