package dev.kiln.sandbox;

/**
 * The resource limits of one instance, as Lambda derives them from a function's memory size.
 *
 * <p>Lambda gives CPU in proportion to memory: 1769 MB buys one full vCPU, less buys a share of
 * one, more buys more than one (almost six at the 10240 MB maximum). Kiln enforces the share as a
 * CFS quota per 100 ms period, so a 128 MB function gets 7.2 ms of CPU in every 100 ms however idle
 * the host is, just as on Lambda.
 *
 * @param memoryBytes the hard memory limit; the instance is OOM-killed beyond it
 * @param cpuQuotaMicros CPU time allowed per {@link #CPU_PERIOD_MICROS}, summed over all CPUs
 * @param maxProcesses the most processes and threads the instance may have at once
 */
public record CgroupLimits(long memoryBytes, long cpuQuotaMicros, int maxProcesses) {

  /** The memory that buys one full vCPU on Lambda. */
  public static final int MB_PER_VCPU = 1769;

  public static final long CPU_PERIOD_MICROS = 100_000;

  /** Lambda's limit on processes and threads per execution environment. */
  public static final int MAX_PROCESSES = 1024;

  /** The kernel refuses quotas below 1 ms. */
  private static final long MIN_QUOTA_MICROS = 1_000;

  public static CgroupLimits forMemory(int memoryMb) {
    long quota = Math.round((double) memoryMb * CPU_PERIOD_MICROS / MB_PER_VCPU);
    return new CgroupLimits(
        memoryMb * 1024L * 1024L, Math.max(MIN_QUOTA_MICROS, quota), MAX_PROCESSES);
  }

  /** The share of one CPU the quota allows: 1.0 is one full vCPU. */
  public double vcpus() {
    return (double) cpuQuotaMicros / CPU_PERIOD_MICROS;
  }
}
