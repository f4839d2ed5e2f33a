package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;

/**
 * Python as Lambda's Python runtime is: traces that start in the function's code, shared libraries
 * in the package's {@code lib/}, only the standard library and the bundled boto3 on {@code
 * sys.path} (not the host's apt-installed modules), and one log line per {@code logging} record.
 */
class PythonRuntimeIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();

  static InvokeResponse invoke(String function, String payload) {
    return kiln.lambda()
        .invoke(
            b ->
                b.functionName(function)
                    .logType(LogType.TAIL)
                    .payload(SdkBytes.fromUtf8String(payload)));
  }

  static String log(InvokeResponse r) {
    return new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
  }

  @Test
  void aTrace_startsAtTheFunctionsFrame_notAtTheRuntimes() throws Exception {
    kiln.python(
        "py-trace",
        "def helper():\n"
            + "    raise ValueError('deep')\n"
            + "def handler(event, context):\n"
            + "    helper()\n");
    InvokeResponse r = invoke("py-trace", "{}");
    assertThat(r.functionError()).isEqualTo("Unhandled");
    JsonNode doc = JSON.readTree(r.payload().asUtf8String());
    assertThat(doc.get("errorType").asText()).isEqualTo("ValueError");
    JsonNode trace = doc.get("stackTrace");
    assertThat(trace).hasSize(2);
    assertThat(trace.get(0).asText())
        .matches("(?s)  File \"/.*/app\\.py\", line 4, in handler\n    helper\\(\\)\n");
    assertThat(trace.get(1).asText()).contains("line 2, in helper");
    assertThat(log(r)).doesNotContain("bootstrap.py");

    kiln.python("py-init-trace", "raise RuntimeError('at import')\n");
    InvokeResponse init = invoke("py-init-trace", "{}");
    JsonNode initDoc = JSON.readTree(init.payload().asUtf8String());
    assertThat(initDoc.get("errorType").asText()).isEqualTo("RuntimeError");
    assertThat(initDoc.get("stackTrace").toString())
        .doesNotContain("bootstrap.py")
        .doesNotContain("_load_handler")
        .contains("app.py\\\", line 1, in <module>");
  }

  @Test
  void aSharedLibraryInThePackagesLib_isFound() throws Exception {
    Path gcc = Tools.require("gcc");
    Path dir = dev.kiln.testing.TempDirs.create("kiln-so-");
    Files.writeString(dir.resolve("foo.c"), "int kiln_answer(void) { return 42; }\n");
    Tools.Result built =
        Tools.run(
            List.of(gcc.toString(), "-shared", "-fPIC", "-o", "libfoo.so", "foo.c"), dir, Map.of());
    assertThat(built.exit()).as(built.output()).isZero();
    Map<String, byte[]> zip = new LinkedHashMap<>();
    zip.put(
        "app.py",
        ("import ctypes\n"
                + "lib = ctypes.CDLL('libfoo.so')\n"
                + "def handler(event, context):\n"
                + "    return lib.kiln_answer()\n")
            .getBytes(StandardCharsets.UTF_8));
    zip.put("lib/libfoo.so", Files.readAllBytes(dir.resolve("libfoo.so")));
    kiln.create(
        "py-so",
        software.amazon.awssdk.services.lambda.model.Runtime.PYTHON3_12,
        "app.handler",
        Compilers.zip(zip));
    InvokeResponse r = invoke("py-so", "{}");
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    assertThat(r.payload().asUtf8String()).isEqualTo("42");
  }

  @Test
  void theHostsAptModules_areNotOnTheFunctionsPath_butBoto3Is() throws Exception {
    // yaml is installed on this host (python3-yaml) but is not in Lambda's Python runtime
    Path python = Path.of("/usr/bin/python3");
    Assumptions.assumeTrue(
        Files.isExecutable(python)
            && Tools.run(List.of(python.toString(), "-c", "import yaml"), Path.of("."), Map.of())
                    .exit()
                == 0,
        "the host's python3 has no yaml module to hide");
    Tools.pythonWithBoto3();
    kiln.python(
        "py-hygiene",
        "import sys\n"
            + "def handler(event, context):\n"
            + "    out = {'path': sys.path}\n"
            + "    try:\n"
            + "        import yaml\n"
            + "        out['yaml'] = yaml.__file__\n"
            + "    except ImportError as e:\n"
            + "        out['yaml'] = None\n"
            + "    import boto3\n"
            + "    out['boto3'] = boto3.__file__\n"
            + "    out['client'] = type(boto3.client('s3', region_name='us-east-1')).__name__\n"
            + "    return out\n");
    // importing boto3 and making a client takes more than the default 3 s on a busy machine
    kiln.lambda().updateFunctionConfiguration(b -> b.functionName("py-hygiene").timeout(60));
    kiln.lambda().waiter().waitUntilFunctionUpdatedV2(b -> b.functionName("py-hygiene"));
    InvokeResponse r = invoke("py-hygiene", "{}");
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    JsonNode out = JSON.readTree(r.payload().asUtf8String());
    assertThat(out.get("yaml").isNull()).as("import yaml: %s", out.get("yaml")).isTrue();
    assertThat(out.get("boto3").asText()).contains("/sdk/boto3/");
    assertThat(out.get("client").asText()).isEqualTo("S3");
    assertThat(out.get("path").toString()).doesNotContain("dist-packages");
  }

  @Test
  void eachLoggingRecord_isOneLine_withNoBlankLineAfterIt() throws Exception {
    kiln.python(
        "py-logging",
        "import logging\n"
            + "log = logging.getLogger()\n"
            + "def handler(event, context):\n"
            + "    log.warning('first record')\n"
            + "    log.warning('second record')\n"
            + "    print('after')\n");
    String log = log(invoke("py-logging", "{}"));
    assertThat(log)
        .containsPattern("\\[WARNING\\]\t[0-9TZ:.-]+\t[0-9a-f-]+\tfirst record\n\\[WARN");
    assertThat(log).contains("second record\nafter\n");
    assertThat(log).doesNotContain("\n\n");
  }
}
