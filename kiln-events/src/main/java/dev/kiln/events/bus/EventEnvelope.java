package dev.kiln.events.bus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.events.BusEvent;
import dev.kiln.model.Account;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The document EventBridge delivers for an event, and matches rules' patterns against: {@code
 * version} "0", {@code id}, {@code detail-type}, {@code source}, {@code account}, {@code time}
 * (ISO-8601 to the second, UTC, as {@code 2026-01-01T09:30:00Z}), {@code region}, {@code resources}
 * and {@code detail}, in that order.
 */
final class EventEnvelope {

  static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private static final ObjectMapper JSON = new ObjectMapper();

  private EventEnvelope() {}

  /**
   * The envelope of {@code event} with {@code id}; its {@code time} is the event's own or, without
   * one, {@code received}.
   */
  static ObjectNode of(String id, BusEvent event, Account account, Instant received) {
    ObjectNode e = JSON.createObjectNode();
    e.put("version", "0");
    e.put("id", id);
    e.put("detail-type", event.detailType());
    e.put("source", event.source());
    e.put("account", account.accountId());
    e.put("time", TIME.format(event.time().orElse(received)));
    e.put("region", account.region());
    ArrayNode resources = e.putArray("resources");
    event.resources().forEach(resources::add);
    e.set("detail", event.detail().deepCopy());
    return e;
  }
}
