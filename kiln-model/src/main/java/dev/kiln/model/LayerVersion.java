package dev.kiln.model;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One published version of a layer: a zip whose content instances see under {@code /opt}, and what
 * PublishLayerVersion was told about it. A layer version never changes once published;
 * DeleteLayerVersion only stops new functions from naming it, because the functions that already
 * use it keep a copy of what they need ({@link FunctionConfig.Layer}), as on Lambda.
 *
 * @param codeSha256Hex the digest of the zip in the code store
 * @param unzippedSize bytes once unpacked, counted against the function's 250 MB limit
 */
public record LayerVersion(
    String layerName,
    long version,
    String description,
    Instant createdDate,
    List<String> compatibleRuntimes,
    List<String> compatibleArchitectures,
    Optional<String> licenseInfo,
    String codeSha256Hex,
    long codeSize,
    long unzippedSize) {

  public LayerVersion {
    compatibleRuntimes = List.copyOf(compatibleRuntimes);
    compatibleArchitectures = List.copyOf(compatibleArchitectures);
    licenseInfo = licenseInfo == null ? Optional.empty() : licenseInfo;
  }

  public String codeSha256Base64() {
    return new CodeDigest(codeSha256Hex, codeSize, unzippedSize).sha256Base64();
  }

  /** What a function that names this version keeps of it. */
  public FunctionConfig.Layer asFunctionLayer(Account account) {
    return new FunctionConfig.Layer(
        account.layerVersionArn(layerName, version), codeSize, codeSha256Hex, unzippedSize);
  }
}
