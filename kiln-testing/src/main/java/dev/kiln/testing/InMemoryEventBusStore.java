package dev.kiln.testing;

import dev.kiln.store.EventBusStore;
import dev.kiln.store.StorageException;
import dev.kiln.store.StorageException.Entity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An {@link EventBusStore} in memory, for tests. Every method holds this object's monitor, which
 * guards all the maps, so each is atomic as the contract asks.
 */
public final class InMemoryEventBusStore implements EventBusStore {

  private final TreeMap<String, Bus> buses = new TreeMap<>();

  /** bus → rule name → rule, names sorted. */
  private final Map<String, TreeMap<String, Rule>> rules = new TreeMap<>();

  /** "bus/rule" → id → target, in insertion order. */
  private final Map<String, LinkedHashMap<String, Target>> targets = new TreeMap<>();

  public InMemoryEventBusStore() {
    this(Instant.EPOCH);
  }

  public InMemoryEventBusStore(Instant created) {
    createBus(new Bus(DEFAULT_BUS, Optional.empty(), created, Map.of()));
  }

  @Override
  public synchronized void createBus(Bus bus) {
    if (buses.containsKey(bus.name())) {
      throw new StorageException.AlreadyExists(Entity.EVENT_BUS, bus.name());
    }
    buses.put(bus.name(), bus);
    rules.put(bus.name(), new TreeMap<>());
  }

  @Override
  public synchronized Optional<Bus> bus(String name) {
    return Optional.ofNullable(buses.get(name));
  }

  @Override
  public synchronized List<Bus> buses() {
    return List.copyOf(buses.values());
  }

  @Override
  public synchronized void deleteBus(String name) {
    if (!buses.containsKey(name)) {
      throw new StorageException.NotFound(Entity.EVENT_BUS, name);
    }
    if (name.equals(DEFAULT_BUS)) {
      throw new StorageException.Rejected(
          Entity.EVENT_BUS, name, "the default bus cannot be deleted", false);
    }
    if (!rules.get(name).isEmpty()) {
      throw new StorageException.Rejected(Entity.EVENT_BUS, name, "it has rules", false);
    }
    buses.remove(name);
    rules.remove(name);
  }

  @Override
  public synchronized void setBusTags(String name, Map<String, String> tags) {
    Bus bus = buses.get(name);
    if (bus == null) {
      throw new StorageException.NotFound(Entity.EVENT_BUS, name);
    }
    buses.put(name, bus.withTags(tags));
  }

  @Override
  public synchronized void putRule(Rule rule) {
    TreeMap<String, Rule> ofBus = rules.get(rule.bus());
    if (ofBus == null) {
      throw new StorageException.NotFound(Entity.EVENT_BUS, rule.bus());
    }
    ofBus.put(rule.name(), rule);
  }

  @Override
  public synchronized Optional<Rule> rule(String bus, String name) {
    TreeMap<String, Rule> ofBus = rules.get(bus);
    return ofBus == null ? Optional.empty() : Optional.ofNullable(ofBus.get(name));
  }

  @Override
  public synchronized List<Rule> rules(String bus) {
    TreeMap<String, Rule> ofBus = rules.get(bus);
    return ofBus == null ? List.of() : List.copyOf(ofBus.values());
  }

  @Override
  public synchronized List<Rule> allRules() {
    List<Rule> all = new ArrayList<>();
    rules.values().forEach(ofBus -> all.addAll(ofBus.values()));
    return all;
  }

  @Override
  public synchronized void deleteRule(String bus, String name) {
    String key = bus + "/" + name;
    if (rule(bus, name).isEmpty()) {
      throw new StorageException.NotFound(Entity.EVENT_RULE, key);
    }
    if (!targets.getOrDefault(key, new LinkedHashMap<>()).isEmpty()) {
      throw new StorageException.Rejected(Entity.EVENT_RULE, key, "it has targets", false);
    }
    rules.get(bus).remove(name);
    targets.remove(key);
  }

  @Override
  public synchronized void putTargets(String bus, String rule, List<Target> put) {
    String key = requireRule(bus, rule);
    LinkedHashMap<String, Target> ofRule = targets.computeIfAbsent(key, k -> new LinkedHashMap<>());
    for (Target t : put) {
      ofRule.put(t.id(), t);
    }
  }

  @Override
  public synchronized int removeTargets(String bus, String rule, List<String> ids) {
    String key = requireRule(bus, rule);
    LinkedHashMap<String, Target> ofRule = targets.getOrDefault(key, new LinkedHashMap<>());
    int removed = 0;
    for (String id : ids) {
      if (ofRule.remove(id) != null) {
        removed++;
      }
    }
    return removed;
  }

  @Override
  public synchronized List<Target> targets(String bus, String rule) {
    return List.copyOf(targets.getOrDefault(bus + "/" + rule, new LinkedHashMap<>()).values());
  }

  @Override
  public void check() {}

  @Override
  public void close() {}

  private String requireRule(String bus, String rule) {
    if (rule(bus, rule).isEmpty()) {
      throw new StorageException.NotFound(Entity.EVENT_RULE, bus + "/" + rule);
    }
    return bus + "/" + rule;
  }
}
