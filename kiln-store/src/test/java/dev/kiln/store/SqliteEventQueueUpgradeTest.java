package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;

/** The move from an in-flight flag to claim leases keeps every event a stopped Kiln had. */
class SqliteEventQueueUpgradeTest {

  @Test
  void upgradingFromTheInFlightFlag_makesEventsThatWereInFlightClaimableAtOnce() throws Exception {
    Path old =
        OlderDatabase.at(
            "events",
            "2",
            "INSERT INTO events(request_id, function, qualifier, payload, received_at, attempts,"
                + " throttles, due_at, in_flight) VALUES ('was-in-flight', 'f', '$LATEST', x'7b7d',"
                + " 1000, 0, 0, 1000, 1), ('was-waiting', 'f', '$LATEST', x'7b7d', 2000, 0, 0,"
                + " 2000, 0)");

    InstantSource clock = InstantSource.fixed(Instant.ofEpochMilli(5000));
    try (SqliteEventQueue upgraded = SqliteEventQueue.open(old, clock)) {
      assertThat(upgraded.claim("new-kiln", 10, Duration.ofMinutes(1)))
          .extracting(EventQueue.Event::requestId)
          .containsExactly("was-in-flight", "was-waiting");
    }
  }
}
