package dev.kiln.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every driver does with an instance's processes and directory: kill a process tree, measure
 * its peak memory, record its pid so that a Kiln killed with -9 can find it again, and delete the
 * instance's directory.
 */
final class ProcessTrees {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessTrees.class);
  private static final String PID_FILE = "pid";

  private ProcessTrees() {}

  /** The path of a system program, looked for where distributions install them. */
  static Optional<String> executable(String name) {
    for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p.toString());
      }
    }
    return Optional.empty();
  }

  /**
   * Runs a system program to completion, feeding it {@code input}; fails with the program's own
   * words when it fails or takes over 30 seconds.
   */
  static void run(List<String> command, String input) throws IOException {
    Process p = ProcessSpawner.start(new ProcessBuilder(command).redirectErrorStream(true));
    try (var in = p.getOutputStream()) {
      in.write(input.getBytes(StandardCharsets.UTF_8));
    }
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + " took over 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted while running " + command.get(0), e);
    }
    if (p.exitValue() != 0) {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      throw new IOException(String.join(" ", command) + " failed: " + out);
    }
  }

  /** Kills {@code root} and every descendant, leaves first so that none escapes to init. */
  static void killTree(ProcessHandle root) {
    // kill parents before children would let children escape to init; kill leaves first, and go
    // round again for anything forked meanwhile
    for (int round = 0; round < 5; round++) {
      List<ProcessHandle> tree = root.descendants().toList();
      if (tree.isEmpty()) {
        break;
      }
      tree.forEach(ProcessHandle::destroyForcibly);
    }
    root.destroyForcibly();
  }

  /** Writes the pid and start time of an instance's main process into its directory. */
  static void recordPid(Path instanceDir, ProcessHandle handle) throws IOException {
    Files.writeString(
        instanceDir.resolve(PID_FILE),
        handle.pid() + " " + handle.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
  }

  /**
   * Kills the process tree recorded in {@code instanceDir}, if that process is still the one that
   * was recorded (a pid can be reused after a reboot).
   */
  static void killRecorded(Path instanceDir) {
    Path pidFile = instanceDir.resolve(PID_FILE);
    if (!Files.isRegularFile(pidFile)) {
      return;
    }
    try {
      String[] parts = Files.readString(pidFile).trim().split(" ");
      long pid = Long.parseLong(parts[0]);
      long started = parts.length > 1 ? Long.parseLong(parts[1]) : 0;
      ProcessHandle.of(pid)
          .filter(
              p ->
                  p.info()
                      .startInstant()
                      .map(i -> Math.abs(i.toEpochMilli() - started) < 1000)
                      .orElse(false))
          .ifPresent(
              p -> {
                LOG.info("killing instance process {} left by an earlier Kiln", pid);
                killTree(p);
              });
    } catch (IOException | NumberFormatException e) {
      LOG.warn("could not read {}: {}", pidFile, e.toString());
    }
  }

  /** The regular files in {@code dir}; none when it is missing. */
  static List<Path> files(Path dir) {
    return entries(dir, Files::isRegularFile);
  }

  /** The instance directories under {@code instancesRoot}. */
  static List<Path> instanceDirs(Path instancesRoot) {
    return entries(instancesRoot, Files::isDirectory);
  }

  private static List<Path> entries(Path dir, DirectoryStream.Filter<Path> which) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, which)) {
      List<Path> out = new ArrayList<>();
      entries.forEach(out::add);
      return out;
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("could not list {}: {}", dir, e.toString());
      return List.of();
    }
  }

  /** Deletes {@code dir} and everything below it, as far as it can. */
  static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.debug("could not remove {}: {}", dir, e.toString());
    }
  }

  /**
   * The sum of the peak resident sets of {@code pid} and its descendants, found through {@code
   * /proc/PID/task/TID/children}: a few small reads for a typical runtime, where walking the whole
   * process table (as {@link ProcessHandle#descendants} does) would cost far more on every
   * invocation.
   */
  static long treePeakRss(long pid) {
    return treePeakRss(pid, 0);
  }

  private static long treePeakRss(long pid, int depth) {
    long total = peakRss(pid);
    if (depth > 32) {
      return total;
    }
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    try (DirectoryStream<Path> threads = Files.newDirectoryStream(tasks)) {
      for (Path thread : threads) {
        String children = Files.readString(thread.resolve("children")).trim();
        if (!children.isEmpty()) {
          for (String child : children.split(" ")) {
            total += treePeakRss(Long.parseLong(child), depth + 1);
          }
        }
      }
    } catch (IOException | UncheckedIOException | NumberFormatException e) {
      // exited meanwhile, or no /proc
    }
    return total;
  }

  private static long peakRss(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | UncheckedIOException | NumberFormatException e) {
      // gone, or not Linux
    }
    return 0;
  }

  private static final Optional<String> KILL = executable("kill");

  /** SIGKILL to every process of a process group that is left, quietly. */
  static void killGroup(long pgid) {
    if (KILL.isEmpty()) {
      return;
    }
    try {
      Process p =
          ProcessSpawner.start(
              new ProcessBuilder(KILL.get(), "-KILL", "--", "-" + pgid)
                  .redirectErrorStream(true)
                  .redirectOutput(ProcessBuilder.Redirect.DISCARD));
      p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (IOException e) {
      // nothing left to kill, or no way to: the group dies with the machine
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Writes one line to a process's standard input and closes it. */
  static void releaseStart(Process process) {
    try (var in = process.getOutputStream()) {
      in.write('\n');
    } catch (IOException e) {
      // the process is gone already: nothing waits for the line
    }
  }

  /** Standard input for a sandbox's first process: a pipe when it is held at start. */
  static ProcessBuilder.Redirect stdin(SandboxSpec spec) {
    return spec.heldAtStart()
        ? ProcessBuilder.Redirect.PIPE
        : ProcessBuilder.Redirect.from(new java.io.File("/dev/null"));
  }
}
