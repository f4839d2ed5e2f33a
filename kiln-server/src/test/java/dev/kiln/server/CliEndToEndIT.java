package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The AWS CLI, as installed, creating, invoking, updating and deleting Python and Node functions.
 */
class CliEndToEndIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static final ObjectMapper JSON = new ObjectMapper();

  static Tools.Result aws(Path dir, String... args) throws Exception {
    Tools.Result r = Tools.aws(kiln.fixture(), dir, args);
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
    Path dir = dev.kiln.testing.TempDirs.create("kiln-cli-");
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
                kiln.server().endpoint().toString(),
                "lambda",
                "get-function",
                "--function-name",
                name),
            dir,
            Tools.awsEnv(dir.resolve("home"), kiln.dataDir()));
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
    Path dir = dev.kiln.testing.TempDirs.create("kiln-cli-layers-");
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
                kiln.server().endpoint().toString(),
                arn),
            dir,
            Tools.awsEnv(dir.resolve("home"), kiln.dataDir()));
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output().trim()).isEqualTo("1 python3.12 1 ResourceNotFoundException");
  }

  @Test
  void logsTail_printsTheFunctionsLog_andFollowsIt() throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-cli-tail-");
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
            kiln.server().endpoint().toString(),
            "logs",
            "tail",
            "/aws/lambda/cli-tailed",
            "--follow",
            "--format",
            "short"));
    ProcessBuilder b = new ProcessBuilder(follow).directory(dir.toFile()).redirectErrorStream(true);
    b.environment().putAll(Tools.awsEnv(dir.resolve("home"), kiln.dataDir()));
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

  /** A user's directory with the {@code ./kiln} stand-in, and a fresh shell's environment. */
  static Map<String, String> userShell(Path dir) throws Exception {
    Tools.kilnLauncher(dir);
    Path home = Files.createDirectories(dir.resolve("home"));
    Map<String, String> env = new java.util.HashMap<>();
    env.put("HOME", home.toString());
    env.put("AWS_CONFIG_FILE", home.resolve(".aws/config").toString());
    env.put("AWS_SHARED_CREDENTIALS_FILE", home.resolve(".aws/credentials").toString());
    env.put("AWS_PAGER", "");
    return env;
  }

  static Map<String, String> exported(String printed) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    printed
        .lines()
        .filter(l -> l.startsWith("export "))
        .forEach(
            l -> {
              String[] kv = l.substring("export ".length()).split("=", 2);
              out.put(kv[0], kv[1]);
            });
    return out;
  }

  /** Every AWS CLI on this machine with its version, e.g. {@code /usr/bin/aws=2.9.19}. */
  static Map<Path, String> everyAwsCli() throws Exception {
    Map<Path, String> found = new java.util.LinkedHashMap<>();
    for (Path aws : Tools.findAll("aws")) {
      Tools.Result v = Tools.run(List.of(aws.toString(), "--version"), Path.of("."), Map.of());
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("aws-cli/(\\d+\\.\\d+\\.\\d+)").matcher(v.output());
      if (v.exit() == 0 && m.find()) {
        found.put(aws, m.group(1));
      }
    }
    if (found.isEmpty()) {
      Tools.awsCli(); // skipped, or failed in CI
    }
    return found;
  }

  /** Whether this AWS CLI reads service-specific endpoint settings (2.13+, 1.29+). */
  static boolean readsServiceEndpoints(String version) {
    String[] v = version.split("\\.");
    int major = Integer.parseInt(v[0]);
    int minor = Integer.parseInt(v[1]);
    return major == 2 ? minor >= 13 : major == 1 && minor >= 29;
  }

  @Test
  void credentials_exportTheRecordedEndpoint_forLambdaAndLogsOnly_andTheRegionUnderBothNames()
      throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-cli-credentials-");
    Map<String, String> env = userShell(dir);
    for (String command :
        List.of(
            "./kiln credentials --data-dir '" + kiln.dataDir() + "'",
            "./kiln credentials add --role invoke --data-dir '" + kiln.dataDir() + "'")) {
      Tools.Result r = Tools.shell(dir, env, command);
      assertThat(r.exit()).as(r.output()).isZero();
      Map<String, String> exports = exported(r.output());
      String endpoint = kiln.server().endpoint().toString();
      assertThat(endpoint).doesNotEndWith(":" + ServerSettings.DEFAULT_PORT);
      assertThat(exports)
          .as(command)
          .containsEntry("AWS_ENDPOINT_URL_LAMBDA", endpoint)
          .containsEntry("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", endpoint)
          .containsEntry("AWS_REGION", "us-east-1")
          .containsEntry("AWS_DEFAULT_REGION", "us-east-1")
          .containsKeys("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
          .doesNotContainKey("AWS_ENDPOINT_URL");
    }
  }

  @Test
  void theBanner_namesThePythonThatServesEachPythonIdentifier() {
    assertThat(kiln.server().banner())
        .filteredOn(l -> l.startsWith("  runtime python3.") && !l.contains("not installed"))
        // the interpreter, what it carries (the SDK), and its version
        .allMatch(
            l -> l.matches("  runtime (python3\\.\\d+): \\S+.* \\(Python 3\\.\\d+\\.\\d+.*\\)"))
        .allMatch(
            l -> {
              String id = l.substring("  runtime python".length(), l.indexOf(':'));
              return l.contains("(Python " + id + ".") != l.contains("WARNING: not " + id);
            });
  }

  @Test
  void theBannersCommands_reachThisKiln_withEveryAwsCliInstalled() throws Exception {
    List<String> banner = kiln.server().banner();
    String eval =
        banner.stream().filter(l -> l.contains("eval \"$(./kiln credentials")).findFirst().get();
    String list =
        banner.stream().filter(l -> l.strip().startsWith("aws ")).findFirst().orElseThrow();
    for (var cli : everyAwsCli().entrySet()) {
      Path dir = dev.kiln.testing.TempDirs.create("kiln-cli-banner-");
      Map<String, String> env = userShell(dir);
      Tools.Result r =
          Tools.shell(
              dir,
              env,
              eval.strip() + "\n" + list.strip().replaceFirst("^aws ", "'" + cli.getKey() + "' "));
      assertThat(r.exit()).as(cli + ": " + r.output()).isZero();
      assertThat(JSON.readTree(r.output()).has("Functions")).as(r.output()).isTrue();
    }
  }

  @Test
  void logsAndUsage_findTheServerOfTheirDataDirectory_onItsPort() throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-cli-clients-");
    Files.write(
        dir.resolve("function.zip"),
        Zips.of("app.py", "def handler(e, c):\n    print('found-me')\n"));
    aws(
        dir,
        "lambda",
        "create-function",
        "--function-name",
        "cli-found",
        "--runtime",
        "python3.12",
        "--handler",
        "app.handler",
        "--role",
        KilnFixture.ROLE,
        "--zip-file",
        "fileb://function.zip");
    aws(dir, "lambda", "invoke", "--function-name", "cli-found", "out.json");
    Map<String, String> env = userShell(dir);
    String data = " --data-dir '" + kiln.dataDir() + "'";
    // by the data directory, and by what eval "$(./kiln credentials)" exported
    for (String logs :
        List.of(
            "./kiln logs cli-found" + data,
            "eval \"$(./kiln credentials" + data + ")\"; ./kiln logs cli-found")) {
      String out = "";
      for (int i = 0; i < 50 && !out.contains("found-me"); i++) {
        Tools.Result r = Tools.shell(dir, env, logs);
        assertThat(r.exit()).as(logs + "\n" + r.output()).isZero();
        out = r.output();
        Thread.sleep(100);
      }
      assertThat(out).as(logs).contains("found-me");
    }
    for (String usage :
        List.of(
            "./kiln usage --function cli-found" + data,
            "eval \"$(./kiln credentials" + data + ")\"; ./kiln usage --function cli-found")) {
      Tools.Result r = Tools.shell(dir, env, usage);
      assertThat(r.exit()).as(usage + "\n" + r.output()).isZero();
      assertThat(r.output()).contains("cli-found").contains("TOTAL");
    }
  }

  @Test
  void everyClientCommand_failsInOneLine() throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-cli-failures-");
    Map<String, String> env = userShell(dir);
    int closed = ServerProcess.freePort();
    Path empty = dev.kiln.testing.TempDirs.create("kiln-cli-empty-");
    Map<String, Integer> commands = new java.util.LinkedHashMap<>();
    // no key anywhere: a fresh home has no ~/.kiln
    commands.put("./kiln logs hello", 1);
    commands.put("./kiln usage", 1);
    commands.put("./kiln credentials", 1);
    commands.put("./kiln credentials list", 1);
    // a data directory no server has used
    commands.put("./kiln logs hello --data-dir '" + empty + "'", 1);
    commands.put("./kiln usage --data-dir '" + empty + "'", 1);
    // nothing listening
    commands.put(
        "./kiln logs hello --endpoint http://127.0.0.1:"
            + closed
            + " --data-dir '"
            + kiln.dataDir()
            + "'",
        1);
    commands.put(
        "./kiln usage --endpoint http://127.0.0.1:"
            + closed
            + " --data-dir '"
            + kiln.dataDir()
            + "'",
        1);
    commands.put("./kiln usage --endpoint not-a-url --data-dir '" + kiln.dataDir() + "'", 1);
    // mistakes on the command line
    commands.put("./kiln logs", 2);
    commands.put("./kiln usage --since", 2);
    commands.put("./kiln credentials add --role root --data-dir '" + kiln.dataDir() + "'", 2);
    commands.put("./kiln server --port 99999 --data-dir '" + empty + "'", 2);
    for (var c : commands.entrySet()) {
      Tools.Result r = Tools.shell(dir, env, c.getKey() + " || exit $?");
      assertThat(r.exit()).as(c.getKey() + "\n" + r.output()).isEqualTo(c.getValue());
      assertThat(r.output().strip().lines().toList())
          .as(c.getKey() + "\n" + r.output())
          .hasSize(1)
          .allMatch(l -> l.startsWith("kiln "))
          .noneMatch(l -> l.contains("Exception") || l.contains("\tat "));
    }
  }

  @Test
  void aProfile_pointsLambdaAndLogsAtKiln_keepsTheFilesOtherProfiles_andWorksWithTheCli()
      throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-cli-profile-");
    Map<String, String> env = userShell(dir);
    Path config = Path.of(env.get("AWS_CONFIG_FILE"));
    Path credentials = Path.of(env.get("AWS_SHARED_CREDENTIALS_FILE"));
    Files.createDirectories(config.getParent());
    String theirs =
        "# the user's own\n[profile work]\nregion = eu-west-1\nservices = work\n\n"
            + "[services work]\ns3 =\n  endpoint_url = http://minio:9000\n";
    Files.writeString(config, theirs);
    Files.writeString(
        credentials, "[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = w\n");
    String write = "./kiln credentials --profile kiln --data-dir '" + kiln.dataDir() + "'";
    for (int i = 0; i < 2; i++) { // written again, it replaces its own sections
      Tools.Result r = Tools.shell(dir, env, write);
      assertThat(r.exit()).as(r.output()).isZero();
    }
    assertThat(Files.readString(config)).startsWith(theirs);
    String endpoint = kiln.server().endpoint().toString();
    var profiles =
        software.amazon.awssdk.profiles.ProfileFile.aggregator()
            .addFile(
                software.amazon.awssdk.profiles.ProfileFile.builder()
                    .content(config)
                    .type(software.amazon.awssdk.profiles.ProfileFile.Type.CONFIGURATION)
                    .build())
            .addFile(
                software.amazon.awssdk.profiles.ProfileFile.builder()
                    .content(credentials)
                    .type(software.amazon.awssdk.profiles.ProfileFile.Type.CREDENTIALS)
                    .build())
            .build();
    var profile = profiles.profile("kiln").orElseThrow();
    assertThat(profile.property("region")).contains("us-east-1");
    assertThat(profile.property("aws_access_key_id")).contains(kiln.credentials().accessKeyId());
    assertThat(profile.property("aws_secret_access_key"))
        .contains(kiln.credentials().secretAccessKey());
    assertThat(profile.property("services")).contains("kiln-kiln");
    assertThat(profiles.profile("work").orElseThrow().property("region")).contains("eu-west-1");
    assertThat(profiles.profile("work").orElseThrow().property("aws_access_key_id"))
        .contains("AKIAWORK");
    String text = Files.readString(config);
    assertThat(text.split("\\[services kiln-kiln\\]", -1)).hasSize(2);
    assertThat(text.substring(text.indexOf("[services kiln-kiln]")))
        .contains("lambda =\n  endpoint_url = " + endpoint)
        .contains("cloudwatch_logs =\n  endpoint_url = " + endpoint)
        .doesNotContain("s3");
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(credentials)))
        .isEqualTo("rw-------");

    for (var cli : everyAwsCli().entrySet()) {
      if (!readsServiceEndpoints(cli.getValue())) {
        continue; // such a CLI ignores the profile's endpoints, as the README says
      }
      Tools.Result r =
          Tools.shell(
              dir,
              env,
              "'" + cli.getKey() + "' --profile kiln --output json lambda list-functions");
      assertThat(r.exit()).as(cli + ": " + r.output()).isZero();
      assertThat(JSON.readTree(r.output()).has("Functions")).isTrue();
    }
  }
}
