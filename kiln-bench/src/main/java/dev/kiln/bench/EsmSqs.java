package dev.kiln.bench;

import dev.kiln.testing.brokers.ElasticMq;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * SQS for the {@code esm} suite: kiln-testing's ElasticMQ in the bench's JVM (Kiln is started with
 * {@code --sqs-endpoint} on it), standard queues with a 30 s visibility timeout, messages sent with
 * the AWS SDK's SQS client, and as the baseline one loop of that client receiving (up to
 * min(BatchSize, 10) messages per call, SQS's maximum, with a 1 s long poll) and deleting what it
 * received in one batch call, as a mapping deletes a batch after it succeeded.
 */
final class EsmSqs implements EsmSource {

  private final ElasticMq broker = ElasticMq.start();
  private final SqsClient sqs =
      SqsClient.builder()
          .endpointOverride(broker.endpoint())
          .region(Region.US_EAST_1)
          .credentialsProvider(
              StaticCredentialsProvider.create(AwsBasicCredentials.create("bench", "bench")))
          .httpClient(UrlConnectionHttpClient.create())
          .build();

  URI endpoint() {
    return broker.endpoint();
  }

  @Override
  public String name() {
    return "SQS (ElasticMQ)";
  }

  @Override
  public String baselineDescription() {
    return "SQS: one loop of the AWS SDK's SqsClient, ReceiveMessage of min(BatchSize, 10) with a"
        + " 1 s long poll then DeleteMessageBatch of what came; ElasticMQ in the bench's JVM";
  }

  private static String queue(String tag, Side side) {
    return tag + "-" + side.name().toLowerCase();
  }

  @Override
  public void prepare(String tag) {
    for (Side side : Side.values()) {
      broker.createQueue(queue(tag, side), Map.of("VisibilityTimeout", "30"));
    }
  }

  @Override
  public void mapping(CreateEventSourceMappingRequest.Builder b, String tag, int batchSize) {
    // above 10 messages SQS mappings need a batching window of at least a second, as on AWS
    b.eventSourceArn(broker.queueArn(queue(tag, Side.KILN)))
        .maximumBatchingWindowInSeconds(batchSize > 10 ? 1 : 0);
  }

  @Override
  public void produce(String tag, Side side, int n) throws Exception {
    String url = broker.queueUrl(queue(tag, side));
    // batches of 10 (SQS's maximum) from a few threads: ElasticMQ takes them in parallel
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      List<Future<?>> sends = new ArrayList<>();
      for (int from = 0; from < n; from += 10) {
        int start = from;
        int end = Math.min(n, from + 10);
        sends.add(
            pool.submit(
                () -> {
                  List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
                  for (int i = start; i < end; i++) {
                    entries.add(
                        SendMessageBatchRequestEntry.builder()
                            .id(Integer.toString(i))
                            .messageBody(EsmSource.payload(i, 0))
                            .build());
                  }
                  var answer = sqs.sendMessageBatch(b -> b.queueUrl(url).entries(entries));
                  if (!answer.failed().isEmpty()) {
                    throw new IllegalStateException("SendMessageBatch failed: " + answer.failed());
                  }
                  return null;
                }));
      }
      for (Future<?> f : sends) {
        f.get();
      }
    }
  }

  @Override
  public void produceOne(String tag, Side side, int index, long micros) {
    sqs.sendMessage(
        b ->
            b.queueUrl(broker.queueUrl(queue(tag, side)))
                .messageBody(EsmSource.payload(index, micros)));
  }

  @Override
  public Consumer openBaseline(String tag, int batchSize) {
    String url = broker.queueUrl(queue(tag, Side.BASELINE));
    int perReceive = Math.min(batchSize, 10);
    return new Consumer() {
      @Override
      public void read(int n, LongConsumer sent) {
        int got = 0;
        while (got < n) {
          List<Message> messages =
              sqs.receiveMessage(
                      b -> b.queueUrl(url).maxNumberOfMessages(perReceive).waitTimeSeconds(1))
                  .messages();
          if (messages.isEmpty()) {
            continue;
          }
          for (Message m : messages) {
            sent.accept(EsmSource.sentMicros(m.body()));
          }
          List<DeleteMessageBatchRequestEntry> deletes = new ArrayList<>();
          for (int i = 0; i < messages.size(); i++) {
            deletes.add(
                DeleteMessageBatchRequestEntry.builder()
                    .id(Integer.toString(i))
                    .receiptHandle(messages.get(i).receiptHandle())
                    .build());
          }
          sqs.deleteMessageBatch(b -> b.queueUrl(url).entries(deletes));
          got += messages.size();
        }
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void close() {
    sqs.close();
    broker.close();
  }
}
