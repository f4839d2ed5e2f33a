package dev.kiln.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ExtensionsTest {

  static RuntimeEvent event(String id) {
    return new RuntimeEvent(
        id, new byte[0], 1000, "arn:f", "Root=1-x", Optional.empty(), Optional.empty());
  }

  static String text(Optional<byte[]> event) {
    return new String(event.orElseThrow(), StandardCharsets.UTF_8);
  }

  @Test
  void initEnds_whenTheRuntimeAndEveryExtensionHaveCalledNext() throws Exception {
    Extensions extensions = new Extensions(Set.of("ext-a"));
    assertThat(extensions.allRegistered()).isNotDone();
    Extensions.Extension a = extensions.register("ext-a", List.of("INVOKE", "SHUTDOWN"));
    assertThat(extensions.allRegistered()).isDone();
    extensions.runtimePolled();
    assertThat(extensions.ready()).as("the extension has not called next yet").isNotDone();
    CompletableFuture<Optional<byte[]>> first =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return extensions.next(a);
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    extensions.ready().get();
    extensions.invoke(event("r1"), 123);
    assertThat(text(first.get()))
        .contains("\"eventType\":\"INVOKE\"")
        .contains("\"requestId\":\"r1\"");
    assertThat(extensions.idle()).as("busy with r1").isNotDone();
  }

  @Test
  void anExtensionFinishingInvoke_isNotDoneWithAShutdownSentMeanwhile() throws Exception {
    Extensions extensions = new Extensions(Set.of("ext-a"));
    Extensions.Extension a = extensions.register("ext-a", List.of("INVOKE", "SHUTDOWN"));
    extensions.runtimePolled();
    a.polledOnce = true;
    a.waiting = true;
    extensions.invoke(event("r1"), 123);
    CompletableFuture<Void> shutdown = extensions.shutdown("spindown", 456);
    // the extension comes back for its next event: it finished r1, but SHUTDOWN is waiting
    assertThat(text(extensions.next(a))).contains("\"requestId\":\"r1\"");
    assertThat(shutdown).as("SHUTDOWN is not yet taken, let alone done").isNotDone();
    assertThat(text(extensions.next(a))).contains("\"eventType\":\"SHUTDOWN\"");
    assertThat(shutdown).as("SHUTDOWN taken, not yet done").isNotDone();
    // the extension comes back once more: done with SHUTDOWN
    CompletableFuture.runAsync(
        () -> {
          try {
            extensions.next(a);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    shutdown.get(5, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void internalExtensions_cannotAskForShutdown_norRegisterAfterInit() {
    Extensions extensions = new Extensions(Set.of());
    assertThatThrownBy(() -> extensions.register("inside", List.of("SHUTDOWN")))
        .hasMessageContaining("internal extensions cannot register for SHUTDOWN");
    assertThatThrownBy(() -> extensions.register("odd", List.of("TELEMETRY")))
        .hasMessageContaining("Unknown event type TELEMETRY");
    extensions.register("inside", List.of("INVOKE"));
    assertThatThrownBy(() -> extensions.register("inside", List.of("INVOKE")))
        .hasMessageContaining("already registered");
    extensions.runtimePolled();
    assertThatThrownBy(() -> extensions.register("late", List.of("INVOKE")))
        .hasMessageContaining("after the init phase ended");
  }
}
