package dev.kiln.testing.brokers;

import dev.kiln.testing.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.elasticmq.NodeAddress;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;

/**
 * An ElasticMQ server, the SQS-compatible broker, run in this JVM for a test class: it listens on
 * 127.0.0.1 at a port free when it was created, answers SQS's query and JSON protocols there, and
 * names its queues {@code arn:aws:sqs:us-east-1:000000000000:NAME} with queue URLs {@code
 * http://127.0.0.1:PORT/000000000000/NAME}, as an account of AWS would.
 *
 * <p>The port is kept across {@link #stop} and {@link #start}, so that a test can take the broker
 * away from a reader and give it back at the same endpoint; its queues do not survive a stop
 * (ElasticMQ keeps them in memory). Queues are created with SQS's query protocol over the JDK's
 * HTTP client, so that this fixture needs no SQS client of its own.
 *
 * <p>Threading: {@code start}, {@code stop} and {@code close} are for the test's own thread; {@link
 * #createQueue} may be called from any thread. ElasticMQ runs on its own Pekko actor system, which
 * a stop terminates.
 */
public final class ElasticMq implements AutoCloseable {

  public static final String REGION = "us-east-1";
  public static final String ACCOUNT = "000000000000";

  private static final Pattern QUEUE_URL = Pattern.compile("<QueueUrl>([^<]+)</QueueUrl>");

  private final int port;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private SQSRestServer server;

  private ElasticMq(int port) {
    this.port = port;
  }

  /** A server started on a free port. */
  public static ElasticMq start() {
    ElasticMq mq = new ElasticMq(FreePorts.next());
    mq.restart();
    return mq;
  }

  /** Starts the server again on its port after {@link #stop}; its queues are gone. */
  public synchronized void restart() {
    if (server != null) {
      return;
    }
    server =
        SQSRestServerBuilder.withInterface("127.0.0.1")
            .withPort(port)
            .withServerAddress(new NodeAddress("http", "127.0.0.1", port, ""))
            .withAWSRegion(REGION)
            .withAWSAccountId(ACCOUNT)
            .start();
    server.waitUntilStarted();
  }

  /** Stops the server; its endpoint refuses connections until {@link #restart}. */
  public synchronized void stop() {
    if (server != null) {
      server.stopAndWait();
      server = null;
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** Where SQS clients reach this server. */
  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  public String queueArn(String name) {
    return "arn:aws:sqs:" + REGION + ":" + ACCOUNT + ":" + name;
  }

  public String queueUrl(String name) {
    return endpoint() + "/" + ACCOUNT + "/" + name;
  }

  /**
   * Creates queue {@code name} (a FIFO queue if it ends in {@code .fifo}, which then gets {@code
   * FifoQueue=true}) with SQS's queue attributes, e.g. {@code VisibilityTimeout}, and returns its
   * URL.
   */
  public String createQueue(String name, Map<String, String> attributes) {
    Map<String, String> all = new LinkedHashMap<>(attributes);
    if (name.endsWith(".fifo")) {
      all.putIfAbsent("FifoQueue", "true");
    }
    StringBuilder form = new StringBuilder("Action=CreateQueue&Version=2012-11-05&QueueName=");
    form.append(encode(name));
    int i = 1;
    for (Map.Entry<String, String> a : all.entrySet()) {
      form.append("&Attribute.").append(i).append(".Name=").append(encode(a.getKey()));
      form.append("&Attribute.").append(i).append(".Value=").append(encode(a.getValue()));
      i++;
    }
    String answer = post(form.toString());
    Matcher m = QUEUE_URL.matcher(answer);
    if (!m.find()) {
      throw new IllegalStateException("CreateQueue " + name + " answered " + answer);
    }
    return m.group(1);
  }

  /**
   * Creates queue {@code name} whose messages move to queue {@code deadLetterQueue} (created here)
   * after {@code maxReceiveCount} receives, as SQS's redrive policy does.
   */
  public String createQueueWithDeadLetterQueue(
      String name, String deadLetterQueue, int maxReceiveCount, Map<String, String> attributes) {
    createQueue(deadLetterQueue, Map.of());
    Map<String, String> all = new LinkedHashMap<>(attributes);
    all.put(
        "RedrivePolicy",
        "{\"deadLetterTargetArn\":\""
            + queueArn(deadLetterQueue)
            + "\",\"maxReceiveCount\":\""
            + maxReceiveCount
            + "\"}");
    return createQueue(name, all);
  }

  private String post(String form) {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint())
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form))
            .build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            "ElasticMQ answered " + response.statusCode() + ": " + response.body());
      }
      return response.body();
    } catch (IOException e) {
      throw new IllegalStateException("ElasticMQ at " + endpoint() + " unreachable", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
