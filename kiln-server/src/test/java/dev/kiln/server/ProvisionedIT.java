package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyConfigNotFoundException;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyStatusEnum;

/**
 * Provisioned concurrency: instances started and initialised ahead of demand, never reaped,
 * replaced when they die, with on-demand instances beyond them.
 */
class ProvisionedIT {

  static final ObjectMapper JSON = new ObjectMapper();

  static final String CODE =
      "import os, threading, time\n"
          + "def handler(e, c):\n"
          + "    time.sleep(e.get('s', 0))\n"
          + "    if e.get('die'):\n"
          + "        threading.Timer(0.2, lambda: os._exit(1)).start()\n"
          + "        return c.log_stream_name\n"
          + "    return os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']\n";

  static InvokeResponse invoke(KilnFixture kiln, double seconds) {
    return kiln.lambda.invoke(
        b ->
            b.functionName("warm")
                .qualifier("live")
                .logType(LogType.TAIL)
                .payload(SdkBytes.fromUtf8String("{\"s\": " + seconds + "}")));
  }

  static void awaitReady(KilnFixture kiln, int count) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              var c =
                  kiln.lambda.getProvisionedConcurrencyConfig(
                      b -> b.functionName("warm").qualifier("live"));
              assertThat(c.status()).isEqualTo(ProvisionedConcurrencyStatusEnum.READY);
              assertThat(c.allocatedProvisionedConcurrentExecutions()).isEqualTo(count);
            });
  }

  @Test
  void provisionedInstances_areReadyAheadOfDemand_neverReaped_andReplacedWhenTheyDie()
      throws Exception {
    try (KilnFixture kiln = new KilnFixture(Duration.ofMillis(500))) {
      kiln.python("warm", CODE);
      kiln.lambda.updateFunctionConfiguration(b -> b.functionName("warm").timeout(20));
      kiln.lambda.publishVersion(b -> b.functionName("warm"));
      kiln.lambda.createAlias(b -> b.functionName("warm").name("live").functionVersion("1"));

      var put =
          kiln.lambda.putProvisionedConcurrencyConfig(
              b -> b.functionName("warm").qualifier("live").provisionedConcurrentExecutions(2));
      assertThat(put.requestedProvisionedConcurrentExecutions()).isEqualTo(2);
      assertThat(put.status())
          .isIn(
              ProvisionedConcurrencyStatusEnum.IN_PROGRESS, ProvisionedConcurrencyStatusEnum.READY);
      awaitReady(kiln, 2);
      assertThat(kiln.server.invoker().instanceCount()).as("started before any call").isEqualTo(2);

      InvokeResponse first = invoke(kiln, 0);
      assertThat(first.payload().asUtf8String()).isEqualTo("\"provisioned-concurrency\"");
      String log =
          new String(Base64.getDecoder().decode(first.logResult()), StandardCharsets.UTF_8);
      assertThat(log)
          .as("no init on the path")
          .doesNotContain("Init Duration")
          .doesNotContain("INIT_START");

      // three at once: two provisioned, and one on-demand beyond them
      List<CompletableFuture<String>> calls = new ArrayList<>();
      var threads = java.util.concurrent.Executors.newFixedThreadPool(3);
      for (int i = 0; i < 3; i++) {
        calls.add(
            CompletableFuture.supplyAsync(() -> invoke(kiln, 2).payload().asUtf8String(), threads));
      }
      threads.shutdown();
      assertThat(calls.stream().map(CompletableFuture::join))
          .containsExactlyInAnyOrder(
              "\"provisioned-concurrency\"", "\"provisioned-concurrency\"", "\"on-demand\"");

      // the keep-alive is half a second: the on-demand instance goes, the provisioned stay
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> kiln.server.invoker().instanceCount() == 2);
      Thread.sleep(1500);
      assertThat(kiln.server.invoker().instanceCount()).isEqualTo(2);

      // a provisioned instance dies (its runtime exits after answering): another takes its place
      String stream =
          kiln.lambda
              .invoke(
                  b ->
                      b.functionName("warm")
                          .qualifier("live")
                          .payload(SdkBytes.fromUtf8String("{\"die\": true}")))
              .payload()
              .asUtf8String()
              .replace("\"", "");
      Path dead =
          kiln.dataDir.resolve("instances").resolve(stream.substring(stream.lastIndexOf(']') + 1));
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(dead));
      awaitReady(kiln, 2);
      assertThat(kiln.server.invoker().instanceCount()).isEqualTo(2);

      var list = kiln.lambda.listProvisionedConcurrencyConfigs(b -> b.functionName("warm"));
      assertThat(list.provisionedConcurrencyConfigs()).hasSize(1);
      assertThat(list.provisionedConcurrencyConfigs().get(0).functionArn())
          .endsWith(":function:warm:live");

      kiln.lambda.deleteProvisionedConcurrencyConfig(b -> b.functionName("warm").qualifier("live"));
      assertThatThrownBy(
              () ->
                  kiln.lambda.getProvisionedConcurrencyConfig(
                      b -> b.functionName("warm").qualifier("live")))
          .isInstanceOfSatisfying(
              ProvisionedConcurrencyConfigNotFoundException.class,
              e ->
                  assertThat(e.awsErrorDetails().errorMessage())
                      .isEqualTo("No Provisioned Concurrency Config found for this function"));
      // no longer provisioned: ordinary idle instances, reaped after the keep-alive
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> kiln.server.invoker().instanceCount() == 0);
    }
  }

  @Test
  void provisionedConcurrency_needsAPublishedVersionOrAlias() {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("unpublished", CODE);
      assertThatThrownBy(
              () ->
                  kiln.lambda.putProvisionedConcurrencyConfig(
                      b ->
                          b.functionName("unpublished")
                              .qualifier("$LATEST")
                              .provisionedConcurrentExecutions(1)))
          .isInstanceOfSatisfying(
              InvalidParameterValueException.class,
              e ->
                  assertThat(e.awsErrorDetails().errorMessage())
                      .isEqualTo(
                          "Provisioned Concurrency Configs cannot be applied to unpublished"
                              + " function versions."));
      assertThatThrownBy(
              () ->
                  kiln.lambda.putProvisionedConcurrencyConfig(
                      b ->
                          b.functionName("unpublished")
                              .qualifier("7")
                              .provisionedConcurrentExecutions(1)))
          .isInstanceOf(
              software.amazon.awssdk.services.lambda.model.ResourceNotFoundException.class);
      assertThat(kiln.server.invoker().instanceCount()).isZero();
    }
  }
}
