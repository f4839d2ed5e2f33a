package dev.kiln.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How a run is sized, decided once from the command line. Smoke mode shrinks every phase to a
 * fraction of a second and every count to a handful: it proves the harness works end to end, and
 * its figures mean nothing.
 *
 * @param commandLine the command that reproduces this run, printed above every table
 * @param clients the client counts of the warm latency suite (1 and N)
 * @param concurrency the concurrency levels of the throughput suite
 * @param coldStarts cold starts per language in the cold suite, and bare interpreter starts
 * @param coldPause how long the cold suite waits before each cold start (zero: back to back)
 * @param burstCalls simultaneous calls in the burst suite
 * @param asyncClients clients sending Event invocations in the async suite
 * @param zipSizesMb sizes of the deployment packages the control suite creates functions with
 * @param createsPerSize CreateFunction calls (and unzips) per zip size in the control suite
 * @param storedFunctions functions stored for the control suite's ListFunctions and GetFunction
 * @param idleInstances idle instances per language the density suite starts
 * @param esmRecords records per source in the esm suite's BatchSize 1 run (10 times as many at
 *     BatchSize 100)
 * @param esmLatencyRecords paced records per source in the esm suite's latency run
 * @param esmSources the sources the esm suite measures: kafka, sqs, postgres
 */
record BenchSettings(
    String commandLine,
    boolean smoke,
    Duration warmup,
    Duration duration,
    List<Integer> clients,
    List<Integer> concurrency,
    List<Language> languages,
    int coldStarts,
    Duration coldPause,
    int burstCalls,
    int asyncClients,
    List<Integer> zipSizesMb,
    int createsPerSize,
    int storedFunctions,
    int idleInstances,
    int esmRecords,
    int esmLatencyRecords,
    List<String> esmSources,
    String sandbox,
    Path resultsDir) {

  /** Memory of every function the bench creates: one full vCPU, so CPU shares never throttle. */
  static final int FUNCTION_MEMORY_MB = 1769;
}
