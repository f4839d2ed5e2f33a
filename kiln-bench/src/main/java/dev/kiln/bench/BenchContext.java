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

  /**
   * Gives {@code function} a public function URL (auth type NONE, with the two permissions Lambda
   * requires) and returns it in Kiln's path form, which needs no host name.
   */
  java.net.URI publicUrl(String function) {
    String url =
        lambda()
            .createFunctionUrlConfig(
                b ->
                    b.functionName(function)
                        .authType(
                            software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType.NONE))
            .functionUrl();
    lambda()
        .addPermission(
            b ->
                b.functionName(function)
                    .statementId("url")
                    .action("lambda:InvokeFunctionUrl")
                    .principal("*")
                    .functionUrlAuthType(
                        software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType.NONE));
    lambda()
        .addPermission(
            b ->
                b.functionName(function)
                    .statementId("invoke")
                    .action("lambda:InvokeFunction")
                    // unconditional: the SDK Kiln builds with predates InvokedViaFunctionUrl
                    .principal("*"));
    String host = java.net.URI.create(url).getHost();
    return java.net.URI.create(
        kiln.endpoint() + "/kiln/url/" + host.substring(0, host.indexOf('.')) + "/");
  }
}
