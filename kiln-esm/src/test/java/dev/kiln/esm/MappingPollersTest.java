package dev.kiln.esm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.esm.source.EventSourceKind.Semantics;
import dev.kiln.invoke.FunctionVersion;
import dev.kiln.invoke.InvocationResult;
import dev.kiln.invoke.Invocations;
import dev.kiln.invoke.InvokeRequest;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.testing.InMemoryMetadataStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The reconciliation: what runs follows what the store says, state by state. */
class MappingPollersTest {

  static final Instant T0 = Instant.parse("2026-12-06T12:00:00Z");

  final InMemoryMetadataStore store = new InMemoryMetadataStore();
  final FakeSource source = new FakeSource(Semantics.QUEUE);
  final List<String> invoked = new CopyOnWriteArrayList<>();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final java.util.concurrent.atomic.AtomicInteger concurrent =
      new java.util.concurrent.atomic.AtomicInteger();
  final java.util.concurrent.atomic.AtomicInteger peak =
      new java.util.concurrent.atomic.AtomicInteger();
  volatile Duration invocationTime = Duration.ZERO;
  ExecutorService threads;
  MappingPollers pollers;

  @BeforeEach
  void start() {
    store.createFunction(
        FunctionConfig.create(
            "f",
            new CodeDigest("ab".repeat(32), 10, 20),
            ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r"),
            T0),
        Map.of(),
        Optional.empty());
    threads = Executors.newVirtualThreadPerTaskExecutor();
    pollers =
        MappingPollers.builder()
            .store(store)
            .kinds(new EventSourceKinds(List.of(source)))
            .invocations(
                new Invocations() {
                  @Override
                  public InvocationResult run(InvokeRequest request) {
                    int now = concurrent.incrementAndGet();
                    peak.accumulateAndGet(now, Math::max);
                    try {
                      Thread.sleep(invocationTime.toMillis());
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    } finally {
                      concurrent.decrementAndGet();
                    }
                    invoked.add(new String(request.payload(), StandardCharsets.UTF_8));
                    return new InvocationResult.Success(
                        "r", "$LATEST", new byte[0], Optional.empty());
                  }

                  @Override
                  public FunctionVersion resolve(FunctionRef function) {
                    throw new UnsupportedOperationException();
                  }
                })
            .onFailure((m, arn, r) -> {})
            .registry(registry)
            .executor(threads)
            .context(dev.kiln.esm.source.TestSourceContext.of("us-east-1"))
            .filters(patterns -> v -> true)
            .timing(new RetryTiming(Duration.ofMillis(50), Duration.ofMillis(200)))
            .build();
  }

  @AfterEach
  void stop() {
    pollers.close();
    threads.shutdownNow();
  }

  EventSourceMapping create(String uuid) {
    EventSourceMapping m =
        new EventSourceMapping.Builder(uuid, "fake", "f", T0)
            .eventSourceArn(Optional.of("arn:aws:fake:q-" + uuid))
            .batchSize(10)
            .build();
    store.createEventSourceMapping(m, m.eventSourceArn().get());
    return m;
  }

  EventSourceMapping stored(String uuid) {
    return store.eventSourceMapping(uuid).orElseThrow();
  }

  @Test
  void aNewMapping_isEnabledByTheReconciliation_andItsPollerDelivers() {
    create("m1");
    assertThat(stored("m1").state()).isEqualTo("Creating");
    pollers.reconcile();
    assertThat(stored("m1").state()).isEqualTo("Enabled");
    assertThat(pollers.runningMappings()).containsExactly("m1");

    source.offer(FakeSource.record("a", "{}", T0));
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> source.completed.size() == 1);
    assertThat(invoked).hasSize(1);
    assertThat(
            registry
                .get("kiln_esm_records")
                .tags("uuid", "m1", "outcome", "invoked")
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  @Test
  void aQueuesBatchesRunAtOnce_upToMaximumConcurrency_neverPastIt() {
    invocationTime = Duration.ofMillis(200);
    EventSourceMapping m =
        new EventSourceMapping.Builder("m1", "fake", "f", T0)
            .eventSourceArn(Optional.of("arn:aws:fake:q-m1"))
            .batchSize(1)
            .maximumConcurrency(Optional.of(3))
            .build();
    store.createEventSourceMapping(m, m.eventSourceArn().get());
    for (int i = 0; i < 30; i++) {
      source.offer(FakeSource.record("r" + i, "{}", T0));
    }
    pollers.reconcile();
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> source.completed.size() == 30);
    assertThat(peak.get()).as("batches at once").isEqualTo(3);
  }

