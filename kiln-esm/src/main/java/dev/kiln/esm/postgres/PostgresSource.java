package dev.kiln.esm.postgres;

import dev.kiln.esm.source.EventSourceKind;
import dev.kiln.esm.source.EventSourceReader;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.LambdaError;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL table changes as an event source: a mapping names a database ({@code
 * SelfManagedEventSource.Endpoints.POSTGRESQL_URL}), one publication ({@code Topics}, created by
 * the user: the tables it publishes are the table set) and its credentials (a BASIC_AUTH {@code
 * SourceAccessConfiguration}), and Kiln reads the publication's changes through logical
 * replication, from a replication slot of its own per mapping ({@link #slotName}, created on the
 * first poll, dropped by {@link #deleted}).
 *
 * <p>A stream: records are delivered in commit order, one batch at a time, retried in place; the
 * slot's confirmed position moves only when a batch is completed (see {@link PostgresReader}).
 * Defaults and limits are DynamoDB Streams': BatchSize 100 (at most 10000), a batching window of 0
 * (at most 300 s), StartingPosition LATEST or TRIM_HORIZON (both start at the slot's creation: a
 * slot cannot see what was committed before it), ReportBatchItemFailures and OnFailure allowed,
 * ScalingConfig not.
 *
 * <p>Holds no state; thread-safe.
 */
public final class PostgresSource implements EventSourceKind {

  public static final String NAME = "postgresql";
  public static final String ENDPOINT = "POSTGRESQL_URL";

  static final int DEFAULT_BATCH_SIZE = 100;
  static final int MAX_BATCH_SIZE = 10_000;
  static final int MAX_WINDOW_SECONDS = 300;

  /** A publication name as stored in pg_publication (exact case, no quoting needed). */
  private static final Pattern PUBLICATION = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

  private static final Logger LOG = LoggerFactory.getLogger(PostgresSource.class);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean claims(String eventSourceArn, Set<String> endpointTypes) {
    return endpointTypes.contains(ENDPOINT);
  }

  @Override
  public Semantics semantics() {
    return Semantics.STREAM;
  }

  /** The replication slot of a mapping: {@code kiln_} and its UUID without dashes. */
  public static String slotName(String uuid) {
    return "kiln_" + uuid.replace("-", "").toLowerCase(Locale.ROOT);
  }

  @Override
  public EventSourceMapping complete(
      EventSourceMapping.Builder requested, Set<String> explicit, boolean creating) {
    EventSourceMapping m = requested.build();
    if (m.eventSourceArn().isPresent()) {
      throw LambdaError.invalidParameter(
          "A PostgreSQL event source is named by SelfManagedEventSource.Endpoints.POSTGRESQL_URL;"
              + " EventSourceArn must not be given with it.");
    }
    endpoint(m);
    if (m.topics().size() != 1) {
      throw LambdaError.invalidParameter(
          "Topics must name exactly one PostgreSQL publication (CREATE PUBLICATION name FOR TABLE"
              + " ...), got "
              + m.topics().size()
              + ".");
    }
    if (!PUBLICATION.matcher(m.topics().get(0)).matches()) {
      throw LambdaError.invalidParameter(
          "Topics: '"
              + m.topics().get(0)
              + "' is not a publication name Kiln takes: letters, digits, _ and $, at most 63,"
              + " not starting with a digit (as stored: an unquoted CREATE PUBLICATION name is"
              + " lower case).");
    }
    if (!m.queues().isEmpty()) {
      throw LambdaError.invalidParameter("Queues is not supported for a PostgreSQL event source.");
    }
    if (m.consumerGroupId().isPresent()) {
      throw LambdaError.invalidParameter(
          "SelfManagedKafkaEventSourceConfig is not supported for a PostgreSQL event source.");
    }
    if (m.maximumConcurrency().isPresent()) {
      throw LambdaError.invalidParameter(
          "ScalingConfig is not supported for a PostgreSQL event source: a replication slot is read"
              + " by one poller, in commit order.");
    }
    for (EventSourceMapping.SourceAccess a : m.sourceAccess()) {
      if (!a.type().equals(PgConnect.BASIC_AUTH)) {
        throw LambdaError.invalidParameter(
            "SourceAccessConfigurations: a PostgreSQL event source takes only BASIC_AUTH, got "
                + a.type()
                + ".");
      }
    }
    if (m.sourceAccess().size() > 1) {
      throw LambdaError.invalidParameter(
          "SourceAccessConfigurations: give one BASIC_AUTH secret, not " + m.sourceAccess().size());
    }
    if (m.sourceAccess().isEmpty() && endpoint(m).user().isEmpty()) {
      throw LambdaError.invalidParameter(
          "A PostgreSQL event source needs credentials: a BASIC_AUTH SourceAccessConfiguration"
              + " whose secret holds {\"username\",\"password\"} (or, for a server that trusts"
              + " it, a user in the POSTGRESQL_URL).");
    }

    // a create takes the defaults for what it left out; an update keeps what is stored
    int batchSize =
        creating && !explicit.contains("BatchSize") ? DEFAULT_BATCH_SIZE : m.batchSize();
    if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw LambdaError.invalidParameter(
          "BatchSize must be between 1 and " + MAX_BATCH_SIZE + " for a PostgreSQL event source.");
    }
    int window =
        creating && !explicit.contains("MaximumBatchingWindowInSeconds")
            ? 0
            : m.maximumBatchingWindowInSeconds();
    if (window < 0 || window > MAX_WINDOW_SECONDS) {
      throw LambdaError.invalidParameter(
          "MaximumBatchingWindowInSeconds must be between 0 and "
              + MAX_WINDOW_SECONDS
              + " for a PostgreSQL event source.");
    }
    if (m.maximumRetryAttempts() < -1 || m.maximumRetryAttempts() > 10_000) {
      throw LambdaError.invalidParameter("MaximumRetryAttempts must be between -1 and 10000.");
    }
    int age = m.maximumRecordAgeInSeconds();
    if (age != -1 && (age < 60 || age > 604_800)) {
      throw LambdaError.invalidParameter(
          "MaximumRecordAgeInSeconds must be -1 (infinite) or between 60 and 604800.");
    }
    if (creating) {
      String position =
          m.startingPosition()
              .orElseThrow(
                  () ->
                      LambdaError.invalidParameter(
                          "StartingPosition is required for a PostgreSQL event source: LATEST or"
                              + " TRIM_HORIZON."));
      switch (position) {
        case "LATEST", "TRIM_HORIZON" -> {}
        case "AT_TIMESTAMP" ->
            throw LambdaError.invalidParameter(
                "StartingPosition AT_TIMESTAMP is not supported for a PostgreSQL event source:"
                    + " its replication slot starts when it is created (LATEST or TRIM_HORIZON).");
        default ->
            throw LambdaError.invalidParameter(
                "StartingPosition must be LATEST or TRIM_HORIZON for a PostgreSQL event source.");
      }
      if (m.startingPositionTimestamp().isPresent()) {
        throw LambdaError.invalidParameter(
            "StartingPositionTimestamp applies only to StartingPosition AT_TIMESTAMP.");
      }
    }
    return requested.kind(NAME).batchSize(batchSize).maximumBatchingWindowInSeconds(window).build();
  }

  /** The mapping's endpoint, or the API's refusal of it. */
  static PostgresEndpoint endpoint(EventSourceMapping m) {
    for (String key : m.endpoints().keySet()) {
      if (!key.equals(ENDPOINT)) {
        throw LambdaError.invalidParameter(
            "SelfManagedEventSource.Endpoints: a PostgreSQL event source takes only "
                + ENDPOINT
                + ", not "
                + key
                + ".");
      }
    }
    List<String> urls = m.endpoints().getOrDefault(ENDPOINT, List.of());
    if (urls.size() != 1) {
      throw LambdaError.invalidParameter(
          PostgresEndpoint.FIELD + " must hold exactly one URL, got " + urls.size() + ".");
    }
    try {
      return PostgresEndpoint.parse(urls.get(0));
    } catch (IllegalArgumentException e) {
      throw LambdaError.invalidParameter(e.getMessage());
    }
  }

  @Override
  public String sourceKey(EventSourceMapping mapping) {
    return endpoint(mapping).normalized() + "#" + mapping.topics().get(0);
  }

  /**
   * The ARN the records' {@code eventSourceARN} names: Kiln's own service name, the region, no
   * account (the source is not in an AWS account), then {@code postgresql/host:port/database/
   * publication}.
   */
  static String sourceArn(EventSourceMapping mapping, String region) {
    PostgresEndpoint e = endpoint(mapping);
    return "arn:aws:kiln:"
        + region
        + "::postgresql/"
        + e.hostPort()
        + "/"
        + e.database()
        + "/"
        + mapping.topics().get(0);
  }

  @Override
  public EventSourceReader open(EventSourceMapping mapping, SourceContext context) {
    return new PostgresReader(mapping, context);
  }

  @Override
  public void deleted(EventSourceMapping mapping, SourceContext context) {
    String slot = slotName(mapping.uuid());
    try {
      dropSlot(mapping, context, slot);
    } catch (SourceUnavailableException | RuntimeException e) {
      LOG.warn(
          "could not drop the replication slot {} of deleted mapping {}: {}; drop it with"
              + " SELECT pg_drop_replication_slot('{}')",
          slot,
          mapping.uuid(),
          e.getMessage(),
          slot);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Drops the slot; a reader still attached to it (a poller being stopped) is waited for briefly,
   * then disconnected, since the mapping is gone.
   */
  static void dropSlot(EventSourceMapping mapping, SourceContext context, String slot)
      throws SourceUnavailableException, InterruptedException {
    PostgresEndpoint endpoint = endpoint(mapping);
    PgConnect.Credentials credentials = PgConnect.credentials(mapping, endpoint, context);
    try (Connection c = PgConnect.sql(endpoint, credentials, "kiln-esm-" + mapping.uuid())) {
      for (int attempt = 0; ; attempt++) {
        Integer activePid = null;
        boolean exists = false;
        try (PreparedStatement s =
            c.prepareStatement("SELECT active_pid FROM pg_replication_slots WHERE slot_name = ?")) {
          s.setString(1, slot);
          try (ResultSet rs = s.executeQuery()) {
            if (rs.next()) {
              exists = true;
              int pid = rs.getInt(1);
              activePid = rs.wasNull() ? null : pid;
            }
          }
        }
        if (!exists) {
          return;
        }
        if (activePid != null) {
          if (attempt < 10) {
            Thread.sleep(200);
            continue;
          }
          try (PreparedStatement s = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
            s.setInt(1, activePid);
            s.execute();
          }
          Thread.sleep(200);
        }
        try (PreparedStatement s = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
          s.setString(1, slot);
          s.execute();
          LOG.info("dropped replication slot {} of deleted mapping {}", slot, mapping.uuid());
          return;
        } catch (SQLException e) {
          if (!"55006".equals(e.getSQLState()) || attempt > 20) {
            throw e;
          }
        }
      }
    } catch (SQLException e) {
      throw PgConnect.unavailable(endpoint, credentials, e);
    }
  }
}
