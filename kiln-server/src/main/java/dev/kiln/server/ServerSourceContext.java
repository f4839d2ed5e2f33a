package dev.kiln.server;

import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceUnavailableException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Optional;

/**
 * What the server gives the event source readers: its clock and region, the SQS endpoint, and the
 * secrets SourceAccessConfigurations name. A secret is read when a reader connects, never stored or
 * answered: a {@code file:} URI names its file; a Secrets Manager ARN ({@code
 * arn:aws:secretsmanager:<region>:<account>:secret:NAME}) names the file {@code NAME} in {@code
 * --secrets-dir}.
 */
final class ServerSourceContext implements SourceContext {

  private final InstantSource clock;
  private final String region;
  private final ServerSettings.Triggers triggers;

  ServerSourceContext(InstantSource clock, String region, ServerSettings.Triggers triggers) {
    this.clock = clock;
    this.region = region;
    this.triggers = triggers;
  }

  @Override
  public InstantSource clock() {
    return clock;
  }

  @Override
  public String region() {
    return region;
  }

  @Override
  public Optional<URI> sqsEndpoint() {
    return triggers.sqsEndpoint();
  }

  @Override
  public String secret(String uri) throws SourceUnavailableException {
    Path file;
    if (uri.startsWith("file:")) {
      try {
        file = Path.of(URI.create(uri));
      } catch (IllegalArgumentException e) {
        throw new SourceUnavailableException(
            "PROBLEM: The secret URI " + uri + " is not a file: URI Kiln can read.");
      }
    } else if (uri.startsWith("arn:aws:secretsmanager:") && uri.contains(":secret:")) {
      if (triggers.secretsDir().isEmpty()) {
        throw new SourceUnavailableException(
            "PROBLEM: The secret "
                + uri
                + " cannot be read: Kiln was started without --secrets-dir.");
      }
      String name = uri.substring(uri.indexOf(":secret:") + ":secret:".length());
      if (name.contains("/") || name.startsWith(".")) {
        throw new SourceUnavailableException("PROBLEM: The secret name in " + uri + " is invalid.");
      }
      file = triggers.secretsDir().get().resolve(name);
    } else {
      throw new SourceUnavailableException(
          "PROBLEM: The secret "
              + uri
              + " cannot be read: Kiln reads file: URIs and Secrets Manager ARNs (from"
              + " --secrets-dir).");
    }
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new SourceUnavailableException(
          "PROBLEM: The secret " + uri + " cannot be read: " + e.getMessage());
    }
  }
}
