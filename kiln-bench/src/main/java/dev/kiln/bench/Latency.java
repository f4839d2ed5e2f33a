package dev.kiln.bench;

import org.HdrHistogram.Histogram;

/**
 * A latency distribution as reported: the percentiles in microseconds, with the count of calls and
 * failures behind them. Made from an HdrHistogram of nanoseconds.
 */
record Latency(
    double p50Micros,
    double p90Micros,
    double p99Micros,
    double p999Micros,
    double maxMicros,
    double meanMicros,
    long calls,
    long errors) {

  static Latency of(Histogram nanos, long errors) {
    return new Latency(
        micros(nanos, 50),
        micros(nanos, 90),
        micros(nanos, 99),
        micros(nanos, 99.9),
        nanos.getMaxValue() / 1000.0,
        nanos.getTotalCount() == 0 ? 0 : nanos.getMean() / 1000.0,
        nanos.getTotalCount(),
        errors);
  }

  private static double micros(Histogram nanos, double percentile) {
    return nanos.getValueAtPercentile(percentile) / 1000.0;
  }

  double[] percentiles() {
    return new double[] {p50Micros, p90Micros, p99Micros, p999Micros};
  }

  static final String[] PERCENTILE_NAMES = {"p50", "p90", "p99", "p99.9"};
}
