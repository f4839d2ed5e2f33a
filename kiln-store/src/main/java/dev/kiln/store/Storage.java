package dev.kiln.store;

import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * The set of stores a Kiln node keeps its state in, chosen by one setting: a location whose scheme
 * names the backend. {@code sqlite:} is the embedded one, its files in the data directory ({@code
 * sqlite:DIR} puts them in {@code DIR} instead): {@code metadata.db}, {@code events.db}, {@code
 * logs.db}, {@code usage.db}, {@code iam.db} (bucket notification configurations are in {@code
 * metadata.db}) and the code store's {@code code/}. A new backend is one more scheme in {@link
 * #open}, with stores that pass the contract suites in kiln-testing.
 *
 * <p>Closing the set closes its stores in the reverse order of their opening.
 */
public record Storage(
    MetadataStore metadata,
    CodeStore code,
    EventQueue events,
    LogStore logs,
    UsageStore usage,
    IamStore iam,
    EventBusStore buses,
    BucketNotificationStore bucketNotifications,
    ScheduleStore schedules)
    implements AutoCloseable {

  /** The schemes {@link #open} knows. */
  public static final List<String> SCHEMES = List.of("sqlite");

  /** Today's default: the embedded stores in the data directory. */
  public static final String DEFAULT = "sqlite:";

  /** A parsed location: its scheme, and what follows the colon. */
  public record Location(String scheme, String rest) {

    /**
     * Parses {@code scheme:rest}.
     *
     * @throws IllegalArgumentException for a location without a scheme or with one not in {@link
     *     #SCHEMES}, saying which are
     */
    public static Location parse(String location) {
      int colon = location.indexOf(':');
      String scheme = colon < 0 ? "" : location.substring(0, colon);
      if (!SCHEMES.contains(scheme)) {
        throw new IllegalArgumentException(
            "unknown store '"
                + location
                + "': the accepted schemes are "
                + String.join(", ", SCHEMES.stream().map(s -> s + ":").toList())
                + " (sqlite: or sqlite:DIR for the embedded stores)");
      }
      return new Location(scheme, location.substring(colon + 1));
    }
  }

  /**
   * Opens (creating and migrating if needed) the stores at {@code location}.
   *
   * @param dataDir the node's data directory, where {@code sqlite:} keeps its files
   * @param clock the time the stores stamp and lease by
   */
  public static Storage open(String location, Path dataDir, InstantSource clock) {
    Location parsed = Location.parse(location);
    return switch (parsed.scheme()) {
      case "sqlite" -> sqlite(parsed.rest().isEmpty() ? dataDir : Path.of(parsed.rest()), clock);
      default -> throw new AssertionError(parsed);
    };
  }

  private static Storage sqlite(Path dir, InstantSource clock) {
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      java.nio.file.Files.createDirectories(dir);
      SqliteMetadataStore metadata =
          opened(opened, SqliteMetadataStore.open(dir.resolve("metadata.db")));
      CodeStore code = new LocalCodeStore(dir.resolve("code"));
      EventQueue events = opened(opened, SqliteEventQueue.open(dir.resolve("events.db"), clock));
      LogStore logs = opened(opened, SqliteLogStore.open(dir.resolve("logs.db"), clock));
      UsageStore usage = opened(opened, SqliteUsageStore.open(dir.resolve("usage.db")));
      IamStore iam = opened(opened, SqliteIamStore.open(dir.resolve("iam.db"), clock));
      EventBusStore buses =
          opened(opened, SqliteEventBusStore.open(dir.resolve("metadata.db"), clock));
      // Scheduler's schedules live in the metadata database, on a connection of their own
      ScheduleStore schedules =
          opened(opened, SqliteScheduleStore.open(dir.resolve("metadata.db")));
      return new Storage(
          metadata,
          code,
          events,
          logs,
          usage,
          iam,
          buses,
          metadata.bucketNotifications(),
          schedules);
    } catch (java.io.IOException | RuntimeException e) {
      closeAll(opened.reversed());
      throw e instanceof java.io.IOException io
          ? new java.io.UncheckedIOException("cannot create " + dir, io)
          : (RuntimeException) e;
    }
  }

  private static <T extends AutoCloseable> T opened(List<AutoCloseable> opened, T store) {
    opened.add(store);
    return store;
  }

  @Override
  public void close() {
    closeAll(List.of(schedules, buses, iam, usage, logs, events, metadata));
  }

  private static void closeAll(List<AutoCloseable> stores) {
    RuntimeException failure = null;
    for (AutoCloseable s : stores) {
      try {
        s.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = new IllegalStateException("cannot close a store", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
