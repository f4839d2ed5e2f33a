package dev.kiln.bench;

import dev.kiln.testing.brokers.KafkaBroker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;

/**
 * Self-managed Kafka for the {@code esm} suite: kiln-testing's one-node KRaft broker in the bench's
 * JVM, one-partition topics, records produced with Kafka's own producer ({@code acks=all}), and as
 * the baseline a plain {@link KafkaConsumer} of a group of its own that polls (at most BatchSize
 * records per poll, as Kiln's batches) and commits each poll synchronously, as a mapping commits
 * each batch.
 */
final class EsmKafka implements EsmSource {

  private final KafkaBroker broker = new KafkaBroker();
  private final String bootstrap = broker.start();
  private final KafkaProducer<String, String> producer;

  EsmKafka() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    producer = new KafkaProducer<>(p);
  }

  @Override
  public String name() {
    return "Kafka";
  }

  @Override
  public String baselineDescription() {
    return "Kafka: a KafkaConsumer of its own group, max.poll.records = BatchSize, commitSync after"
        + " each poll; topics of one partition on a one-node KRaft broker in the bench's JVM";
  }

  private static String topic(String tag, Side side) {
    return tag + "-" + side.name().toLowerCase();
  }

  @Override
  public void prepare(String tag) {
    for (Side side : Side.values()) {
      broker.createTopic(topic(tag, side), 1);
    }
  }

  @Override
  public void mapping(CreateEventSourceMappingRequest.Builder b, String tag, int batchSize) {
    b.topics(topic(tag, Side.KILN))
        .startingPosition(EventSourcePosition.TRIM_HORIZON)
        .selfManagedEventSource(
            s -> s.endpointsWithStrings(Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of(bootstrap))));
  }

  @Override
  public void produce(String tag, Side side, int n) throws Exception {
    String topic = topic(tag, side);
    for (int i = 0; i < n; i++) {
      producer.send(new ProducerRecord<>(topic, null, EsmSource.payload(i, 0)));
    }
    producer.flush();
  }

  @Override
  public void produceOne(String tag, Side side, int index, long micros) throws Exception {
    producer
        .send(new ProducerRecord<>(topic(tag, side), null, EsmSource.payload(index, micros)))
        .get(30, TimeUnit.SECONDS);
  }

  @Override
  public Consumer openBaseline(String tag, int batchSize) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "baseline-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(batchSize));
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p);
    consumer.subscribe(List.of(topic(tag, Side.BASELINE)));
    return new Consumer() {
      @Override
      public void read(int n, LongConsumer sent) {
        int got = 0;
        while (got < n) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
            sent.accept(EsmSource.sentMicros(r.value()));
            got++;
          }
          consumer.commitSync();
        }
      }

      @Override
      public void close() {
        consumer.close(Duration.ofSeconds(5));
      }
    };
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
    broker.close();
  }
}
