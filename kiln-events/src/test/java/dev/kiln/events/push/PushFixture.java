package dev.kiln.events.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.events.BusEvent;
import dev.kiln.events.EventPublisher;
import dev.kiln.events.RouterMetrics;
import dev.kiln.invoke.AsyncDispatcher;
import dev.kiln.invoke.AsyncInvocations;
import dev.kiln.invoke.Catalog;
import dev.kiln.model.Account;
import dev.kiln.model.CodeDigest;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionPolicy;
import dev.kiln.store.EventQueue;
import dev.kiln.store.LocalCodeStore;
import dev.kiln.testing.InMemoryEventQueue;
import dev.kiln.testing.InMemoryMetadataStore;
import dev.kiln.testing.ManualTime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parts a push source delivers through, over in-memory stores: a catalog with functions and
 * their policies, the async queue (whose dispatcher is never started, so what was queued stays
 * there to be read), a recording {@link EventPublisher}, and the router's meters.
 */
public final class PushFixture {

  public static final Account ACCOUNT = Account.DEFAULT;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An {@link EventPublisher} that records what is put on which bus. */
  public static final class RecordingBus implements EventPublisher {
    public final List<String> buses = new ArrayList<>();
    public final List<BusEvent> events = new ArrayList<>();

    @Override
    public synchronized String publish(String bus, BusEvent event) {
      buses.add(bus);
      events.add(event);
      return "event-" + events.size();
    }
  }

  public final ManualTime time = new ManualTime(Instant.parse("2026-12-07T01:00:00Z"));
  public final InMemoryMetadataStore store = new InMemoryMetadataStore();
  public final InMemoryEventQueue queue = new InMemoryEventQueue(time);
  public final Catalog catalog;
  public final AsyncInvocations async;
  public final RecordingBus bus = new RecordingBus();
  public final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  public final RouterMetrics metrics = new RouterMetrics(registry);

  public PushFixture(Path code) {
    catalog = Catalog.of(store, new LocalCodeStore(code), null, null, ACCOUNT, time);
    AsyncDispatcher dispatcher =
        AsyncDispatcher.builder(queue, catalog.eventInvokeConfigs(), ACCOUNT, null)
            .clock(time)
            .build();
    async = new AsyncInvocations(queue, dispatcher, time);
  }

  public void function(String name) {
    store.createFunction(
        FunctionConfig.create(
            name,
            new CodeDigest("ab".repeat(32), 10, 20),
            ConfigPatch.of("python3.12", "app.handler", "arn:aws:iam::000000000000:role/r"),
            time.instant()),
        Map.of(),
        Optional.empty());
  }

  /** Lets {@code principal} invoke {@code function}, for {@code sourceArn} if given. */
  public void allow(String function, String principal, Optional<String> sourceArn) {
    store.putFunctionPolicy(
        function,
        "",
        new FunctionPolicy(
            "rev-" + function,
            List.of(
                new FunctionPolicy.Statement(
                    "allow",
                    "lambda:InvokeFunction",
                    principal,
                    ACCOUNT.functionArn(function),
                    sourceArn,
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty()))),
        Optional.empty());
  }

  public void revoke(String function) {
    store.putFunctionPolicy(function, "", FunctionPolicy.empty(), Optional.empty());
  }

  /** The payloads queued for {@code function}, in order. */
  public List<JsonNode> queued(String function) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (EventQueue.Event e : queue.claim("test", 1000, Duration.ofHours(1))) {
      if (e.function().equals(function)) {
        out.add(JSON.readTree(e.payload()));
      }
      queue.retry(e);
    }
    return out;
  }

  public double count(String kind, String name, String outcome) {
    var c =
        registry
            .find("kiln_router_events")
            .tags("kind", kind, "name", name, "outcome", outcome)
            .counter();
    return c == null ? 0 : c.count();
  }
}
