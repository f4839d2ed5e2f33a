package dev.kiln.bench;

/**
 * One benchmark suite: it measures Kiln and its baselines in the same run and fills a report.
 * Suites share one Kiln per run (the {@link BenchContext}); each creates the functions it needs
 * under names of its own.
 */
interface Suite {

  String name();

  void run(BenchContext context, SuiteReport report) throws Exception;
}
