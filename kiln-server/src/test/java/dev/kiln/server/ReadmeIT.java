package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs every snippet of the README's quick start, word for word as written there, against a real
 * Kiln on a random (so non-default) port, in a fresh shell that has only what the snippets' own
 * {@code eval "$(./kiln credentials)"} exports: the AWS CLI one in bash, the boto3 one in python3,
 * and the Java one with the JDK's source launcher.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadmeIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static String readme;

  @BeforeAll
  static void start() throws Exception {
    readme = Files.readString(projectRoot().resolve("README.md"));
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
   * A scratch directory to run snippets in, as a user would run them: a home of its own whose
   * {@code ~/.kiln} is this test's data directory (so the snippets' {@code ./kiln credentials},
   * with no options, finds the test's server on its random port through the endpoint the server
   * recorded there), a {@code ./kiln} that runs the command line from this test's class path (the
   * real script would build Kiln first), and no AWS key or endpoint in the environment but what the
   * snippets themselves export.
   */
  static Path userDir(String name) throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-readme-" + name + "-");
    Path home = Files.createDirectories(dir.resolve("home"));
    Files.createSymbolicLink(home.resolve(".kiln"), kiln.dataDir());
    Tools.kilnLauncher(dir);
    return dir;
  }

  /** The environment of a fresh shell: a home, a PATH with the AWS CLI, nothing of AWS's. */
  static Map<String, String> freshShell(Path dir) {
    Path home = dir.resolve("home");
    Map<String, String> env = new HashMap<>();
    env.put("HOME", home.toString());
    env.put("AWS_CONFIG_FILE", home.resolve(".aws/config").toString());
    env.put("AWS_SHARED_CREDENTIALS_FILE", home.resolve(".aws/credentials").toString());
    env.put("AWS_PAGER", "");
    env.put("PATH", Tools.awsCli().getParent() + ":/usr/bin:/bin:" + System.getenv("PATH"));
    return env;
  }

  static Tools.Result shell(Path dir, String command) throws Exception {
    return Tools.shell(dir, freshShell(dir), command);
  }

  @Test
  @Order(1)
  void awsCliSnippet_createsAndInvokesTheFunction() throws Exception {
    Path aws = Tools.awsCli();
    Path dir = userDir("cli");
    Tools.Result r = shell(dir, snippet("cli"));
    assertThat(r.exit()).as(r.output() + " (aws at " + aws + ")").isZero();
    assertThat(Files.readString(dir.resolve("out.json"))).isEqualTo("{\"hello\": \"Kiln\"}");
  }

  @Test
  @Order(2)
  void boto3Snippet_invokesTheFunction() throws Exception {
    Path python = Tools.pythonWithBoto3();
    Path dir = userDir("boto3");
    Files.writeString(dir.resolve("quickstart.py"), snippet("boto3"));
    Tools.Result r = shell(dir, "eval \"$(./kiln credentials)\"\n'" + python + "' quickstart.py");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output().trim()).isEqualTo("{'hello': 'boto3'}");
  }

  @Test
  @Order(3)
  void javaSnippet_invokesTheFunction() throws Exception {
    Path dir = userDir("java");
    Files.writeString(
        dir.resolve("Quickstart.java"),
        """
        import java.net.URI;
        import software.amazon.awssdk.core.SdkBytes;
        import software.amazon.awssdk.services.lambda.LambdaClient;
        import software.amazon.awssdk.services.lambda.model.InvokeResponse;

        public class Quickstart {
          public static void main(String[] args) {
        %s
            lambda.close();
          }
        }
        """
            .formatted(snippet("java")));
    String java = ProcessHandle.current().info().command().orElse("java");
    Tools.Result r =
        shell(
            dir,
            "eval \"$(./kiln credentials)\"\n'"
                + java
                + "' -cp '"
                + System.getProperty("java.class.path")
                + "' Quickstart.java");
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output().lines().toList()).as(r.output()).contains("{\"hello\": \"Java\"}");
  }
}
