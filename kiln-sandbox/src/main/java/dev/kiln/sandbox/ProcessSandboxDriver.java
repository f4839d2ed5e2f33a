package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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

  private final Optional<String> setsid = ProcessTrees.executable("setsid");

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
    builder.redirectInput(ProcessTrees.stdin(spec));
    Process process = ProcessSpawner.start(builder);
    ProcessHandle handle = process.toHandle();
    ProcessTrees.recordPid(spec.instanceDir(), handle);
    return new ProcessSandbox(process, spec.instanceDir(), output, setsid.isPresent());
  }

  @Override
  public String describe() {
    return "process sandbox: own session and TMPDIR per instance, process tree killed on exit;"
        + " NOT in force: memory, CPU, process-count and /tmp size limits, filesystem isolation";
  }

  @Override
  public void reapLeftovers(Path instancesRoot, java.util.function.Consumer<Path> salvage) {
    for (Path dir : ProcessTrees.instanceDirs(instancesRoot)) {
      ProcessTrees.killRecorded(dir);
      salvage.accept(dir);
      ProcessTrees.deleteTree(dir);
    }
  }

  private static final class ProcessSandbox implements Sandbox {
    private final Process process;
    private final Path instanceDir;
    private final Path output;
    private final CompletableFuture<ExitStatus> exit;

    private final boolean ownGroup;

    /**
     * @param ownGroup the main process leads a process group of its own (setsid): whatever the
     *     instance started that outlives it, orphaned by then, is still found through the group
     */
    ProcessSandbox(Process process, Path instanceDir, Path output, boolean ownGroup) {
      this.process = process;
      this.instanceDir = instanceDir;
      this.output = output;
      this.ownGroup = ownGroup;
      this.exit =
          process
              .onExit()
              .thenApply(
                  p -> {
                    // the instance is over: its extensions and strays go with its main process
                    killGroup();
                    return ExitStatus.fromExitValue(p.exitValue());
                  });
    }

    private void killGroup() {
      if (ownGroup) {
        ProcessTrees.killGroup(process.pid());
      }
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
      return ProcessTrees.treePeakRss(process.pid());
    }

    @Override
    public void removeFiles() {
      exit.thenRun(() -> ProcessTrees.deleteTree(instanceDir));
    }

    @Override
    public void releaseStart() {
      ProcessTrees.releaseStart(process);
    }

    @Override
    public Optional<Path> tmpOnHost() {
      return Optional.of(instanceDir.resolve("tmp"));
    }

    @Override
    public void kill() {
      ProcessTrees.killTree(process.toHandle());
      killGroup();
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
