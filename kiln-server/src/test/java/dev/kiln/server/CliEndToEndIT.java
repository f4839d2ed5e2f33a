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
    Tools.Result r = Tools.aws(kiln, dir, args);
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
            Tools.awsEnv(dir.resolve("home"), kiln.dataDir));
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

  @Test
  void layers_withTheAwsCli_andBoto3() throws Exception {
    Path dir = Files.createTempDirectory("kiln-cli-layers-");
    Files.write(
        dir.resolve("layer.zip"), Zips.of("python/cli_lib.py", "WORD = 'from-cli-layer'\n"));
    Files.write(
        dir.resolve("function.zip"),
        Zips.of("app.py", "import cli_lib\ndef handler(e, c):\n    return cli_lib.WORD\n"));
    JsonNode published =
        JSON.readTree(
            aws(
                    dir,
                    "lambda",
                    "publish-layer-version",
                    "--layer-name",
                    "cli-layer",
                    "--compatible-runtimes",
                    "python3.12",
                    "--zip-file",
                    "fileb://layer.zip")
                .output());
    String arn = published.get("LayerVersionArn").asText();
    assertThat(arn).isEqualTo("arn:aws:lambda:us-east-1:000000000000:layer:cli-layer:1");
    JsonNode layers =
        JSON.readTree(
            aws(dir, "lambda", "list-layers", "--compatible-runtime", "python3.12").output());
    assertThat(layers.get("Layers").toString()).contains("cli-layer");
    aws(
        dir,
        "lambda",
        "create-function",
        "--function-name",
        "cli-layered",
        "--runtime",
        "python3.12",
        "--handler",
        "app.handler",
        "--role",
        KilnFixture.ROLE,
        "--layers",
        arn,
        "--zip-file",
        "fileb://function.zip");
    aws(dir, "lambda", "invoke", "--function-name", "cli-layered", "out.json");
    assertThat(Files.readString(dir.resolve("out.json"))).isEqualTo("\"from-cli-layer\"");

    // boto3: the same layer, looked up by ARN, listed, then deleted
    Path script = dir.resolve("layers.py");
    Files.writeString(
        script,
        """
        import boto3, sys
        lam = boto3.client('lambda', endpoint_url=sys.argv[1], region_name='us-east-1')
        v = lam.get_layer_version_by_arn(Arn=sys.argv[2])
        versions = lam.list_layer_versions(LayerName='cli-layer')['LayerVersions']
        lam.delete_layer_version(LayerName='cli-layer', VersionNumber=1)
        try:
            lam.get_layer_version(LayerName='cli-layer', VersionNumber=1)
            gone = 'still there'
        except lam.exceptions.ResourceNotFoundException as e:
            gone = e.response['Error']['Code']
        print(v['Version'], v['CompatibleRuntimes'][0], len(versions), gone)
        """);
    Tools.Result r =
        Tools.run(
            List.of(
                Tools.pythonWithBoto3().toString(),
                script.toString(),
                kiln.server.endpoint().toString(),
                arn),
            dir,
            Tools.awsEnv(dir.resolve("home"), kiln.dataDir));
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output().trim()).isEqualTo("1 python3.12 1 ResourceNotFoundException");
  }

  @Test
  void logsTail_printsTheFunctionsLog_andFollowsIt() throws Exception {
    Path dir = Files.createTempDirectory("kiln-cli-tail-");
    Files.write(
        dir.resolve("function.zip"),
        Zips.of("app.py", "def handler(e, c):\n    print('tail-' + e['n'])\n"));
    aws(
        dir,
        "lambda",
        "create-function",
        "--function-name",
        "cli-tailed",
        "--runtime",
        "python3.12",
        "--handler",
        "app.handler",
        "--role",
        KilnFixture.ROLE,
        "--zip-file",
        "fileb://function.zip");
    Files.writeString(dir.resolve("one.json"), "{\"n\": \"one\"}");
    aws(
        dir,
        "lambda",
        "invoke",
        "--function-name",
        "cli-tailed",
        "--payload",
        "fileb://one.json",
        "out.json");
    String tailed = "";
    for (int i = 0; i < 50 && !tailed.contains("REPORT RequestId"); i++) {
      Thread.sleep(100);
      tailed = aws(dir, "logs", "tail", "/aws/lambda/cli-tailed", "--since", "1h").output();
    }
    assertThat(tailed)
        .containsPattern("\\S+ \\d{4}/\\d{2}/\\d{2}/\\[\\$LATEST\\]\\S+ START RequestId: ")
        .contains("tail-one")
        .contains("REPORT RequestId");

    // --follow polls for what comes next, until it is stopped
    List<String> follow = new ArrayList<>();
    follow.addAll(
        List.of(
            Tools.awsCli().toString(),
            "--endpoint-url",
            kiln.server.endpoint().toString(),
            "logs",
            "tail",
            "/aws/lambda/cli-tailed",
            "--follow",
            "--format",
            "short"));
    ProcessBuilder b = new ProcessBuilder(follow).directory(dir.toFile()).redirectErrorStream(true);
    b.environment().putAll(Tools.awsEnv(dir.resolve("home"), kiln.dataDir));
    Process p = b.start();
    StringBuffer seen = new StringBuffer();
    Thread reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    p.getInputStream()
                        .transferTo(
                            new java.io.OutputStream() {
                              @Override
                              public void write(int c) {
                                seen.append((char) c);
                              }
                            });
                  } catch (java.io.IOException e) {
                    // the process was stopped
                  }
                });
    try {
      Files.writeString(dir.resolve("two.json"), "{\"n\": \"two\"}");
      for (int i = 0; i < 300 && !seen.toString().contains("tail-two"); i++) {
        if (i % 50 == 0) {
          aws(
              dir,
              "lambda",
              "invoke",
              "--function-name",
              "cli-tailed",
              "--payload",
              "fileb://two.json",
              "out.json");
        }
        Thread.sleep(100);
      }
    } finally {
      p.destroy();
      reader.join(5000);
    }
    assertThat(seen.toString()).as("aws logs tail --follow").contains("tail-two");
  }
}