  @Test
  void disabling_stopsThePoller_andSettlesAsDisabled_reEnablingStartsItAgain() {
    create("m1");
    pollers.reconcile();
    store.updateEventSourceMapping(
        "m1", m -> m.toBuilder().enabled(false).state("Disabling").build());
    pollers.reconcile();
    assertThat(pollers.runningMappings()).isEmpty();
    assertThat(stored("m1").state()).isEqualTo("Disabled");

    source.offer(FakeSource.record("a", "{}", T0));
    store.updateEventSourceMapping(
        "m1", m -> m.toBuilder().enabled(true).state("Enabling").build());
    pollers.reconcile();
    assertThat(stored("m1").state()).isEqualTo("Enabled");
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> source.completed.size() == 1);
    assertThat(source.opened).isEqualTo(2);
    // the meters are the mapping's: they went on counting across its two pollers
    source.offer(FakeSource.record("b", "{}", T0));
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> source.completed.size() == 2);
    assertThat(
            registry
                .get("kiln_esm_records")
                .tags("uuid", "m1", "outcome", "invoked")
                .counter()
                .count())
        .isEqualTo(2.0);
  }

  @Test
  void aChangedSetting_restartsThePoller_butItsOwnStateReportsDoNot() {
    create("m1");
    pollers.reconcile();
    assertThat(source.opened).isEqualTo(1);
    store.updateEventSourceMapping("m1", m -> m.toBuilder().lastProcessingResult("OK").build());
    pollers.reconcile();
    assertThat(source.opened).isEqualTo(1);
    store.updateEventSourceMapping("m1", m -> m.toBuilder().batchSize(5).state("Updating").build());
    pollers.reconcile();
    assertThat(source.opened).isEqualTo(2);
    assertThat(stored("m1").state()).isEqualTo("Enabled");
  }

  @Test
  void deleting_stopsThePoller_givesTheSourceBackItsState_andRemovesTheMapping() {
    create("m1");
    pollers.reconcile();
    store.updateEventSourceMapping("m1", m -> m.toBuilder().state("Deleting").build());
    pollers.reconcile();
    assertThat(store.eventSourceMapping("m1")).isEmpty();
    assertThat(pollers.runningMappings()).isEmpty();
    assertThat(source.deleted).containsExactly("m1");
    assertThat(registry.find("kiln_esm_records").tag("uuid", "m1").meters()).isEmpty();
  }

  @Test
  void aMappingThatWentWithItsFunction_isStoppedAndItsSourceStateGivenBack() {
    create("m1");
    pollers.reconcile();
    store.deleteFunction("f");
    pollers.reconcile();
    assertThat(pollers.runningMappings()).isEmpty();
    assertThat(source.deleted).containsExactly("m1");
  }

  @Test
  void aDisabledMappingThatWentWithItsFunction_alsoGivesItsSourceStateBack() {
    create("m1");
    store.updateEventSourceMapping("m1", m -> m.toBuilder().enabled(false).build());
    pollers.reconcile();
    assertThat(pollers.runningMappings()).isEmpty();
    store.deleteFunction("f");
    pollers.reconcile();
    assertThat(source.deleted).containsExactly("m1");
    pollers.reconcile();
    assertThat(source.deleted).as("only once").containsExactly("m1");
  }

  @Test
  void anUnreachableSource_isReportedInLastProcessingResult_andRecoversByItself() {
    source.unavailable = true;
    create("m1");
    pollers.reconcile();
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              pollers.reconcile();
              return stored("m1").lastProcessingResult().equals("PROBLEM: Connection error.");
            });
    assertThat(stored("m1").state()).isEqualTo("Enabled");

    source.unavailable = false;
    source.offer(FakeSource.record("a", "{}", T0));
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> source.completed.size() == 1);
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              pollers.reconcile();
              return stored("m1").lastProcessingResult().equals("OK");
            });
  }
}
