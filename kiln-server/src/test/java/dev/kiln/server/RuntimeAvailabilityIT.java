package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.Account;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.Runtime;

/** A runtime whose interpreter is not installed is refused at CreateFunction, naming it. */
class RuntimeAvailabilityIT {

  @Test
  void createFunction_withAMissingInterpreter_isRefusedAndStoresNothing() throws Exception {
    try (KilnServer server =
            KilnServer.start(
                new ServerSettings(
                    "127.0.0.1",
                    0,
                    dev.kiln.testing.TempDirs.create("kiln-missing-"),
                    Account.DEFAULT,
                    Duration.ofMinutes(1),
                    Duration.ofSeconds(5),
                    Map.of("python3.13", "/opt/no-such-python/bin/python3.13"),
                    ServerSettings.SandboxChoice.PROCESS,
                    true,
                    ServerSettings.DEFAULT_CONCURRENCY_LIMIT,
                    ServerSettings.DEFAULT_SCALE_OUT_RATE,
                    ServerSettings.defaultInstanceMemoryMb(),
                    ServerSettings.DEFAULT_ASYNC_RETRY_DELAY,
                    ServerSettings.DEFAULT_LOG_RETENTION,
                    ServerSettings.DEFAULT_LOG_MAX_BYTES,
                    java.util.Optional.empty(),
                    true,
                    java.util.Optional.empty(),
                    ServerSettings.DEFAULT_INSTANCE_CREDENTIALS_LIFETIME,
                    ServerSettings.DEFAULT_CLIENT_TIMEOUT,
                    dev.kiln.store.Storage.DEFAULT,
                    dev.kiln.api.auth.IdentityPolicies.Mode.COMPAT,
                    java.util.Optional.empty(),
                    ServerSettings.Triggers.NONE,
                    ServerSettings.DEFAULT_ZYGOTE));
        var lambda = KilnFixture.client(server)) {
      assertThatThrownBy(
              () ->
                  lambda.createFunction(
                      b ->
                          b.functionName("needs-313")
                              .runtime(Runtime.PYTHON3_13)
                              .handler("app.handler")
                              .role(KilnFixture.ROLE)
                              .code(
                                  c ->
                                      c.zipFile(
                                          software.amazon.awssdk.core.SdkBytes.fromByteArray(
                                              Zips.of("app.py", "def handler(e, c): pass\n"))))))
          .isInstanceOfSatisfying(
              AwsServiceException.class,
              e ->
                  BadInputIT.assertAwsError(
                      e,
                      400,
                      "InvalidParameterValueException",
                      "The runtime python3.13 is not installed on this Kiln server: its interpreter"
                          + " '/opt/no-such-python/bin/python3.13' was not found"));
      org.assertj.core.api.Assertions.assertThat(
              lambda.listFunctions().functions().stream().map(FunctionConfiguration::functionName))
          .isEmpty();
    }
  }
}
