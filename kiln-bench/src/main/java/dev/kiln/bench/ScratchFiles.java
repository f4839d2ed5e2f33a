package dev.kiln.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Removal of the bench's scratch directories, best effort: a leftover file is no failure. */
final class ScratchFiles {

  private ScratchFiles() {}

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (var walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // a file a sandbox left read-only or busy: the temporary directory will hold it
        }
      }
    } catch (IOException e) {
      // the tree changed or vanished while walking it: nothing more to do
    }
  }
}
