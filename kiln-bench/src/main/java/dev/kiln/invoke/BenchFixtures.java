package dev.kiln.invoke;

import dev.kiln.model.Account;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.sandbox.ExitStatus;
import dev.kiln.sandbox.Sandbox;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** What the kiln-invoke benchmarks build their objects from, with no process started. */
final class BenchFixtures {

  private BenchFixtures() {}

  /** A Python function version as Functions.resolve would resolve it; its code is never run. */
  static FunctionVersion version(String name) {
    FunctionConfig config =
        FunctionConfig.create(
            name,
            new CodeDigest("00".repeat(32), 1, 1),
            ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r"),
            Instant.now());
    return new FunctionVersion(
        config,
        Account.DEFAULT.functionArn(name),
        Path.of("/nonexistent/task"),
        new RuntimeTable.Launch(
            "python3.12",
            RuntimeTable.Family.PYTHON,
            List.of("/usr/bin/python3"),
            Path.of("/nonexistent/runtime")),
        Optional.empty(),
        true);
  }

  /**
   * A sandbox whose process never exits and cannot be frozen: what an idle instance's sandbox looks
   * like to the pool (the process driver cannot freeze either).
   */
  static final class IdleSandbox implements Sandbox {
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final Path output;

    IdleSandbox(Path output) {
      this.output = output;
    }

    @Override
    public long pid() {
      return -1;
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
      return Set.of();
    }

    @Override
    public long maxMemoryUsedBytes() {
      return 0;
    }

    @Override
    public void removeFiles() {}

    @Override
    public Optional<Path> tmpOnHost() {
      return Optional.empty();
    }

    @Override
    public void releaseStart() {}

    @Override
    public void kill() {
      exit.complete(new ExitStatus(0, 9, false));
    }

    @Override
    public void terminate(Duration grace) {
      kill();
    }
  }
}
