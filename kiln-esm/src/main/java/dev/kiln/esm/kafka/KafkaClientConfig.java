package dev.kiln.esm.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.esm.source.SourceContext;
import dev.kiln.esm.source.SourceUnavailableException;
import dev.kiln.model.EventSourceMapping;
import dev.kiln.model.EventSourceMapping.SourceAccess;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The Kafka consumer's configuration for one mapping: where (bootstrap servers), who (the consumer
 * group, the credentials its SourceAccessConfigurations name), and the reader's fixed choices
 * (offsets committed by hand, short client timeouts so that an unreachable broker is reported
 * within seconds and the poller's backoff does the waiting).
 *
 * <p>Credentials come from the secret each SourceAccessConfiguration's URI names, read through
 * {@link SourceContext#secret} with AWS's secret layouts: {@code {"username","password"}} for
 * BASIC_AUTH (SASL/PLAIN) and SASL_SCRAM_256_AUTH / SASL_SCRAM_512_AUTH; {@code {"certificate",
 * "privateKey", "privateKeyPassword"}} (PEM) for CLIENT_CERTIFICATE_TLS_AUTH; {@code
 * {"certificate"}} (PEM) for SERVER_ROOT_CA_CERTIFICATE. SASL travels over TLS as on AWS unless the
 * source was built with {@link Transport#PLAINTEXT}. The properties hold the secrets: they are
 * given only to the consumer and never logged or answered.
 *
 * <p>A pure function of its inputs; safe from any thread.
 */
public final class KafkaClientConfig {

  public static final String BASIC_AUTH = "BASIC_AUTH";
  public static final String SASL_SCRAM_256_AUTH = "SASL_SCRAM_256_AUTH";
  public static final String SASL_SCRAM_512_AUTH = "SASL_SCRAM_512_AUTH";
  public static final String CLIENT_CERTIFICATE_TLS_AUTH = "CLIENT_CERTIFICATE_TLS_AUTH";
  public static final String SERVER_ROOT_CA_CERTIFICATE = "SERVER_ROOT_CA_CERTIFICATE";

  /** How SASL credentials travel to the brokers. */
  public enum Transport {
    /** {@code SASL_SSL}, as AWS always does. */
    TLS,
    /** {@code SASL_PLAINTEXT}: a Kiln extension for brokers on a trusted network. */
    PLAINTEXT
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private KafkaClientConfig() {}

  /** The bootstrap servers as the client and the event's {@code bootstrapServers} take them. */
  public static String bootstrapServers(EventSourceMapping m) {
    return String.join(",", m.endpoints().getOrDefault(KafkaSource.BOOTSTRAP_SERVERS, List.of()));
  }

  /** The consumer group: the one complete() stored, else the UUID. */
  public static String groupId(EventSourceMapping m) {
    return m.consumerGroupId().filter(g -> !g.isEmpty()).orElse(m.uuid());
  }

  /**
   * The consumer's properties for {@code m}.
   *
   * @throws SourceUnavailableException when a secret cannot be read or is not of its layout
   */
  public static Properties consumer(
      EventSourceMapping m, SourceContext context, Transport transport)
      throws SourceUnavailableException {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(m));
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(m));
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "kiln-esm-" + m.uuid());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    // where a group with no committed offset starts; AT_TIMESTAMP seeks on assignment
    p.put(
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
        "TRIM_HORIZON".equals(m.startingPosition().orElse("")) ? "earliest" : "latest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(Math.max(500, m.batchSize())));
    // short timeouts: a broker that is away is reported in seconds, the poller backs off
    p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "3000");
    p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "10000");
    p.put(CommonClientConfigs.RECONNECT_BACKOFF_MS_CONFIG, "100");
    p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, "2000");
    p.put(CommonClientConfigs.RETRY_BACKOFF_MS_CONFIG, "100");
    p.put(CommonClientConfigs.RETRY_BACKOFF_MAX_MS_CONFIG, "2000");
    p.put(CommonClientConfigs.METADATA_MAX_AGE_CONFIG, "10000");
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
    // the poller may wait for a batch as long as a function may run (15 minutes) before it
    // polls again; past this the group takes the partitions away
    p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "960000");
    security(m, context, transport, p);
    return p;
  }

  private static void security(
      EventSourceMapping m, SourceContext context, Transport transport, Properties p)
      throws SourceUnavailableException {
    Optional<SourceAccess> sasl =
        m.sourceAccess().stream()
            .filter(
                a ->
                    a.type().equals(BASIC_AUTH)
                        || a.type().equals(SASL_SCRAM_256_AUTH)
                        || a.type().equals(SASL_SCRAM_512_AUTH))
            .findFirst();
    Optional<SourceAccess> mtls = find(m, CLIENT_CERTIFICATE_TLS_AUTH);
    Optional<SourceAccess> rootCa = find(m, SERVER_ROOT_CA_CERTIFICATE);

    boolean tls = mtls.isPresent() || rootCa.isPresent();
    if (sasl.isPresent()) {
      SourceAccess a = sasl.get();
      JsonNode secret = secret(context, a);
      String username = text(secret, "username", a);
      String password = text(secret, "password", a);
      String module;
      String mechanism;
      switch (a.type()) {
        case BASIC_AUTH -> {
          module = "org.apache.kafka.common.security.plain.PlainLoginModule";
          mechanism = "PLAIN";
        }
        case SASL_SCRAM_256_AUTH -> {
          module = "org.apache.kafka.common.security.scram.ScramLoginModule";
          mechanism = "SCRAM-SHA-256";
        }
        default -> {
          module = "org.apache.kafka.common.security.scram.ScramLoginModule";
          mechanism = "SCRAM-SHA-512";
        }
      }
      p.put(SaslConfigs.SASL_MECHANISM, mechanism);
      p.put(
          SaslConfigs.SASL_JAAS_CONFIG,
          module
              + " required username=\""
              + jaasQuote(username)
              + "\" password=\""
              + jaasQuote(password)
              + "\";");
      boolean plaintext = transport == Transport.PLAINTEXT && !tls;
      p.put(
          CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, plaintext ? "SASL_PLAINTEXT" : "SASL_SSL");
    } else if (tls) {
      p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
    } else {
      p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
    }
    if (mtls.isPresent()) {
      JsonNode secret = secret(context, mtls.get());
      p.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
      p.put(
          SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG,
          text(secret, "certificate", mtls.get()));
      p.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, text(secret, "privateKey", mtls.get()));
      JsonNode keyPassword = secret.get("privateKeyPassword");
      if (keyPassword != null && keyPassword.isTextual() && !keyPassword.asText().isEmpty()) {
        p.put(SslConfigs.SSL_KEY_PASSWORD_CONFIG, keyPassword.asText());
      }
    }
    if (rootCa.isPresent()) {
      JsonNode secret = secret(context, rootCa.get());
      p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
      p.put(
          SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG, text(secret, "certificate", rootCa.get()));
    }
  }

  private static Optional<SourceAccess> find(EventSourceMapping m, String type) {
    return m.sourceAccess().stream().filter(a -> a.type().equals(type)).findFirst();
  }

  private static JsonNode secret(SourceContext context, SourceAccess a)
      throws SourceUnavailableException {
    String text = context.secret(a.uri());
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (Exception e) {
      // the secret's text is never part of the message
      throw new SourceUnavailableException(
          "PROBLEM: The secret " + a.uri() + " for " + a.type() + " is not a JSON object.");
    }
    if (node == null || !node.isObject()) {
      throw new SourceUnavailableException(
          "PROBLEM: The secret " + a.uri() + " for " + a.type() + " is not a JSON object.");
    }
    return node;
  }

  private static String text(JsonNode secret, String field, SourceAccess a)
      throws SourceUnavailableException {
    JsonNode v = secret.get(field);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      throw new SourceUnavailableException(
          "PROBLEM: The secret " + a.uri() + " for " + a.type() + " has no " + field + ".");
    }
    return v.asText();
  }

  /** A JAAS option value between double quotes: backslash and quote escaped. */
  static String jaasQuote(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
