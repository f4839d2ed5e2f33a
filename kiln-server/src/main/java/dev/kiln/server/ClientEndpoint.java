package dev.kiln.server;

/**
 * Where the client commands ({@code kiln logs}, {@code kiln usage}) find Kiln: the endpoint given
 * on the command line, else the AWS SDKs' environment variables, else the local server on its
 * default port.
 */
final class ClientEndpoint {

  private ClientEndpoint() {}

  /**
   * @param serviceVariable the service's own variable, such as {@code AWS_ENDPOINT_URL_LOGS},
   *     honoured before {@code AWS_ENDPOINT_URL}; null when there is none
   */
  static String resolve(String given, String serviceVariable) {
    if (given != null) {
      return given;
    }
    for (String name : new String[] {serviceVariable, "AWS_ENDPOINT_URL"}) {
      String value = name == null ? null : System.getenv(name);
      if (value != null && !value.isBlank()) {
        return value;
      }
    }
    return "http://127.0.0.1:" + ServerSettings.DEFAULT_PORT;
  }

  /** The words a client command prints when nothing answers at {@code endpoint}. */
  static String unreachable(String command, String endpoint) {
    return "kiln "
        + command
        + ": no Kiln answers at "
        + endpoint
        + " (start one with ./kiln server)";
  }
}
