package dev.kiln.esm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.invoke.Invocations;
import dev.kiln.model.Account;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.PollerLeases;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the pollers of every mapping this node holds, so that what runs is what the store says.
 *
 * <p>The model is a reconciliation, as a Kubernetes controller's: the store holds each mapping's
 * wanted state (Enabled true or false, or Deleting), and every {@link #RECONCILE_EVERY} (and at
 * once after any change through the API) {@link #reconcile} compares it with the pollers running
 * and acts: starts a poller for an enabled mapping this node {@link PollerLeases holds}, restarts
 * it when the mapping's settings changed (its revision moved and more than its state did), stops it
 * when the mapping is disabled, deleted, or no longer this node's, and moves the stored state on
 * (Creating, Enabling, Updating → Enabled; Disabling → Disabled; Deleting → gone, after the source
 * gave back what it kept for it). A crash at any point leaves the store saying what is wanted, and
 * the next start's reconciliation finishes the job. A cluster gives each mapping to one node
 * through its leases; nothing else here changes.
 *
 * <p>Each poller reports its LastProcessingResult here; it is written to the store only when it
 * changes, not at every batch.
 *
 * <p>Threading: {@link #reconcile} runs under {@code this}, on the reconciliation loop or on an API
 * call's thread; {@code running} and {@code lastResults} are concurrent maps that pollers' workers
 * also read and write.
 */
public final class MappingPollers implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MappingPollers.class);

  static final Duration RECONCILE_EVERY = Duration.ofSeconds(2);
  private static final int PAGE = 500;

  private final MetadataStore store;
  private final EventSourceKinds kinds;
  private final Invocations invocations;
  private final FailureDestination onFailure;
  private final MeterRegistry registry;
  private final InstantSource clock;
  private final Executor executor;
  private final SourceContext context;
  private final PollerLeases leases;
  private final Function<List<String>, Predicate<JsonNode>> filters;
  private final Account account;
  private final RetryTiming timing;
  private final Map<String, MappingPoller> running = new ConcurrentHashMap<>();
  private final Map<String, String> lastResults = new ConcurrentHashMap<>();

  /** Each mapping's meters, kept across its pollers, removed when it goes. */
  private final Map<String, MappingMetrics> meters = new ConcurrentHashMap<>();

  /** Every mapping the last reconciliation saw, running or not: to know one that went. */
  private final Map<String, EventSourceMapping> known = new ConcurrentHashMap<>();

  private final Object wake = new Object();
  private volatile boolean closed;
  private volatile boolean wakeRequested;

  private MappingPollers(Builder b) {
    this.store = Objects.requireNonNull(b.store, "store");
    this.kinds = Objects.requireNonNull(b.kinds, "kinds");
    this.invocations = Objects.requireNonNull(b.invocations, "invocations");
    this.onFailure = Objects.requireNonNull(b.onFailure, "onFailure");
    this.registry = Objects.requireNonNull(b.registry, "registry");
    this.clock = Objects.requireNonNull(b.clock, "clock");
    this.executor = Objects.requireNonNull(b.executor, "executor");
    this.context = Objects.requireNonNull(b.context, "context");
    this.leases = Objects.requireNonNull(b.leases, "leases");
    this.filters = Objects.requireNonNull(b.filters, "filters");
    this.account = Objects.requireNonNull(b.account, "account");
    this.timing = Objects.requireNonNull(b.timing, "timing");
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Starts the reconciliation loop, which runs a first reconciliation at once. */
  public MappingPollers start() {
    executor.execute(this::loop);
    return this;
  }

  /** Asks for a reconciliation now (after a change through the API); returns at once. */
  public void wake() {
    synchronized (wake) {
      wakeRequested = true;
      wake.notifyAll();
    }
  }

  private void loop() {
    Thread.currentThread().setName("esm-reconciler");
    while (!closed) {
      try {
        reconcile();
      } catch (RuntimeException e) {
        LOG.error("event source mappings: reconciliation failed; trying again", e);
      }
      synchronized (wake) {
        if (!wakeRequested && !closed) {
          try {
            wake.wait(RECONCILE_EVERY.toMillis());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        wakeRequested = false;
      }
    }
  }

  /** Makes what runs match what the store says, once. */
  public synchronized void reconcile() {
    if (closed) {
      return;
    }
    Set<String> seen = new HashSet<>();
    Optional<String> marker = Optional.empty();
    do {
      MetadataStore.MappingPage page =
          store.eventSourceMappings(Optional.empty(), Optional.empty(), marker, PAGE);
      for (EventSourceMapping m : page.mappings()) {
        seen.add(m.uuid());
        known.put(m.uuid(), m);
        try {
          reconcile(m);
        } catch (RuntimeException e) {
          LOG.error("event source mapping {}: could not be reconciled", m.uuid(), e);
        }
      }
      marker = page.nextMarker();
    } while (marker.isPresent());
    // a mapping gone from the store went with its function, running or not
    for (String uuid : Set.copyOf(known.keySet())) {
      if (!seen.contains(uuid)) {
        EventSourceMapping gone = known.remove(uuid);
        MappingPoller p = running.remove(uuid);
        if (p != null) {
          p.stop();
        }
        leases.release(uuid);
        kinds.named(gone.kind()).ifPresent(k -> k.deleted(gone, context));
        lastResults.remove(uuid);
        forgetMeters(uuid);
      }
    }
  }

  private void reconcile(EventSourceMapping m) {
    String uuid = m.uuid();
    MappingPoller poller = running.get(uuid);
    if (m.state().equals(EventSourceMapping.DELETING)) {
      if (poller != null) {
        running.remove(uuid).stop();
      }
      leases.release(uuid);
      kinds.named(m.kind()).ifPresent(k -> k.deleted(m, context));
      store.deleteEventSourceMapping(uuid);
      lastResults.remove(uuid);
      known.remove(uuid);
      forgetMeters(uuid);
      return;
    }
    boolean wanted = m.enabled() && leases.hold(uuid);
    if (poller != null && (!wanted || !sameSettings(poller.mapping(), m))) {
      running.remove(uuid).stop();
      poller = null;
    }
    if (wanted && poller == null) {
      Optional<EventSourceKind> kind = kinds.named(m.kind());
      if (kind.isEmpty()) {
        LOG.error("event source mapping {} is of a kind this Kiln cannot read: {}", uuid, m.kind());
        return;
      }
      poller = poller(m, kind.get());
      running.put(uuid, poller);
      poller.start();
    }
    if (!m.enabled()) {
      leases.release(uuid);
    }
    String settled = m.enabled() ? EventSourceMapping.ENABLED : EventSourceMapping.DISABLED;
    String result = lastResults.get(uuid);
    boolean stateMoves = !m.state().equals(settled) && (wanted || !m.enabled());
    boolean resultMoves = result != null && !result.equals(m.lastProcessingResult());
    if (stateMoves || resultMoves) {
      store.updateEventSourceMapping(
          uuid,
          current -> {
            if (current.revision() != m.revision()) {
              return null; // changed meanwhile: the next round looks again
            }
            EventSourceMapping.Builder next = current.toBuilder();
            if (stateMoves) {
              next.state(settled).lastModified(clock.instant());
            }
            if (resultMoves) {
              next.lastProcessingResult(result);
            }
            return next.build();
          });
    }
  }

  private MappingPoller poller(EventSourceMapping m, EventSourceKind kind) {
    EventSourceReader reader = kind.open(m, context);
    String functionArn =
        account.functionArn(m.functionName()) + m.qualifier().map(q -> ":" + q).orElse("");
    return new MappingPoller(
        m,
        functionArn,
        kind,
        reader,
        filters.apply(m.filters()),
        invocations,
        onFailure,
        meters.compute(
            m.uuid(),
            (uuid, current) -> {
              if (current != null && current.isFor(m.functionName())) {
                return current;
              }
              if (current != null) {
                current.remove();
              }
              return new MappingMetrics(registry, uuid, m.functionName(), m.kind());
            }),
        executor,
        timing,
        clock,
        result -> {
          String before = lastResults.put(m.uuid(), result);
          if (!result.equals(before)) {
            wake();
          }
        });
  }

  private void forgetMeters(String uuid) {
    MappingMetrics m = meters.remove(uuid);
    if (m != null) {
      m.remove();
    }
  }

  /** Whether two copies of a mapping differ in no more than what the pollers themselves move. */
  static boolean sameSettings(EventSourceMapping a, EventSourceMapping b) {
    return settingsOf(a).equals(settingsOf(b));
  }

  private static EventSourceMapping settingsOf(EventSourceMapping m) {
    return m.toBuilder()
        .state("")
        .stateTransitionReason("")
        .lastProcessingResult("")
        .lastModified(Instant.EPOCH)
        .tags(Map.of())
        .revision(0)
        .build();
  }

  /** The mappings whose pollers run here, for tests and the health page. */
  public Set<String> runningMappings() {
    return Set.copyOf(running.keySet());
  }

  @Override
  public void close() {
    closed = true;
    wake();
    Map<String, MappingPoller> stopping = new HashMap<>(running);
    running.clear();
    stopping.values().forEach(MappingPoller::stop);
    for (var e : stopping.entrySet()) {
      try {
        e.getValue().awaitLoopEnd(Duration.ofSeconds(5));
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        break;
      }
      leases.release(e.getKey());
    }
  }

  public static final class Builder {
    private MetadataStore store;
    private EventSourceKinds kinds;
    private Invocations invocations;
    private FailureDestination onFailure;
    private MeterRegistry registry;
    private InstantSource clock = InstantSource.system();
    private Executor executor;
    private SourceContext context;
    private PollerLeases leases = PollerLeases.singleNode();
    private Function<List<String>, Predicate<JsonNode>> filters;
    private Account account = Account.DEFAULT;
    private RetryTiming timing = RetryTiming.DEFAULT;

    public Builder store(MetadataStore v) {
      store = v;
      return this;
    }

    public Builder kinds(EventSourceKinds v) {
      kinds = v;
      return this;
    }

    public Builder invocations(Invocations v) {
      invocations = v;
      return this;
    }

    public Builder onFailure(FailureDestination v) {
      onFailure = v;
      return this;
    }

    public Builder registry(MeterRegistry v) {
      registry = v;
      return this;
    }

    public Builder clock(InstantSource v) {
      clock = v;
      return this;
    }

    /** Runs the reconciliation loop, the pollers' loops and their workers: virtual threads. */
    public Builder executor(Executor v) {
      executor = v;
      return this;
    }

    public Builder context(SourceContext v) {
      context = v;
      return this;
    }

    public Builder leases(PollerLeases v) {
      leases = v;
      return this;
    }

    /** Compiles a mapping's FilterCriteria patterns into the test its records must pass. */
    public Builder filters(Function<List<String>, Predicate<JsonNode>> v) {
      filters = v;
      return this;
    }

    public Builder account(Account v) {
      account = v;
      return this;
    }

    public Builder timing(RetryTiming v) {
      timing = v;
      return this;
    }

    public MappingPollers build() {
      return new MappingPollers(this);
    }
  }
}
