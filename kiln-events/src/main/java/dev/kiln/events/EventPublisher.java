package dev.kiln.events;

/**
 * Where events are put to be routed: an event bus, by name ({@code default} is the account's
 * default bus). The bus matches the event against its enabled rules and queues a delivery for each
 * matching target; it returns once every delivery is durable, so a caller that has answered its own
 * client 2xx after this returns loses nothing.
 */
public interface EventPublisher {

  /** The name of the account's default bus. */
  String DEFAULT_BUS = "default";

  /**
   * Puts one event on {@code bus}; returns the event's id (the envelope's {@code id}).
   *
   * @throws dev.kiln.model.LambdaError when the bus does not exist (ResourceNotFoundException)
   */
  String publish(String bus, BusEvent event);
}
