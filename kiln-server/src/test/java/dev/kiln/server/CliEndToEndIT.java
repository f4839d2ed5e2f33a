package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The AWS CLI, as installed, creating, invoking, updating and deleting Python and Node functions.
 */
class CliEndToEndIT {

  static KilnFixture kiln;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() {
    kiln = new KilnFixture();
  }

  @AfterAll
  static void stop() {
    kiln.close();
  }

  static Tools.Result aws(Path dir, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Tools.awsCli().toString());
    command.add("--endpoint-url");
    command.add(kiln.server.endpoint().toString());
    command.add("--output");
    command.add("json");
    command.addAll(List.of(args));
    Tools.Result r = Tools.run(command, dir, Tools.awsEnv(dir.resolve("home")));
    assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.output()).isZero();
    return r;
  }

  void createInvokeUpdateDelete(
      String name,
      String runtime,
      String handler,
      Map<String, String> files,
      String expected,
      String expectedAfterUpdate)
      throws Exception {
    Path dir = Files.createTempDirectory("kiln-cli-");
    Files.write(dir.resolve("function.zip"), Zips.of(files));
    JsonNode created =
        JSON.readTree(
            aws(
                    dir,
                    "lambda",
                    "create-function",
                    "--function-name",
                    name,
                    "--runtime",
                    runtime,
                    "--handler",
                    handler,
                    "--role",
                    KilnFixture.ROLE,
                    "--zip-file",
                    "fileb://function.zip")
                .output());
    assertThat(created.get("FunctionArn").asText())
        .isEqualTo("arn:aws:lambda:us-east-1:000000000000:function:" + name);
    aws(dir, "lambda", "wait", "function-active-v2", "--function-name", name);

    JsonNode invoked =
        JSON.readTree(
            aws(
                    dir,
                    "lambda",
                    "invoke",
                    "--function-name",
                    name,
                    "--cli-binary-format",
                    "raw-in-base64-out",
                    "--payload",
                    "{\"name\": \"cli\"}",
                    "--log-type",
                    "Tail",
                    "out.json")
                .output());
    assertThat(invoked.get("StatusCode").asInt()).isEqualTo(200);
    assertThat(invoked.get("ExecutedVersion").asText()).isEqualTo("$LATEST");
    assertThat(new String(java.util.Base64.getDecoder().decode(invoked.get("LogResult").asText())))
        .contains("REPORT RequestId:");
    assertThat(Files.readString(dir.resolve("out.json"))).isEqualTo(expected);

    aws(
        dir,
        "lambda",
        "update-function-configuration",
        "--function-name",
        name,
        "--environment",
        "Variables={GREETING=howdy}");
    aws(dir, "lambda", "wait", "function-updated-v2", "--function-name", name);
    aws(
        dir,
        "lambda",
        "invoke",
        "--function-name",
        name,
        "--cli-binary-format",
        "raw-in-base64-out",
        "--payload",
        "{\"name\": \"cli\"}",
        "out2.json");
    assertThat(Files.readString(dir.resolve("out2.json"))).isEqualTo(expectedAfterUpdate);

    JsonNode listed = JSON.readTree(aws(dir, "lambda", "list-functions").output());
    assertThat(listed.get("Functions").findValuesAsText("FunctionName")).contains(name);
    aws(dir, "lambda", "delete-function", "--function-name", name);
    Tools.Result missing =
        Tools.run(
            List.of(
                Tools.awsCli().toString(),
                "--endpoint-url",
                kiln.server.endpoint().toString(),
                "lambda",
                "get-function",
                "--function-name",
                name),
            dir,
            Tools.awsEnv(dir.resolve("home")));
    assertThat(missing.exit()).isNotZero();
    assertThat(missing.output()).contains("ResourceNotFoundException");
  }

  @Test
  void pythonFunction() throws Exception {
    createInvokeUpdateDelete(
        "cli-python",
        "python3.12",
        "app.handler",
        Map.of(
            "app.py",
            "import os\ndef handler(event, context):\n    return os.environ.get('GREETING', 'hello') + ' ' + event['name']\n"),
        "\"hello cli\"",
        "\"howdy cli\"");
  }

  @Test
  void nodeFunction() throws Exception {
    createInvokeUpdateDelete(
        "cli-node",
        "nodejs20.x",
        "index.handler",
        Map.of(
            "index.js",
            "exports.handler = async (event) => (process.env.GREETING || 'hello') + ' ' + event.name;\n"),
        "\"hello cli\"",
        "\"howdy cli\"");
  }
}
