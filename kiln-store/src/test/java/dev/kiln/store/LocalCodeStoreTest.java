package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.CodeDigest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

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
  void put_storesOncePerContentAndUnpacksReadOnly() throws Exception {
    Path root = Files.createTempDirectory("kiln-code-");
    LocalCodeStore store = new LocalCodeStore(root, java.time.Duration.ZERO);
    byte[] zip = zip("dir/app.py", "x = 1\n".getBytes(StandardCharsets.UTF_8));
    CodeDigest a = store.put(zip);
    CodeDigest b = store.put(zip);
    assertThat(a).isEqualTo(b);
    assertThat(a.unzippedSize()).isEqualTo(6);
    Path task = store.taskRoot(a.sha256Hex());
    assertThat(Files.readString(task.resolve("dir/app.py"))).isEqualTo("x = 1\n");
    assertThat(Files.getPosixFilePermissions(task.resolve("dir/app.py")).toString())
        .doesNotContain("WRITE");
    assertThat(store.zip(a.sha256Hex())).isPresent();
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
  void merged_unpacksInOrder_laterPackagesWin_andGoesWhenAPartIsDeleted() throws Exception {
    Path root = Files.createTempDirectory("kiln-code-");
    LocalCodeStore store = new LocalCodeStore(root, java.time.Duration.ZERO);
    CodeDigest first = store.put(zip("python/shared.py", "first".getBytes(StandardCharsets.UTF_8)));
    CodeDigest second =
        store.put(zip("python/shared.py", "second".getBytes(StandardCharsets.UTF_8)));
    CodeDigest other = store.put(zip("bin/tool", "tool".getBytes(StandardCharsets.UTF_8)));

    Path forward =
        store.merged(java.util.List.of(first.sha256Hex(), other.sha256Hex(), second.sha256Hex()));
    assertThat(Files.readString(forward.resolve("python/shared.py"))).isEqualTo("second");
    assertThat(Files.readString(forward.resolve("bin/tool"))).isEqualTo("tool");
    assertThat(Files.getPosixFilePermissions(forward.resolve("python")))
        .doesNotContain(java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    Path backward = store.merged(java.util.List.of(second.sha256Hex(), first.sha256Hex()));
    assertThat(Files.readString(backward.resolve("python/shared.py"))).isEqualTo("first");
    assertThat(store.merged(java.util.List.of(second.sha256Hex(), first.sha256Hex())))
        .as("made once per combination")
        .isEqualTo(backward);
    assertThat(store.unzippedSize(second.sha256Hex())).isEqualTo(6);

    store.retainOnly(Set.of(first.sha256Hex(), second.sha256Hex()));
    assertThat(forward).as("it used a deleted package").doesNotExist();
    assertThat(backward).exists();
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

  @Test
  void duplicateEntries_areRefused() throws Exception {
    Path root = Files.createTempDirectory("kiln-code-");
    LocalCodeStore store = new LocalCodeStore(root, java.time.Duration.ZERO);
    // java.util.zip refuses duplicates; write the second entry under a name that normalises to
    // the same file
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("a.py"));
      zip.closeEntry();
      zip.putNextEntry(new ZipEntry("./a.py"));
      zip.closeEntry();
    }
    assertThatThrownBy(() -> store.put(bytes.toByteArray()))
        .isInstanceOfSatisfying(
            StorageException.Rejected.class,
            e -> assertThat(e.reason()).contains("entry './a.py' appears more than once"));
  }
}
