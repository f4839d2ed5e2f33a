package dev.kiln.store;

import dev.kiln.model.CodeDigest;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * Deployment packages, addressed by the SHA-256 of their bytes: a zip is kept once however many
 * functions or versions use it, and unpacked once into a read-only directory that instances use as
 * their task root. Implementations: {@link LocalCodeStore}; what each must do is kiln-testing's
 * CodeStoreContract.
 */
public interface CodeStore {

  /**
   * Checks a deployment package against Lambda's limits and keeps it.
   *
   * @throws StorageException.Rejected if it is not a zip, is too large zipped or unzipped, or has
   *     an entry that would land outside its own directory
   */
  CodeDigest put(byte[] zip);

  /** The unpacked, read-only code directory of a stored package (unpacked again if missing). */
  Path taskRoot(String sha256Hex);

  /**
   * The content of several packages as one read-only directory, unpacked in the order given so that
   * a file in a later package replaces the same file in an earlier one: a function's layers as its
   * instances see them under {@code /opt}. Made once per combination and kept until one of the
   * packages is deleted.
   */
  Path merged(java.util.List<String> sha256Hexes);

  /** Bytes of a stored package once unpacked. */
  long unzippedSize(String sha256Hex);

  /** The stored zip itself, for GetFunction's {@code Code.Location}. */
  Optional<Path> zip(String sha256Hex);

  /** Deletes every package not in {@code referenced}. */
  void retainOnly(Set<String> referenced);
}
