package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.store.LogStore;
import dev.kiln.store.UsageStore;
import dev.kiln.testing.InMemoryLogStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The log writer and the usage meter run on the thread factory they are built with, not on threads
 * of their own making: the test's factory counts what it makes and names it, and the store sees its
 * writes arrive on that thread.
 */
class InjectedThreadsTest {

  /** Makes platform daemon threads named {@code name}, and counts them. */
  static final class CountingThreads implements ThreadFactory {
    final String name;
    final AtomicInteger made = new AtomicInteger();
    final List<Thread> threads = new CopyOnWriteArrayList<>();

    CountingThreads(String name) {
      this.name = name;
    }

    @Override
    public Thread newThread(Runnable r) {
      made.incrementAndGet();
      Thread t = Thread.ofPlatform().daemon().name(name).unstarted(r);
      threads.add(t);
      return t;
    }
  }

  @Test
  void theLogWriter_writesOnTheOneThreadItsFactoryMade() {
    CountingThreads threads = new CountingThreads("test-log-writer");
    List<String> appendedOn = new CopyOnWriteArrayList<>();
    LogStore memory = new InMemoryLogStore(InstantSource.system());
    LogStore store =
        (LogStore)
            Proxy.newProxyInstance(
                LogStore.class.getClassLoader(),
                new Class<?>[] {LogStore.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("append")) {
                    appendedOn.add(Thread.currentThread().getName());
                  }
                  try {
                    return method.invoke(memory, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });

    BufferedLogWriter writer =
        BufferedLogWriter.builder(store, Duration.ofDays(1), 1 << 20).threads(threads).build();
    try {
      assertThat(threads.made).as("one thread, made at build").hasValue(1);
      assertThat(threads.threads.getFirst().isAlive()).as("and started").isTrue();

      // now, or the writer's first prune takes it
      writer.record("/aws/lambda/f", "s", System.currentTimeMillis(), "hello\n");
      writer.sync();
      assertThat(appendedOn).isNotEmpty().containsOnly("test-log-writer");
      assertThat(
              memory
                  .events(
                      "/aws/lambda/f",
                      "s",
                      0,
                      Long.MAX_VALUE,
                      Optional.empty(),
                      Optional.empty(),
                      10,
                      true)
                  .stream()
                  .map(LogStore.StoredEvent::message))
          .containsExactly("hello");
    } finally {
      writer.close();
    }
    assertThat(threads.threads.getFirst().isAlive()).as("ended by close").isFalse();
    assertThat(threads.made).as("and no other thread was made").hasValue(1);
  }

  @Test
  void theUsageMeter_flushesOnTheThreadItsFactoryMade() {
    CountingThreads threads = new CountingThreads("test-usage");
    List<String> addedOn = new CopyOnWriteArrayList<>();
    List<UsageStore.Increment> added = new CopyOnWriteArrayList<>();
    UsageStore store =
        new UsageStore() {
          @Override
          public void add(List<UsageStore.Increment> increments) {
            if (!increments.isEmpty()) {
              addedOn.add(Thread.currentThread().getName());
              added.addAll(increments);
            }
          }

          @Override
          public List<UsageStore.Usage> usage(long from, long to, Optional<String> function) {
            return List.of();
          }

          @Override
          public void check() {}

          @Override
          public void close() {}
        };

    UsageMeter meter = UsageMeter.builder(store).threads(threads).build();
    try {
      assertThat(threads.made).as("the flusher, made at build").hasValue(1);
      meter.record("f", 0, 100, 128, 512, false);
      // the flusher writes every two seconds, on its own thread
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !addedOn.isEmpty());
      assertThat(addedOn).containsOnly("test-usage");
      assertThat(added).singleElement().satisfies(i -> assertThat(i.mbMs()).isEqualTo(12_800));
    } finally {
      meter.close();
    }
    assertThat(threads.threads.getFirst().isAlive()).as("ended by close").isFalse();
    assertThat(threads.made).hasValue(1);
  }
}
