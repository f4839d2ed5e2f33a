package dev.kiln.model;

import java.util.Base64;
import java.util.HexFormat;

/**
 * The identity of a deployment package: the SHA-256 of its bytes (hex for file names, base64 for
 * the API's {@code CodeSha256}) and its size in bytes, zipped and unzipped.
 */
public record CodeDigest(String sha256Hex, long size, long unzippedSize) {

  public String sha256Base64() {
    return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256Hex));
  }

  public static String hexFromBase64(String base64) {
    return HexFormat.of().formatHex(Base64.getDecoder().decode(base64));
  }
}
