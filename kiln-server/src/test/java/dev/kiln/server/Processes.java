package dev.kiln.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/** What the operating system says about a process, for tests that check nothing is left over. */
final class Processes {

  private Processes() {}

  /**
   * True while {@code pid} is a running process. A process that has exited but not yet been reaped
   * by its parent (a zombie, as instances of a killed server are until init collects them) holds no
   * resources and runs no code: it does not count.
   */
  static boolean running(long pid) {
    return runningOrNot(pid);
  }

  /**
   * The running processes with {@code argument} among their arguments: a marker a test's function
   * gives the helper processes it starts ({@code sleep 4244}), so that the test can count them.
   */
  static java.util.List<ProcessHandle> withArgument(String argument) {
    return ProcessHandle.allProcesses()
        .filter(
            p ->
                p.info()
                    .arguments()
                    .map(a -> java.util.List.of(a).contains(argument))
                    .orElse(false))
        .filter(p -> running(p.pid()))
        .toList();
  }

  /**
   * The host pid of a running instance, from the record its sandbox driver keeps in the data
   * directory. A function inside the Linux sandbox sees its own pid namespace, so it names its
   * instance by its log stream ({@code 2026/11/25/[$LATEST]<instance id>}) instead.
   */
  static long instancePid(Path dataDir, String logStream) throws IOException {
    String stream = logStream.replace("\"", "");
    String id = stream.substring(stream.lastIndexOf(']') + 1);
    return recordedPid(dataDir.resolve("instances").resolve(id));
  }

  /**
   * The host pid of the running instance whose output so far contains {@code text}, if one does.
   */
  static Optional<Long> instanceWhoseLogContains(Path dataDir, String text) throws IOException {
    try (Stream<Path> dirs = Files.list(dataDir.resolve("instances"))) {
      for (Path dir : dirs.toList()) {
        Path log = dir.resolve("output.log");
        if (Files.exists(log) && Files.readString(log).contains(text)) {
          return Optional.of(recordedPid(dir));
        }
      }
    }
    return Optional.empty();
  }

  private static long recordedPid(Path instanceDir) throws IOException {
    return Long.parseLong(Files.readString(instanceDir.resolve("pid")).trim().split(" ")[0]);
  }

  private static boolean runningOrNot(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException e) {
      return false;
    }
  }
}
