package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.CodeDigest;
import dev.kiln.store.CodeStore;
import dev.kiln.store.StorageException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link CodeStore} promises: a package is kept once per content and addressed by its
 * SHA-256, its task root and any merge of packages are read-only directories with the files a zip
 * holds (a later package's file over an earlier one's), packages nothing references go (and the
 * merges that used them), and a zip Lambda would refuse is refused by name. A store that gives
 * packages a grace period before they may be deleted is given none here.
 */
public abstract class CodeStoreContract {

  /** A new, empty store under {@code root} that deletes unreferenced packages at once. */
  protected abstract CodeStore newStore(Path root);

  @TempDir Path root;
  CodeStore store;

  @BeforeEach
  void open() {
    store = newStore(root);
  }

  protected static byte[] zip(String name, String content) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry(name));
      zip.write(content.getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  @Test
  void put_keepsAPackageOncePerContent_andItsTaskRootIsItsFilesReadOnly() throws Exception {
    byte[] zip = zip("dir/app.py", "x = 1\n");
    CodeDigest a = store.put(zip);
    CodeDigest b = store.put(zip);

    assertThat(a).isEqualTo(b);
    assertThat(a.size()).isEqualTo(zip.length);
    assertThat(a.unzippedSize()).isEqualTo(6);
    assertThat(store.unzippedSize(a.sha256Hex())).isEqualTo(6);
    assertThat(a.sha256Hex())
        .isEqualTo(
            java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(zip)));
    Path task = store.taskRoot(a.sha256Hex());
    assertThat(Files.readString(task.resolve("dir/app.py"))).isEqualTo("x = 1\n");
    assertThat(Files.getPosixFilePermissions(task.resolve("dir/app.py")))
        .doesNotContain(PosixFilePermission.OWNER_WRITE);
    assertThat(store.zip(a.sha256Hex()))
        .hasValueSatisfying(p -> assertThat(p).hasBinaryContent(zip));
  }

  @Test
  void retainOnly_deletesWhatIsNotReferenced_andKeepsWhatIs() throws Exception {
    CodeDigest keep = store.put(zip("k", "1"));
    CodeDigest drop = store.put(zip("d", "2"));

    store.retainOnly(Set.of(keep.sha256Hex()));

    assertThat(store.zip(keep.sha256Hex())).isPresent();
    assertThat(store.zip(drop.sha256Hex())).isEmpty();
    assertThat(Files.readString(store.taskRoot(keep.sha256Hex()).resolve("k"))).isEqualTo("1");
  }

  @Test
  void merged_unpacksInOrder_laterPackagesWin_onceACombination_untilAPartGoes() throws Exception {
    CodeDigest first = store.put(zip("python/shared.py", "first"));
    CodeDigest second = store.put(zip("python/shared.py", "second"));
    CodeDigest other = store.put(zip("bin/tool", "tool"));

    Path forward = store.merged(List.of(first.sha256Hex(), other.sha256Hex(), second.sha256Hex()));
    Path backward = store.merged(List.of(second.sha256Hex(), first.sha256Hex()));

    assertThat(Files.readString(forward.resolve("python/shared.py"))).isEqualTo("second");
    assertThat(Files.readString(forward.resolve("bin/tool"))).isEqualTo("tool");
    assertThat(Files.getPosixFilePermissions(forward.resolve("python")))
        .doesNotContain(PosixFilePermission.OWNER_WRITE);
    assertThat(Files.readString(backward.resolve("python/shared.py"))).isEqualTo("first");
    assertThat(store.merged(List.of(second.sha256Hex(), first.sha256Hex())))
        .as("made once per combination")
        .isEqualTo(backward);

    store.retainOnly(Set.of(first.sha256Hex(), second.sha256Hex()));
    assertThat(forward).as("it used a deleted package").doesNotExist();
    assertThat(backward).exists();
  }

  @Test
  void aZipWithTwoEntriesForOneFile_isRejected_namingTheEntry() throws Exception {
    // java.util.zip refuses duplicates; the second name normalises to the same file
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
            e -> {
              assertThat(e.reason()).contains("entry './a.py' appears more than once");
              assertThat(e.overSizeLimit()).isFalse();
            });
  }

  @Test
  void aZipWithAnEntryOutsideItsDirectory_isRejected_andStoresNothing() throws Exception {
    assertThatThrownBy(() -> store.put(zip("../escape.py", "x")))
        .isInstanceOf(StorageException.Rejected.class);
    assertThat(Files.exists(root.getParent().resolve("escape.py"))).isFalse();
  }
}
