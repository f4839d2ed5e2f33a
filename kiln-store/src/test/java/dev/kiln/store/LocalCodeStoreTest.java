package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.CodeDigest;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

/**
 * What is LocalCodeStore's own: its files on disk and its grace period. What every code store
 * promises is kiln-testing's CodeStoreContract, which runs against this store too.
 */
class LocalCodeStoreTest {

  static byte[] zip(String name, byte[] content) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry(name));
      zip.write(content);
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  @Test
  void taskRoot_isRebuiltFromTheZipWhenTheUnpackedCopyIsGone() throws Exception {
    Path root = Files.createTempDirectory("kiln-code-");
    LocalCodeStore store = new LocalCodeStore(root, java.time.Duration.ZERO);
    CodeDigest d = store.put(zip("a.txt", new byte[] {1}));
    LocalCodeStore.deleteTree(root.resolve("unpacked"));
    Files.createDirectories(root.resolve("unpacked"));
    assertThat(Files.readAllBytes(store.taskRoot(d.sha256Hex()).resolve("a.txt")))
        .containsExactly(1);
  }

  @Test
  void retainOnly_deletesUnreferencedPackages() throws Exception {
    Path root = Files.createTempDirectory("kiln-code-");
    LocalCodeStore store = new LocalCodeStore(root, java.time.Duration.ZERO);
    CodeDigest keep = store.put(zip("k", new byte[] {1}));
    CodeDigest drop = store.put(zip("d", new byte[] {2}));
    store.retainOnly(Set.of(keep.sha256Hex()));
    assertThat(store.zip(keep.sha256Hex())).isPresent();
    assertThat(store.zip(drop.sha256Hex())).isEmpty();
    assertThat(root.resolve("unpacked").resolve(drop.sha256Hex())).doesNotExist();
  }

  @Test
  void retainOnly_sparesPackagesStoredWithinTheGracePeriod() throws Exception {
    Path root = Files.createTempDirectory("kiln-code-");
    LocalCodeStore store = new LocalCodeStore(root, java.time.Duration.ofMinutes(10));
    CodeDigest fresh = store.put(zip("f", new byte[] {3}));
    store.retainOnly(Set.of());
    assertThat(store.zip(fresh.sha256Hex()))
        .as("stored a moment ago: the metadata naming it may be on its way")
        .isPresent();
  }
}
