package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * Runs every snippet of the README's quick start, as written there, against a real Kiln: the AWS
 * CLI one in bash, the boto3 one in python3, and the Java one, which must be the code of {@link
 * #javaSnippet} word for word.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadmeIT {

  static KilnFixture kiln;
  static String readme;

  @BeforeAll
  static void start() throws Exception {
    kiln = new KilnFixture();
    readme = Files.readString(projectRoot().resolve("README.md"));
  }

  @AfterAll
  static void stop() {
    kiln.close();
  }

  static Path projectRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (!Files.exists(dir.resolve("README.md")) || !Files.exists(dir.resolve("kiln"))) {
      dir = dir.getParent();
    }
    return dir;
  }

  static String snippet(String name) {
    Matcher m =
        Pattern.compile("<!-- snippet: " + name + " -->\\s*```\\w+\\n(.*?)```", Pattern.DOTALL)
            .matcher(readme);
    assertThat(m.find()).as("README has a snippet named " + name).isTrue();
    return m.group(1);
  }

  /**
   * A snippet as it runs against this test's server: its address instead of the default one, and
   * {@code ./kiln credentials} as the same command run from this test's class path (the script
   * would build Kiln first) on this server's data directory.
   */
  static String againstTestServer(String code) {
    String java = ProcessHandle.current().info().command().orElse("java");
    return code.replace("http://127.0.0.1:9000", kiln.server.endpoint().toString())
        .replace(
            "./kiln credentials",
            java
                + " -cp '"
                + System.getProperty("java.class.path")
                + "' "
                + KilnCli.class.getName()
                + " credentials --data-dir '"
                + kiln.dataDir
                + "' --endpoint "
                + kiln.server.endpoint());
  }

  @Test
  @Order(1)
  void awsCliSnippet_createsAndInvokesTheFunction() throws Exception {
    Path aws = Tools.awsCli();
    Path dir = Files.createTempDirectory("kiln-readme-cli-");
    Tools.Result r =
        Tools.run(
            List.of("bash", "-euo", "pipefail", "-c", againstTestServer(snippet("cli"))),
            dir,
            Tools.awsEnv(dir.resolve("home"), kiln.dataDir));
    assertThat(r.exit()).as(r.output() + " (aws at " + aws + ")").isZero();
    assertThat(Files.readString(dir.resolve("out.json"))).isEqualTo("{\"hello\": \"Kiln\"}");
  }

  @Test
  @Order(2)
  void boto3Snippet_invokesTheFunction() throws Exception {
    Path python = Tools.pythonWithBoto3();
    Path dir = Files.createTempDirectory("kiln-readme-boto3-");
    Path script = dir.resolve("quickstart.py");
    Files.writeString(script, againstTestServer(snippet("boto3")));
    Tools.Result r =
        Tools.run(
            List.of(python.toString(), script.toString()),
            dir,
            Tools.awsEnv(dir.resolve("home"), kiln.dataDir));
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output().trim()).isEqualTo("{'hello': 'boto3'}");
  }

  @Test
  @Order(3)
  void javaSnippet_isThisTestsCodeAndInvokesTheFunction() throws Exception {
    String source =
        Files.readString(
            projectRoot().resolve("kiln-server/src/test/java/dev/kiln/server/ReadmeIT.java"));
    Matcher m =
        Pattern.compile("// snippet-start\\n(.*?)\\n\\s*// snippet-end", Pattern.DOTALL)
            .matcher(source);
    assertThat(m.find()).isTrue();
    assertThat(normalize(snippet("java"))).isEqualTo(normalize(m.group(1)));

    var out = new java.io.ByteArrayOutputStream();
    var original = System.out;
    System.setOut(new java.io.PrintStream(out, true));
    // what eval "$(./kiln credentials)" puts in the environment, where the SDK's default chain
    // also looks in this JVM's system properties
    System.setProperty("aws.accessKeyId", kiln.credentials().accessKeyId());
    System.setProperty("aws.secretAccessKey", kiln.credentials().secretAccessKey());
    try {
      javaSnippet(kiln.server.endpoint());
    } finally {
      System.setOut(original);
      System.clearProperty("aws.accessKeyId");
      System.clearProperty("aws.secretAccessKey");
    }
    assertThat(out.toString().trim()).isEqualTo("{\"hello\": \"Java\"}");
  }

  static String normalize(String code) {
    return code.lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty())
        .reduce("", (a, b) -> a + b + "\n");
  }

  private static volatile String serving;

  static void javaSnippet(java.net.URI endpoint) {
    // the README shows Kiln's default address; inside this method URI.create sends the very same
    // code to this test's server instead
    class URI {
      static java.net.URI create(String s) {
        return java.net.URI.create(s.replace("http://127.0.0.1:9000", serving));
      }
    }
    serving = endpoint.toString();
    // snippet-start
    LambdaClient lambda =
        LambdaClient.builder()
            .endpointOverride(URI.create("http://127.0.0.1:9000"))
            .region(Region.US_EAST_1)
            // the environment's key (eval "$(./kiln credentials)"), as for AWS
            .credentialsProvider(DefaultCredentialsProvider.create())
            .build();
    InvokeResponse response =
        lambda.invoke(
            b -> b.functionName("hello").payload(SdkBytes.fromUtf8String("{\"name\": \"Java\"}")));
    System.out.println(response.payload().asUtf8String()); // {"hello": "Java"}
    // snippet-end
    lambda.close();
  }
}
