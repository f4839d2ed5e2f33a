package dev.kiln.api.url;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a request to a function URL says which URL it is for: the host name, {@code
 * <url-id>.lambda-url.<region>.<domain>} (as AWS's {@code <url-id>.lambda-url.<region>.on.aws};
 * Kiln's default domain is {@code localhost}, whose names browsers and curl send to the loopback
 * address without any DNS), or, for a client that cannot choose the host name, the path {@code
 * /kiln/url/<url-id>/...}, which the URL's function sees without that prefix.
 *
 * <p>A URL id is 32 lowercase letters and digits, as AWS's are.
 */
public final class UrlAddress {

  /** The path prefix of the host-less form. */
  public static final String PATH_PREFIX = "/kiln/url/";

  private static final Pattern HOST =
      Pattern.compile("([a-z0-9]{32})\\.lambda-url\\.([a-z0-9-]+)\\.(.+?)(:\\d+)?");
  private static final Pattern ID = Pattern.compile("[a-z0-9]{32}");

  /** A request's URL id and the path its function sees. */
  public record Parsed(String urlId, String path, String domainName) {}

  private UrlAddress() {}

  /** Whether {@code host} (a Host header) names a function URL, whatever the id. */
  public static boolean isUrlHost(String host) {
    return host.toLowerCase(Locale.ROOT).contains(".lambda-url.");
  }

  /**
   * The URL a request is for, from its Host header or its path; empty when it is for neither form
   * (an API request). A host that has {@code .lambda-url.} but no valid id parses with the id it
   * has, which no URL will match.
   */
  public static Optional<Parsed> parse(String host, String rawPath) {
    String h = host == null ? "" : host.toLowerCase(Locale.ROOT);
    if (isUrlHost(h)) {
      Matcher m = HOST.matcher(h);
      String id = m.matches() ? m.group(1) : h.substring(0, h.indexOf(".lambda-url."));
      String domain = h.replaceFirst(":\\d+$", "");
      return Optional.of(new Parsed(id, rawPath.isEmpty() ? "/" : rawPath, domain));
    }
    if (rawPath.startsWith(PATH_PREFIX)) {
      String rest = rawPath.substring(PATH_PREFIX.length());
      int slash = rest.indexOf('/');
      String id = slash < 0 ? rest : rest.substring(0, slash);
      String path = slash < 0 ? "/" : rest.substring(slash);
      return Optional.of(new Parsed(id, path, h.replaceFirst(":\\d+$", "")));
    }
    return Optional.empty();
  }

  /** Whether {@code id} has the shape of a URL id. */
  public static boolean isUrlId(String id) {
    return ID.matcher(id).matches();
  }
}
