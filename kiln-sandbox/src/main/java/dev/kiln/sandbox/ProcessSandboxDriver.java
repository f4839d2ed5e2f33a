package dev.kiln.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The portable driver: an instance is a plain child process in a session of its own ({@code
 * setsid}, so a Ctrl-C at Kiln's terminal reaches Kiln, which then shuts instances down in order,
 * and not the instances directly). It gives each instance a private {@code TMPDIR} and kills the
 * whole process tree when the instance ends, and nothing more: no memory, CPU or filesystem limits.
 *
 * <p>Each instance's pid and start time are written to its directory, so that a Kiln killed with -9
 * can find and kill what it left running when it starts again.
 */
public final class ProcessSandboxDriver implements SandboxDriver {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessSandboxDriver.class);
  private static final String PID_FILE = "pid";

  private final Optional<String> setsid = findExecutable("setsid");

  @Override
  public Sandbox start(SandboxSpec spec) throws IOException {
    Path tmp = spec.instanceDir().resolve("tmp");
    Files.createDirectories(tmp);
    List<String> command =
        setsid.isPresent()
            ? Stream.concat(Stream.of(setsid.get()), spec.command().stream()).toList()
            : spec.command();
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().clear();
    builder.environment().putAll(spec.environment());
    builder.environment().put("TMPDIR", tmp.toString());
    builder.directory(spec.taskRoot().toFile());
    builder.redirectErrorStream(true);
    Path output = spec.instanceDir().resolve("output.log");
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
    builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process process = builder.start();
    ProcessHandle handle = process.toHandle();
    Files.writeString(
        spec.instanceDir().resolve(PID_FILE),
        handle.pid() + " " + handle.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
    return new ProcessSandbox(process, spec.instanceDir(), output);
  }

  @Override
  public String describe() {
    return "process sandbox: own session and TMPDIR per instance, process tree killed on exit;"
        + " NOT in force: memory, CPU, process-count and /tmp size limits, filesystem isolation";
  }

  @Override
  public void reapLeftovers(Path instancesRoot) {
    if (!Files.isDirectory(instancesRoot)) {
      return;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(instancesRoot)) {
      for (Path dir : dirs) {
        Path pidFile = dir.resolve(PID_FILE);
        if (Files.isRegularFile(pidFile)) {
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
        }
        deleteTree(dir);
      }
    } catch (IOException | NumberFormatException e) {
      LOG.warn("could not look for leftover instances under {}: {}", instancesRoot, e.toString());
    }
  }

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

  /** Deletes {@code dir} and everything below it, as far as it can. */
  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.debug("could not remove {}: {}", dir, e.toString());
    }
  }

  private static Optional<String> findExecutable(String name) {
    for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p.toString());
      }
    }
    return Optional.empty();
  }

  private static final class ProcessSandbox implements Sandbox {
    private final Process process;
    private final Path instanceDir;
    private final Path output;
    private final CompletableFuture<ExitStatus> exit;

    ProcessSandbox(Process process, Path instanceDir, Path output) {
      this.process = process;
      this.instanceDir = instanceDir;
      this.output = output;
      this.exit = process.onExit().thenApply(p -> ExitStatus.fromExitValue(p.exitValue()));
    }

    @Override
    public long pid() {
      return process.pid();
    }

    @Override
    public Path outputFile() {
      return output;
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
      return exit;
    }

    @Override
    public Set<Long> pids() {
      Set<Long> pids = new HashSet<>();
      pids.add(process.pid());
      process.descendants().forEach(p -> pids.add(p.pid()));
      return pids;
    }

    @Override
    public long maxMemoryUsedBytes() {
      return treePeakRss(process.pid(), 0);
    }

    /**
     * The sum of the peak resident sets of {@code pid} and its descendants, found through {@code
     * /proc/PID/task/TID/children}: a few small reads for a typical runtime, where walking the
     * whole process table (as {@link ProcessHandle#descendants} does) would cost far more on every
     * invocation.
     */
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

    @Override
    public void removeFiles() {
      exit.thenRun(() -> deleteTree(instanceDir));
    }

    @Override
    public void kill() {
      killTree(process.toHandle());
    }

    @Override
    public void terminate(Duration grace) {
      // remember the tree now: once the main process is gone its children are no longer its
      List<ProcessHandle> tree = process.descendants().toList();
      tree.forEach(ProcessHandle::destroy);
      process.destroy();
      try {
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          kill();
        }
        tree.forEach(ProcessHandle::destroyForcibly);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
      }
    }
  }
}
