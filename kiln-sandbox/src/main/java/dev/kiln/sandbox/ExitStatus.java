package dev.kiln.sandbox;

import java.util.Map;

/**
 * How an instance's main process ended, worded as Lambda words it in {@code Runtime.ExitError}:
 * {@code exit status 1} or {@code signal: killed}.
 *
 * @param outOfMemory whether the kernel killed the instance for going over its memory limit, as far
 *     as the driver can tell (only drivers with a memory limit can)
 */
public record ExitStatus(int code, int signal, boolean outOfMemory) {

  private static final Map<Integer, String> SIGNAL_NAMES =
      Map.of(
          1, "hangup",
          2, "interrupt",
          3, "quit",
          4, "illegal instruction",
          6, "aborted",
          7, "bus error",
          8, "floating point exception",
          9, "killed",
          11, "segmentation fault",
          15, "terminated");

  /** From the JDK's exit value, which reports death by signal N as 128 + N. */
  public static ExitStatus fromExitValue(int value) {
    if (value > 128 && value < 128 + 65) {
      return new ExitStatus(value, value - 128, false);
    }
    return new ExitStatus(value, 0, false);
  }

  /** The same exit, known to be the kernel's OOM kill. */
  public ExitStatus asOutOfMemory() {
    return new ExitStatus(code, signal, true);
  }

  public boolean bySignal() {
    return signal != 0;
  }

  public String describe() {
    if (bySignal()) {
      return "signal: " + SIGNAL_NAMES.getOrDefault(signal, "signal " + signal);
    }
    return "exit status " + code;
  }
}
