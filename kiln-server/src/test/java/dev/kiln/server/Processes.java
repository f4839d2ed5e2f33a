package dev.kiln.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the operating system says about a process, for tests that check nothing is left over. */
final class Processes {

  private Processes() {}

  /**
   * True while {@code pid} is a running process. A process that has exited but not yet been reaped
   * by its parent (a zombie, as instances of a killed server are until init collects them) holds no
   * resources and runs no code: it does not count.
   */
  static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException e) {
      return false;
    }
  }
}
