package dev.kiln.esm.source;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;

/**
 * The server's side of a reader, for the sources' tests: a clock, a region, an SQS endpoint, and
 * secrets given by URI (or, {@link #readingFiles}, read from {@code file:} URIs as the server reads
 * them). An unknown secret is refused as the server refuses one it cannot read.
 */
public record TestSourceContext(
    InstantSource clock,
    String region,
    Optional<URI> sqsEndpoint,
    Map<String, String> secrets,
    boolean readFiles)
    implements SourceContext {

  /** The system clock, {@code region}, no SQS endpoint, no secrets. */
  public static TestSourceContext of(String region) {
    return new TestSourceContext(InstantSource.system(), region, Optional.empty(), Map.of(), false);
  }

  public TestSourceContext withClock(InstantSource c) {
    return new TestSourceContext(c, region, sqsEndpoint, secrets, readFiles);
  }

  public TestSourceContext withSqsEndpoint(Optional<URI> endpoint) {
    return new TestSourceContext(clock, region, endpoint, secrets, readFiles);
  }

  public TestSourceContext withSecrets(Map<String, String> byUri) {
    return new TestSourceContext(clock, region, sqsEndpoint, Map.copyOf(byUri), readFiles);
  }

  /** Secrets not given are read from their {@code file:} URI. */
  public TestSourceContext readingFiles() {
    return new TestSourceContext(clock, region, sqsEndpoint, secrets, true);
  }

  @Override
  public String secret(String uri) throws SourceUnavailableException {
    String given = secrets.get(uri);
    if (given != null) {
      return given;
    }
    if (readFiles && uri.startsWith("file:")) {
      try {
        return Files.readString(Path.of(URI.create(uri)));
      } catch (Exception e) {
        throw new SourceUnavailableException("PROBLEM: cannot read secret " + uri, e);
      }
    }
    throw new SourceUnavailableException("PROBLEM: cannot read secret " + uri);
  }
}
