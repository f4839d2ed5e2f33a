package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.Runtime;

/** Ruby on Kiln's own bootstrap, and custom runtimes: a shell script and a Go program. */
class MoreRuntimesIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static InvokeResponse invoke(String function, String payload) {
    return kiln.lambda()
        .invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String(payload)));
  }

  @Test
  void ruby_runsFileDotMethodHandlers_withContext_andAwsErrorDocuments() throws Exception {
    Tools.require("ruby");
    kiln.create(
        "rb",
        Runtime.RUBY3_3,
        "app.handler",
        Zips.of(
            "app.rb",
            "def handler(event:, context:)\n"
                + "  raise ArgumentError, 'bad input' if event['fail']\n"
                + "  { 'sum' => event['a'] + event['b'], 'fn' => context.function_name,"
                + " 'id' => context.aws_request_id, 'left' => context.get_remaining_time_in_millis,"
                + " 'root' => ENV['LAMBDA_TASK_ROOT'] }\n"
                + "end\n"));
    InvokeResponse ok = invoke("rb", "{\"a\": 2, \"b\": 3}");
    assertThat(ok.functionError()).isNull();
    JsonNode out = JSON.readTree(ok.payload().asUtf8String());
    assertThat(out.get("sum").asInt()).isEqualTo(5);
    assertThat(out.get("fn").asText()).isEqualTo("rb");
    assertThat(out.get("id").asText()).isEqualTo(ok.responseMetadata().requestId());
    assertThat(out.get("left").asInt()).isBetween(1, 3000);

    InvokeResponse failed = invoke("rb", "{\"fail\": true}");
    assertThat(failed.functionError()).isEqualTo("Unhandled");
    JsonNode doc = JSON.readTree(failed.payload().asUtf8String());
    assertThat(doc.get("errorType").asText()).isEqualTo("Function<ArgumentError>");
    assertThat(doc.get("errorMessage").asText()).isEqualTo("bad input");
    assertThat(doc.get("stackTrace").isArray()).isTrue();

    kiln.create(
        "rb-nested",
        Runtime.RUBY3_2,
        "lib/worker.Jobs::Worker.process",
        Zips.of(
            "lib/worker.rb",
            "module Jobs\n  class Worker\n    def self.process(event:, context:)\n"
                + "      'processed ' + event['job']\n    end\n  end\nend\n"));
    assertThat(invoke("rb-nested", "{\"job\": \"j1\"}").payload().asUtf8String())
        .isEqualTo("\"processed j1\"");

    kiln.create("rb-broken", Runtime.RUBY3_3, "app.handler", Zips.of("app.rb", "require 'nope'\n"));
    JsonNode init = JSON.readTree(invoke("rb-broken", "{}").payload().asUtf8String());
    assertThat(init.get("errorType").asText()).isEqualTo("Init<LoadError>");
  }

  @Test
  void ruby_looksUpTheHandlerAtEachCall_andSendsAnIosContent_asAwsRuntimeDoes() throws Exception {
    Tools.require("ruby");
    byte[] zip =
        Zips.of(
            "app.rb",
            "require 'stringio'\n"
                + "def text(event:, context:)\n  StringIO.new('plain <text>')\nend\n"
                + "def file(event:, context:)\n  File.open(File.join(__dir__, 'data.bin'))\nend\n"
                + "def paths(event:, context:)\n  { 'gems' => Gem.path, 'load' => $LOAD_PATH }\nend\n",
            "data.bin",
            "raw file content");
    kiln.create("rb-io", Runtime.RUBY3_3, "app.text", zip);
    InvokeResponse text = invoke("rb-io", "{}");
    assertThat(text.functionError()).isNull();
    assertThat(text.payload().asUtf8String()).isEqualTo("plain <text>");
    kiln.create("rb-file", Runtime.RUBY3_3, "app.file", zip);
    assertThat(invoke("rb-file", "{}").payload().asUtf8String()).isEqualTo("raw file content");

    kiln.create("rb-no-method", Runtime.RUBY3_3, "app.missing", zip);
    InvokeResponse noMethod = invoke("rb-no-method", "{}");
    assertThat(noMethod.functionError()).isEqualTo("Unhandled");
    JsonNode noMethodDoc = JSON.readTree(noMethod.payload().asUtf8String());
    assertThat(noMethodDoc.get("errorType").asText()).isEqualTo("Function<NoMethodError>");
    assertThat(noMethodDoc.get("errorMessage").asText())
        .contains("undefined method")
        .contains("missing");

    kiln.create("rb-no-class", Runtime.RUBY3_3, "app.Nowhere.handler", zip);
    JsonNode noClass = JSON.readTree(invoke("rb-no-class", "{}").payload().asUtf8String());
    assertThat(noClass.get("errorType").asText()).isEqualTo("Function<NameError>");
    assertThat(noClass.get("errorMessage").asText()).contains("Nowhere");

    kiln.create("rb-bad-handler", Runtime.RUBY3_3, "app.One.two.three", zip);
    JsonNode bad = JSON.readTree(invoke("rb-bad-handler", "{}").payload().asUtf8String());
    assertThat(bad.get("errorType").asText()).isEqualTo("Init<ArgumentError>");
    assertThat(bad.get("errorMessage").asText())
        .startsWith("Invalid handler [\"app\", \"One\", \"two\", \"three\"], must be of form");

    // nothing installed on the host beyond Ruby's own: no host gem directories, no site_ruby
    kiln.create("rb-paths", Runtime.RUBY3_3, "app.paths", zip);
    JsonNode paths = JSON.readTree(invoke("rb-paths", "{}").payload().asUtf8String());
    assertThat(paths.get("gems").toString())
        .doesNotContain("/var/lib/gems")
        .contains("/vendor/bundle");
    assertThat(paths.get("load").toString()).doesNotContain("site_ruby");
  }

  @Test
  void aShellScriptBootstrap_isTheRuntime() throws Exception {
    Tools.require("curl");
    byte[] script;
    try (var in = getClass().getResourceAsStream("/custom/bootstrap.sh")) {
      script = in.readAllBytes();
    }
    kiln.create(
        "sh-runtime",
        Runtime.PROVIDED_AL2023,
        "function.handler",
        ZipsWithLinks.executable("bootstrap", script));
    InvokeResponse r = invoke("sh-runtime", "{\"x\": 1}");
    assertThat(r.functionError()).isNull();
    JsonNode out = JSON.readTree(r.payload().asUtf8String());
    assertThat(out.get("shell").asBoolean()).isTrue();
    assertThat(out.get("handler").asText())
        .as("_HANDLER passed through")
        .isEqualTo("function.handler");
    assertThat(out.at("/event/x").asInt()).isEqualTo(1);
    kiln.create(
        "no-bootstrap", Runtime.PROVIDED_AL2023, "x", Zips.of("README", "no bootstrap here"));
    InvokeResponse missing = invoke("no-bootstrap", "{}");
    assertThat(missing.functionError()).isEqualTo("Unhandled");
    JsonNode doc = JSON.readTree(missing.payload().asUtf8String());
    assertThat(doc.get("errorType").asText()).isEqualTo("Runtime.InvalidEntrypoint");
    assertThat(doc.get("errorMessage").asText())
        .isEqualTo(
            "RequestId: "
                + missing.responseMetadata().requestId()
                + " Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]");
    assertThat(
            JSON.readTree(invoke("sh-runtime", "{\"x\": 2}").payload().asUtf8String())
                .at("/event/x")
                .asInt())
        .as("the same instance, its second event")
        .isEqualTo(2);
  }

  @Test
  void aGoProgramCompiledHere_runsAsACustomRuntime() throws Exception {
    Tools.require("go");
    Path dir = dev.kiln.testing.TempDirs.create("kiln-go-");
    try (var in = getClass().getResourceAsStream("/custom/main.go")) {
      Files.write(dir.resolve("main.go"), in.readAllBytes());
    }
    Tools.Result built =
        Tools.run(
            List.of(Tools.find("go").get().toString(), "build", "-o", "bootstrap", "main.go"),
            dir,
            Map.of(
                "CGO_ENABLED",
                "0",
                "GOCACHE",
                dir.resolve("cache").toString(),
                "GOPATH",
                dir.resolve("gopath").toString(),
                "HOME",
                dir.toString(),
                "GOFLAGS",
                "-mod=mod",
                "GO111MODULE",
                "off"));
    assertThat(built.exit()).as(built.output()).isZero();
    kiln.create(
        "go-runtime",
        Runtime.PROVIDED_AL2,
        "bootstrap",
        ZipsWithLinks.executable("bootstrap", Files.readAllBytes(dir.resolve("bootstrap"))));
    InvokeResponse r = invoke("go-runtime", "{\"n\": 7}");
    assertThat(r.functionError()).isNull();
    JsonNode out = JSON.readTree(r.payload().asUtf8String());
    assertThat(out.get("go").asBoolean()).isTrue();
    assertThat(out.get("function").asText()).isEqualTo("go-runtime");
    assertThat(out.get("arn").asText()).endsWith(":function:go-runtime");
    assertThat(out.at("/event/n").asInt()).isEqualTo(7);
    InvokeResponse failed = invoke("go-runtime", "{\"fail\": true}");
    assertThat(failed.functionError()).isEqualTo("Unhandled");
    assertThat(JSON.readTree(failed.payload().asUtf8String()).get("errorType").asText())
        .isEqualTo("GoError");
    assertThat(new String(failed.payload().asByteArray(), StandardCharsets.UTF_8))
        .contains("asked to fail");
  }
}
