package dev.kiln.invoke;

import java.util.function.IntSupplier;

/**
 * Where a function URL can be called: the {@code FunctionUrl} every answer of the function URL API
 * carries, made from the config's URL id. The server assembly gives the catalog the one its
 * settings call for, since only it knows the scheme (https when TLS is on), the port it listens on
 * and whether a wildcard domain fronts it.
 */
@FunctionalInterface
public interface FunctionUrlAddress {

  /** The URL of the config with URL id {@code urlId}, ending in {@code /} as AWS's do. */
  String url(String urlId);

  /**
   * {@code <scheme>://<url-id>.lambda-url.<region>.localhost:<port>/}: names under {@code
   * .localhost} reach the loopback address in browsers and curl without any DNS set-up.
   *
   * @param port read at every call, so a server listening on a port chosen at start (port 0) gives
   *     the real one
   */
  static FunctionUrlAddress localhost(String scheme, String region, IntSupplier port) {
    return urlId ->
        scheme + "://" + urlId + ".lambda-url." + region + ".localhost:" + port.getAsInt() + "/";
  }

  /**
   * {@code https://<url-id>.lambda-url.<region>.<domain>/}, AWS's {@code on.aws} form under a
   * wildcard domain of one's own, served by a proxy that terminates TLS in front of Kiln.
   */
  static FunctionUrlAddress domain(String region, String domain) {
    return urlId -> "https://" + urlId + ".lambda-url." + region + "." + domain + "/";
  }
}
