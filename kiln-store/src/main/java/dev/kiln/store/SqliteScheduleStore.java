package dev.kiln.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.kiln.model.Schedule;
import dev.kiln.model.ScheduleGroup;
import dev.kiln.store.StorageException.Entity;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The embedded schedule store, in the metadata database ({@code metadata.db}, migration {@code
 * V9__schedules}): it opens the file as {@link SqliteMetadataStore} does (WAL, {@code
 * synchronous=FULL}, Flyway), on a connection of its own whose {@link Jdbc} monitor guards it;
 * SQLite serialises its writes with the metadata store's. Schedules and groups are JSON documents
 * ({@link Schedule}, {@link ScheduleGroup}) with their keys, state and {@code next_due} (epoch
 * milliseconds) as columns.
 */
public final class SqliteScheduleStore implements ScheduleStore {

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new Jdk8Module())
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Jdbc db;

  private SqliteScheduleStore(Jdbc db) {
    this.db = db;
  }

  /** Opens (creating and migrating if needed) the metadata database in {@code file}. */
  public static SqliteScheduleStore open(Path file) {
    return new SqliteScheduleStore(SqliteDatabase.open(file, "db/migration", "schedule store"));
  }

  @Override
  public void createGroup(ScheduleGroup group) {
    db.inTransaction(
        () -> {
          if (group(group.name()).isPresent()) {
            throw new StorageException.AlreadyExists(Entity.SCHEDULE_GROUP, group.name());
          }
          db.update(
              "INSERT INTO schedule_groups (name, config) VALUES (?, ?)",
              group.name(),
              json(group));
          return null;
        });
  }

  @Override
  public Optional<ScheduleGroup> group(String name) {
    return db.first(
        "SELECT config FROM schedule_groups WHERE name = ?",
        rs -> read(rs.getString(1), ScheduleGroup.class),
        name);
  }

  @Override
  public List<ScheduleGroup> groups() {
    return db.list(
        "SELECT config FROM schedule_groups ORDER BY name",
        rs -> read(rs.getString(1), ScheduleGroup.class));
  }

  @Override
  public void setGroupTags(String name, Map<String, String> tags, Instant modified) {
    db.inTransaction(
        () -> {
          ScheduleGroup group =
              group(name)
                  .orElseThrow(() -> new StorageException.NotFound(Entity.SCHEDULE_GROUP, name));
          db.update(
              "UPDATE schedule_groups SET config = ? WHERE name = ?",
              json(group.withTags(tags, modified)),
              name);
          return null;
        });
  }

  @Override
  public boolean deleteGroup(String name) {
    // the foreign key's ON DELETE CASCADE takes the group's schedules in the same statement
    return db.update("DELETE FROM schedule_groups WHERE name = ?", name) == 1;
  }

  @Override
  public void create(Schedule schedule, Optional<Instant> nextDue) {
    db.inTransaction(
        () -> {
          if (group(schedule.groupName()).isEmpty()) {
            throw new StorageException.NotFound(Entity.SCHEDULE_GROUP, schedule.groupName());
          }
          if (get(schedule.groupName(), schedule.name()).isPresent()) {
            throw new StorageException.AlreadyExists(Entity.SCHEDULE, schedule.key());
          }
          db.update(
              "INSERT INTO schedules (group_name, name, state, next_due, config)"
                  + " VALUES (?, ?, ?, ?, ?)",
              schedule.groupName(),
              schedule.name(),
              schedule.state(),
              nextDue.map(Instant::toEpochMilli),
              json(schedule));
          return null;
        });
  }

  @Override
  public Optional<Stored> get(String group, String name) {
    return db.first(
        "SELECT config, next_due FROM schedules WHERE group_name = ? AND name = ?",
        SqliteScheduleStore::stored,
        group,
        name);
  }

  @Override
  public void replace(Schedule schedule, Optional<Instant> nextDue) {
    int changed =
        db.update(
            "UPDATE schedules SET state = ?, next_due = ?, config = ?"
                + " WHERE group_name = ? AND name = ?",
            schedule.state(),
            nextDue.map(Instant::toEpochMilli),
            json(schedule),
            schedule.groupName(),
            schedule.name());
    if (changed == 0) {
      throw new StorageException.NotFound(Entity.SCHEDULE, schedule.key());
    }
  }

  @Override
  public boolean delete(String group, String name) {
    return db.update("DELETE FROM schedules WHERE group_name = ? AND name = ?", group, name) == 1;
  }

  @Override
  public List<Schedule> list(
      Optional<String> group,
      Optional<String> namePrefix,
      Optional<String> state,
      Optional<String> after,
      int max) {
    StringBuilder sql = new StringBuilder("SELECT config, next_due FROM schedules WHERE 1 = 1");
    List<Object> params = new ArrayList<>();
    group.ifPresent(
        g -> {
          sql.append(" AND group_name = ?");
          params.add(g);
        });
    namePrefix.ifPresent(
        p -> {
          // substr, not LIKE: a prefix with _ or % means itself
          sql.append(" AND substr(name, 1, ?) = ?");
          params.add(p.length());
          params.add(p);
        });
    state.ifPresent(
        s -> {
          sql.append(" AND state = ?");
          params.add(s);
        });
    after.ifPresent(
        a -> {
          sql.append(" AND group_name || '/' || name > ?");
          params.add(a);
        });
    sql.append(" ORDER BY group_name || '/' || name LIMIT ?");
    params.add(max);
    return db.list(sql.toString(), rs -> stored(rs).schedule(), params.toArray());
  }

  @Override
  public Optional<Instant> earliestDue() {
    return db.first(
        "SELECT min(next_due) FROM schedules",
        rs -> Jdbc.optionalLong(rs, 1).map(Instant::ofEpochMilli).orElse(null));
  }

  @Override
  public List<Stored> due(Instant now, int max) {
    return db.list(
        "SELECT config, next_due FROM schedules WHERE next_due <= ? ORDER BY next_due LIMIT ?",
        SqliteScheduleStore::stored,
        now.toEpochMilli(),
        max);
  }

  @Override
  public boolean advance(String group, String name, Instant expected, Optional<Instant> next) {
    return db.update(
            "UPDATE schedules SET next_due = ? WHERE group_name = ? AND name = ? AND next_due = ?",
            next.map(Instant::toEpochMilli),
            group,
            name,
            expected.toEpochMilli())
        == 1;
  }

  @Override
  public void check() {
    SqliteDatabase.check(db);
  }

  @Override
  public void close() {
    db.close();
  }

  private static Stored stored(ResultSet rs) throws SQLException {
    return new Stored(
        read(rs.getString(1), Schedule.class), Jdbc.optionalLong(rs, 2).map(Instant::ofEpochMilli));
  }

  private static String json(Object value) {
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
      throw new IllegalStateException("a stored " + type.getSimpleName() + " cannot be read", e);
    }
  }
}
