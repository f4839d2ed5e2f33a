package dev.kiln.testing.brokers;

import dev.kiln.testing.FreePorts;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real Apache Kafka broker in the test's own JVM, in KRaft mode: one node that is both the
 * controller of its metadata quorum and the broker, listening on {@code localhost} at two free
 * ports chosen once (so a {@link #restart} keeps the bootstrap address), with its log directory in
 * a temporary directory removed at {@link #close}. No ZooKeeper, no Docker, no external process:
 * the jars on the test class path are the broker.
 *
 * <p>Start-up formats the log directory with a generated cluster id (what {@code kafka-storage.sh
 * format} does) and then runs {@link KafkaRaftServer}, the class {@code kafka-server-start.sh}
 * runs. The broker is configured for one node: replication factor 1 for the internal topics, no
 * initial rebalance delay (so a consumer gets its partitions at once), and no automatic topic
 * creation (so a missing topic stays missing, as a test of an unavailable source needs).
 *
 * <p>Threading: the methods are meant for the test's thread; the broker runs its own threads.
 * {@link #stop} and {@link #restart} exist to test a source that goes away and comes back: the data
 * survives a restart.
 */
public final class KafkaBroker implements AutoCloseable {

  private final Path dir;
  private final int brokerPort;
  private final int controllerPort;
  private final String clusterId = Uuid.randomUuid().toString();
  private final Map<String, String> extra;
  private final Map<String, String> saslUsers;
  private final int saslPort;
  private KafkaRaftServer server;
  private boolean formatted;

  /** A broker with the default one-node configuration. */
  public KafkaBroker() {
    this(Map.of());
  }

  /** A broker with extra broker properties. */
  public KafkaBroker(Map<String, String> extraProperties) {
    this(extraProperties, Map.of());
  }

  /**
   * A broker that also listens with {@code SASL_PLAINTEXT} and SASL/PLAIN for these users and
   * passwords, at {@link #saslBootstrapServers}.
   */
  public static KafkaBroker withSaslPlainUsers(Map<String, String> usersAndPasswords) {
    return new KafkaBroker(Map.of(), usersAndPasswords);
  }

  private KafkaBroker(Map<String, String> extraProperties, Map<String, String> saslUsers) {
    this.extra = Map.copyOf(extraProperties);
    this.saslUsers = Map.copyOf(saslUsers);
    try {
      dir = Files.createTempDirectory("kiln-kafka-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    brokerPort = FreePorts.next();
    controllerPort = FreePorts.next();
    saslPort = saslUsers.isEmpty() ? -1 : FreePorts.next();
  }

  /** Formats (the first time) and starts the broker; returns its bootstrap servers. */
  public synchronized String start() {
    if (server != null) {
      return bootstrapServers();
    }
    KafkaConfig config = KafkaConfig.fromProps(properties(), false);
    if (!formatted) {
      format();
      formatted = true;
    }
    KafkaRaftServer s = new KafkaRaftServer(config, Time.SYSTEM);
    s.startup();
    server = s;
    awaitReady();
    return bootstrapServers();
  }

  /** {@code localhost:port} of the broker's client listener. */
  public String bootstrapServers() {
    return "localhost:" + brokerPort;
  }

  /** {@code localhost:port} of the SASL/PLAIN listener, if the broker has one. */
  public String saslBootstrapServers() {
    if (saslPort < 0) {
      throw new IllegalStateException("this broker has no SASL listener");
    }
    return "localhost:" + saslPort;
  }

  /** Stops the broker, keeping its data; {@link #start} or {@link #restart} brings it back. */
  public synchronized void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  /** Stops and starts again at the same address with the same data. */
  public synchronized String restart() {
    stop();
    return start();
  }

  /** Creates {@code name} with {@code partitions} partitions and waits until it is usable. */
  public void createTopic(String name, int partitions) {
    try (Admin admin = admin()) {
      admin
          .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
      // the topic is usable once every partition has a leader in the metadata
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        org.apache.kafka.clients.admin.TopicDescription description;
        try {
          description =
              admin
                  .describeTopics(List.of(name))
                  .allTopicNames()
                  .get(30, TimeUnit.SECONDS)
                  .get(name);
        } catch (ExecutionException e) {
          // just after the create, the broker may not know the topic it made yet
          if (!(e.getCause()
                  instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
              || System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(50);
          continue;
        }
        if (description.partitions().size() == partitions
            && description.partitions().stream().allMatch(p -> p.leader() != null)) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("topic " + name + " has no leaders");
        }
        Thread.sleep(50);
      }
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot create topic " + name, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** An Admin client on this broker; the caller closes it. */
  public Admin admin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
    return Admin.create(p);
  }

  @Override
  public synchronized void close() {
    stop();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temporary directory is harmless
    }
  }

  private Properties properties() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@localhost:" + controllerPort);
    p.put(
        "listeners",
        "PLAINTEXT://localhost:" + brokerPort + ",CONTROLLER://localhost:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://localhost:" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dir.resolve("log").toString());
    p.put("num.partitions", "1");
    p.put("auto.create.topics.enable", "false");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("log.flush.interval.messages", "1");
    p.put("controlled.shutdown.enable", "false");
    p.put("server.max.startup.time.ms", "30000");
    // a restarted broker re-registers at once instead of waiting out its old session
    p.put("broker.session.timeout.ms", "2000");
    p.put("broker.heartbeat.interval.ms", "500");
    p.put("controller.quorum.election.timeout.ms", "500");
    p.put("controller.quorum.fetch.timeout.ms", "1000");
    if (saslPort > 0) {
      p.put("listeners", p.get("listeners") + ",SASL://localhost:" + saslPort);
      p.put(
          "advertised.listeners", p.get("advertised.listeners") + ",SASL://localhost:" + saslPort);
      p.put(
          "listener.security.protocol.map",
          p.get("listener.security.protocol.map") + ",SASL:SASL_PLAINTEXT");
      p.put("sasl.enabled.mechanisms", "PLAIN");
      StringBuilder jaas =
          new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
      saslUsers.forEach(
          (user, password) ->
              jaas.append(" user_").append(user).append("=\"").append(password).append('"'));
      jaas.append(';');
      p.put("listener.name.sasl.plain.sasl.jaas.config", jaas.toString());
    }
    p.putAll(extra);
    return p;
  }

  private void format() {
    try {
      new Formatter()
          .setPrintStream(new PrintStream(PrintStream.nullOutputStream()))
          .setNodeId(1)
          .setClusterId(clusterId)
          .setDirectories(List.of(dir.resolve("log").toString()))
          .setMetadataLogDirectory(dir.resolve("log").toString())
          .setControllerListenerName("CONTROLLER")
          .setReleaseVersion(MetadataVersion.latestProduction())
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("cannot format the Kafka log directory", e);
    }
  }

  private void awaitReady() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try (Admin admin = admin()) {
      while (true) {
        try {
          if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
            return;
          }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("the Kafka broker did not come up", e);
          }
        }
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
