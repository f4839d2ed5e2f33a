package dev.kiln.bench;

import java.net.http.HttpClient;
import java.util.Map;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;

/** What a suite works with: the settings, the Kiln under measurement and one HTTP client. */
record BenchContext(BenchSettings settings, KilnProcess kiln, HttpClient http) {

  LambdaClient lambda() {
    return kiln.lambda();
  }

  /** Creates a function with the language's no-op handler and waits until it is active. */
  void createNoop(String name, Language language, Map<String, String> environment) {
    createFunction(name, language, language.zip(), environment);
  }

  void createFunction(String name, Language language, byte[] zip, Map<String, String> environment) {
    createFunction(name, language, zip, environment, BenchSettings.FUNCTION_MEMORY_MB);
  }

  /** The same at a memory size of the suite's choosing. */
  void createFunction(
      String name, Language language, byte[] zip, Map<String, String> environment, int memoryMb) {
    lambda()
        .createFunction(
            b ->
                b.functionName(name)
                    .runtime(language.runtime)
                    .handler(language.handler)
                    .role("arn:aws:iam::000000000000:role/kiln-bench")
                    .memorySize(memoryMb)
                    .timeout(60)
                    .environment(e -> e.variables(environment))
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    lambda().waiter().waitUntilFunctionActiveV2(b -> b.functionName(name));
  }
}
