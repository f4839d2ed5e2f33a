package dev.kiln.bench;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The Java baselines, run by the bench as a process of their own: the JDK's minimal HTTP server
 * ({@code com.sun.net.httpserver}, one virtual thread per exchange) in one of two modes.
 *
 * <ul>
 *   <li>{@code floor}: answers every request at once with a fixed four-byte body, without looking
 *       at it. One loopback HTTP round trip is the least any HTTP platform can cost, whatever the
 *       language: baseline (a).
 *   <li>{@code handler DIR CLASS}: decodes the request's JSON, calls the function's own {@code
 *       RequestHandler} (loaded from {@code DIR}, the same class Kiln runs) and encodes its result:
 *       the function served without a platform, baseline (b) for Java.
 * </ul>
 *
 * <p>It prints the port it listens on as its first line. Nagle's algorithm is off, as it is on
 * Kiln's and the other baselines' sockets.
 */
public final class BaselineServer {

  private static final byte[] FLOOR_BODY = "null".getBytes();

  private BaselineServer() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("sun.net.httpserver.nodelay", "true");
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    switch (args.length > 0 ? args[0] : "") {
      case "floor" -> server.createContext("/", BaselineServer::floor);
      case "handler" -> {
        RequestHandler<Map<String, Object>, Object> handler = load(Path.of(args[1]), args[2]);
        ObjectMapper json = new ObjectMapper();
        server.createContext(
            "/",
            exchange -> {
              try (exchange) {
                @SuppressWarnings("unchecked")
                Map<String, Object> event = json.readValue(exchange.getRequestBody(), Map.class);
                byte[] body = json.writeValueAsBytes(handler.handleRequest(event, null));
                respond(exchange, body);
              }
            });
      }
      default -> {
        System.err.println("usage: BaselineServer floor | handler DIR CLASS");
        System.exit(2);
      }
    }
    server.start();
    System.out.println(server.getAddress().getPort());
    System.out.flush();
  }

  private static void floor(HttpExchange exchange) throws IOException {
    try (exchange) {
      try (InputStream in = exchange.getRequestBody()) {
        in.readAllBytes();
      }
      respond(exchange, FLOOR_BODY);
    }
  }

  private static void respond(HttpExchange exchange, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @SuppressWarnings("unchecked")
  private static RequestHandler<Map<String, Object>, Object> load(Path dir, String className)
      throws Exception {
    URLClassLoader loader =
        new URLClassLoader(new URL[] {dir.toUri().toURL()}, BaselineServer.class.getClassLoader());
    return (RequestHandler<Map<String, Object>, Object>)
        loader.loadClass(className).getDeclaredConstructor().newInstance();
  }
}
