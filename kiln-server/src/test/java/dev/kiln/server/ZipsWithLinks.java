package dev.kiln.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/** Zips with Unix modes (symbolic links, executables), which java.util.zip cannot write. */
final class ZipsWithLinks {

  private ZipsWithLinks() {}

  /** A zip of one executable file, as {@code chmod +x bootstrap; zip} makes it. */
  static byte[] executable(String name, byte[] content) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
      ZipArchiveEntry entry = new ZipArchiveEntry(name);
      entry.setUnixMode(0100755);
      zip.putArchiveEntry(entry);
      zip.write(content);
      zip.closeArchiveEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A zip of text files, those named in {@code executables} with mode 0755. */
  static byte[] withExecutables(
      java.util.Map<String, String> files, java.util.Set<String> executables) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
      for (var file : files.entrySet()) {
        ZipArchiveEntry entry = new ZipArchiveEntry(file.getKey());
        entry.setUnixMode(executables.contains(file.getKey()) ? 0100755 : 0100644);
        zip.putArchiveEntry(entry);
        zip.write(file.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeArchiveEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static byte[] symlink(String name, String target) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
      ZipArchiveEntry entry = new ZipArchiveEntry(name);
      entry.setUnixMode(0120777);
      zip.putArchiveEntry(entry);
      zip.write(target.getBytes(StandardCharsets.UTF_8));
      zip.closeArchiveEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
