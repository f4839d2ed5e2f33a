package dev.kiln.bench;

/**
 * The density suite's bare Java runtime: a JVM, started with the flags Kiln gives a function's JVM,
 * that loads this one class and waits. What a JVM holds before any platform or handler code.
 */
public final class IdleJvm {

  private IdleJvm() {}

  public static void main(String[] args) throws InterruptedException {
    Thread.sleep(Long.MAX_VALUE);
  }
}
