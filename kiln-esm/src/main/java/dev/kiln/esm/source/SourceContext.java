package dev.kiln.esm.source;

import java.net.URI;
import java.time.InstantSource;
import java.util.Optional;

/**
 * What a reader is given by the server: the clock, the region and account its ARNs name, the SQS
 * endpoint ({@code kiln server --sqs-endpoint}), and the secrets its SourceAccessConfigurations
 * name.
 */
public interface SourceContext {

  InstantSource clock();

  /** The region the records' {@code awsRegion} and ARNs name. */
  String region();

  /** The endpoint SQS queues are polled at; empty when Kiln was started without one. */
  Optional<URI> sqsEndpoint();

  /**
   * The secret a SourceAccessConfiguration's URI names, as a JSON object text (e.g. {@code
   * {"username":"u","password":"p"}}). Kiln reads {@code file:} URIs; a Secrets Manager ARN is
   * looked up in the directory {@code kiln server --secrets-dir} names, under the secret's name.
   *
   * @throws SourceUnavailableException when the secret cannot be read
   */
  String secret(String uri) throws SourceUnavailableException;
}
