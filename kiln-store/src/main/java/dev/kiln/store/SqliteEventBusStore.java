package dev.kiln.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.kiln.store.StorageException.Entity;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The embedded {@link EventBusStore}: tables {@code event_buses}, {@code event_rules} and {@code
 * event_targets} in the metadata database ({@code metadata.db}, migration {@code V10}), one JSON
 * document per row. It opens the file through a connection of its own (SQLite in WAL mode takes the
 * metadata store's and this one side by side; a writer waits for the other's commit).
 *
 * <p>Thread-safe: every method is one {@link Jdbc} transaction, and {@link Jdbc} serialises the
 * connection under its monitor.
 */
public final class SqliteEventBusStore implements EventBusStore {

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new Jdk8Module())
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Jdbc db;

  private SqliteEventBusStore(Jdbc db, InstantSource clock) {
    this.db = db;
    db.inTransaction(
        () -> {
          if (!db.exists("SELECT 1 FROM event_buses WHERE name = ?", DEFAULT_BUS)) {
            createBus(new Bus(DEFAULT_BUS, Optional.empty(), clock.instant(), Map.of()));
          }
          return null;
        });
  }

  /** Opens (creating and migrating if needed) the store in the metadata database {@code file}. */
  public static SqliteEventBusStore open(Path file, InstantSource clock) {
    return new SqliteEventBusStore(
        SqliteDatabase.open(file, "db/migration", "event bus store"), clock);
  }

  @Override
  public void createBus(Bus bus) {
    db.inTransaction(
        () -> {
          if (bus(bus.name()).isPresent()) {
            throw new StorageException.AlreadyExists(Entity.EVENT_BUS, bus.name());
          }
          db.update("INSERT INTO event_buses(name, config) VALUES (?, ?)", bus.name(), write(bus));
          return null;
        });
  }

  @Override
  public Optional<Bus> bus(String name) {
    return db.first(
        "SELECT config FROM event_buses WHERE name = ?",
        rs -> read(rs.getString(1), Bus.class),
        name);
  }

  @Override
  public List<Bus> buses() {
    return db.list(
        "SELECT config FROM event_buses ORDER BY name", rs -> read(rs.getString(1), Bus.class));
  }

  @Override
  public void deleteBus(String name) {
    db.inTransaction(
        () -> {
          if (bus(name).isEmpty()) {
            throw new StorageException.NotFound(Entity.EVENT_BUS, name);
          }
          if (name.equals(DEFAULT_BUS)) {
            throw new StorageException.Rejected(
                Entity.EVENT_BUS, name, "the default bus cannot be deleted", false);
          }
          if (db.exists("SELECT 1 FROM event_rules WHERE bus = ?", name)) {
            throw new StorageException.Rejected(Entity.EVENT_BUS, name, "it has rules", false);
          }
          db.update("DELETE FROM event_buses WHERE name = ?", name);
          return null;
        });
  }

  @Override
  public void setBusTags(String name, Map<String, String> tags) {
    db.inTransaction(
        () -> {
          Bus bus =
              bus(name).orElseThrow(() -> new StorageException.NotFound(Entity.EVENT_BUS, name));
          db.update(
              "UPDATE event_buses SET config = ? WHERE name = ?", write(bus.withTags(tags)), name);
          return null;
        });
  }

  @Override
  public void putRule(Rule rule) {
    db.inTransaction(
        () -> {
          if (bus(rule.bus()).isEmpty()) {
            throw new StorageException.NotFound(Entity.EVENT_BUS, rule.bus());
          }
          db.update(
              "INSERT INTO event_rules(bus, name, config) VALUES (?, ?, ?)"
                  + " ON CONFLICT (bus, name) DO UPDATE SET config = excluded.config",
              rule.bus(),
              rule.name(),
              write(rule));
          return null;
        });
  }

  @Override
  public Optional<Rule> rule(String bus, String name) {
    return db.first(
        "SELECT config FROM event_rules WHERE bus = ? AND name = ?",
        rs -> read(rs.getString(1), Rule.class),
        bus,
        name);
  }

  @Override
  public List<Rule> rules(String bus) {
    return db.list(
        "SELECT config FROM event_rules WHERE bus = ? ORDER BY name",
        rs -> read(rs.getString(1), Rule.class),
        bus);
  }

  @Override
  public List<Rule> allRules() {
    return db.list(
        "SELECT config FROM event_rules ORDER BY bus, name",
        rs -> read(rs.getString(1), Rule.class));
  }

  @Override
  public void deleteRule(String bus, String name) {
    db.inTransaction(
        () -> {
          if (rule(bus, name).isEmpty()) {
            throw new StorageException.NotFound(Entity.EVENT_RULE, bus + "/" + name);
          }
          if (db.exists("SELECT 1 FROM event_targets WHERE bus = ? AND rule = ?", bus, name)) {
            throw new StorageException.Rejected(
                Entity.EVENT_RULE, bus + "/" + name, "it has targets", false);
          }
          db.update("DELETE FROM event_rules WHERE bus = ? AND name = ?", bus, name);
          return null;
        });
  }

  @Override
  public void putTargets(String bus, String rule, List<Target> targets) {
    db.inTransaction(
        () -> {
          requireRule(bus, rule);
          long next =
              db.first(
                      "SELECT COALESCE(MAX(seq), 0) + 1 FROM event_targets WHERE bus = ? AND rule = ?",
                      rs -> rs.getLong(1),
                      bus,
                      rule)
                  .orElse(1L);
          for (Target t : targets) {
            int changed =
                db.update(
                    "UPDATE event_targets SET config = ? WHERE bus = ? AND rule = ? AND id = ?",
                    write(t),
                    bus,
                    rule,
                    t.id());
            if (changed == 0) {
              db.update(
                  "INSERT INTO event_targets(bus, rule, id, seq, config) VALUES (?, ?, ?, ?, ?)",
                  bus,
                  rule,
                  t.id(),
                  next++,
                  write(t));
            }
          }
          return null;
        });
  }

  @Override
  public int removeTargets(String bus, String rule, List<String> ids) {
    return db.inTransaction(
        () -> {
          requireRule(bus, rule);
          int removed = 0;
          for (String id : ids) {
            removed +=
                db.update(
                    "DELETE FROM event_targets WHERE bus = ? AND rule = ? AND id = ?",
                    bus,
                    rule,
                    id);
          }
          return removed;
        });
  }

  @Override
  public List<Target> targets(String bus, String rule) {
    return db.list(
        "SELECT config FROM event_targets WHERE bus = ? AND rule = ? ORDER BY seq",
        rs -> read(rs.getString(1), Target.class),
        bus,
        rule);
  }

  @Override
  public void check() {
    SqliteDatabase.check(db);
  }

  @Override
  public void close() {
    db.close();
  }

  private void requireRule(String bus, String rule) {
    if (rule(bus, rule).isEmpty()) {
      throw new StorageException.NotFound(Entity.EVENT_RULE, bus + "/" + rule);
    }
  }

  private static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value, e);
    }
  }

  private static <T> T read(String json, Class<T> type) {
    try {
      return JSON.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unreadable " + type.getSimpleName() + " row: " + json, e);
    }
  }
}
