package dev.kiln.api;

import io.helidon.webserver.http.HttpRouting;

/**
 * A service Kiln's endpoint serves beside Lambda (Scheduler, EventBridge, the push sources'
 * receivers): it adds its routes behind the authentication gate, and passes on ({@code res.next()})
 * every request of a shared route ({@code POST /}) that is not its own.
 */
@FunctionalInterface
public interface ServiceRoutes {
  void routes(HttpRouting.Builder r);
}
