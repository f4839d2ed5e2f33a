package dev.kiln.events.s3;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error in S3's shape (its REST-XML {@code <Error>}): the HTTP status, S3's {@code Code}, its
 * {@code Message}, and the extra elements some errors carry (InvalidArgument's {@code
 * ArgumentName1}, {@code ArgumentValue1}), in order.
 */
public final class S3Error extends RuntimeException {

  private final int status;
  private final String code;
  private final Map<String, String> extra;

  public S3Error(int status, String code, String message, Map<String, String> extra) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = new LinkedHashMap<>(extra);
  }

  public static S3Error malformedXml() {
    return new S3Error(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published"
            + " schema",
        Map.of());
  }

  public static S3Error invalidArgument(String message, String name, String value) {
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put("ArgumentName", name);
    extra.put("ArgumentValue", value);
    return new S3Error(400, "InvalidArgument", message, extra);
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public Map<String, String> extra() {
    return extra;
  }
}
