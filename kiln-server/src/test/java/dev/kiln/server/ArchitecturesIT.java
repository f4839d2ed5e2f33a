package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * Functions that ask for the architecture this host is not (arm64 on the x86_64 machines CI runs
 * on): a portable runtime's run on the host's interpreter and say so, a custom runtime's bootstrap
 * must be built for the architecture the function asks for, and runs under qemu where that is not
 * the host's.
 */
class ArchitecturesIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static KilnFixture kiln;

  @BeforeAll
  static void start() {
    Assumptions.assumeTrue(
        List.of("amd64", "x86_64").contains(System.getProperty("os.arch")),
        "written for an x86_64 host");
    kiln = new KilnFixture();
  }

  @AfterAll
  static void stop() {
    if (kiln != null) {
      kiln.close();
    }
  }

  static void create(String name, Runtime runtime, String handler, Architecture arch, byte[] zip) {
    kiln.lambda.createFunction(
        b ->
            b.functionName(name)
                .runtime(runtime)
                .handler(handler)
                .role(KilnFixture.ROLE)
                .timeout(30)
                .architectures(arch)
                .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  static InvokeResponse invoke(String name, String payload) {
    return kiln.lambda.invoke(
        b -> b.functionName(name).logType(LogType.TAIL).payload(SdkBytes.fromUtf8String(payload)));
  }

  @Test
  void anArm64PythonFunction_runsOnTheHostsInterpreter_andSaysSo() throws Exception {
    create(
        "arm-py",
        Runtime.PYTHON3_12,
        "app.handler",
        Architecture.ARM64,
        Zips.of(
            "app.py",
            "import platform\ndef handler(event, context):\n    return platform.machine()\n"));
    GetFunctionResponse got = kiln.lambda.getFunction(b -> b.functionName("arm-py"));
    assertThat(got.configuration().architectures())
        .as("echoed as asked, as AWS does")
        .containsExactly(Architecture.ARM64);
    assertThat(got.configuration().runtimeVersionConfig().runtimeVersionArn())
        .endsWith(":runtime:kiln-python3.12-x86_64");
    InvokeResponse r = invoke("arm-py", "{}");
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    assertThat(r.payload().asUtf8String()).isEqualTo("\"x86_64\"");
    String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
    assertThat(log)
        .containsPattern("INIT_START Runtime Version: python3.12\t.*\tArchitecture: x86_64 \\(");

    create(
        "arm-node",
        Runtime.NODEJS20_X,
        "index.handler",
        Architecture.ARM64,
        Zips.of("index.js", "exports.handler = async () => process.arch;\n"));
    assertThat(invoke("arm-node", "{}").payload().asUtf8String()).isEqualTo("\"x64\"");
  }

  @Test
  void aCustomRuntimesBootstrap_mustBeBuiltForTheFunctionsArchitecture() throws Exception {
    byte[] arm = goBootstrap("arm64");
    byte[] amd = goBootstrap("amd64");

    // an x86_64 program in an arm64 function, and the reverse, fail as Lambda fails them
    create(
        "amd-in-arm",
        Runtime.PROVIDED_AL2023,
        "bootstrap",
        Architecture.ARM64,
        ZipsWithLinks.executable("bootstrap", amd));
    assertExecFormatError(invoke("amd-in-arm", "{}"));
    create(
        "arm-in-amd",
        Runtime.PROVIDED_AL2023,
        "bootstrap",
        Architecture.X86_64,
        ZipsWithLinks.executable("bootstrap", arm));
    assertExecFormatError(invoke("arm-in-amd", "{}"));

    // an x86_64 program in an x86_64 function runs natively
    create(
        "amd-in-amd",
        Runtime.PROVIDED_AL2023,
        "bootstrap",
        Architecture.X86_64,
        ZipsWithLinks.executable("bootstrap", amd));
    InvokeResponse amdOk = invoke("amd-in-amd", "{\"n\": 1}");
    assertThat(amdOk.functionError()).as(amdOk.payload().asUtf8String()).isNull();
    assertThat(
            kiln.lambda
                .getFunction(b -> b.functionName("amd-in-amd"))
                .configuration()
                .runtimeVersionConfig()
                .runtimeVersionArn())
        .endsWith("-x86_64");

    // an arm64 program in an arm64 function runs under qemu
    Tools.require("qemu-aarch64-static");
    create(
        "arm-in-arm",
        Runtime.PROVIDED_AL2023,
        "bootstrap",
        Architecture.ARM64,
        ZipsWithLinks.executable("bootstrap", arm));
    InvokeResponse r = invoke("arm-in-arm", "{\"n\": 7}");
    assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
    JsonNode out = JSON.readTree(r.payload().asUtf8String());
    assertThat(out.get("go").asBoolean()).isTrue();
    assertThat(out.at("/event/n").asInt()).isEqualTo(7);
    String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
    assertThat(log).contains("\tArchitecture: arm64 under /usr/bin/qemu-aarch64-static");
    assertThat(
            kiln.lambda
                .getFunction(b -> b.functionName("arm-in-arm"))
                .configuration()
                .runtimeVersionConfig()
                .runtimeVersionArn())
        .endsWith("-arm64");
  }

  static void assertExecFormatError(InvokeResponse r) throws Exception {
    assertThat(r.functionError()).isEqualTo("Unhandled");
    JsonNode doc = JSON.readTree(r.payload().asUtf8String());
    assertThat(doc.get("errorType").asText()).isEqualTo("Runtime.InvalidEntrypoint");
    assertThat(doc.get("errorMessage").asText())
        .matches(
            "RequestId: "
                + r.responseMetadata().requestId()
                // /var/task in the Linux sandbox, the task root's own path without one
                + " Error: fork/exec /[^ ]*/bootstrap: exec format error");
  }

  /** The Go custom runtime of the tests, built for {@code goarch}. */
  static byte[] goBootstrap(String goarch) throws Exception {
    Path go = Tools.require("go");
    Path dir = dev.kiln.testing.TempDirs.create("kiln-go-" + goarch + "-");
    try (var in = ArchitecturesIT.class.getResourceAsStream("/custom/main.go")) {
      Files.write(dir.resolve("main.go"), in.readAllBytes());
    }
    Tools.Result built =
        Tools.run(
            List.of(go.toString(), "build", "-o", "bootstrap", "main.go"),
            dir,
            Map.of(
                "CGO_ENABLED",
                "0",
                "GOOS",
                "linux",
                "GOARCH",
                goarch,
                "GOCACHE",
                dir.resolve("cache").toString(),
                "GOPATH",
                dir.resolve("gopath").toString(),
                "HOME",
                dir.toString(),
                "GO111MODULE",
                "off"));
    assertThat(built.exit()).as(built.output()).isZero();
    return Files.readAllBytes(dir.resolve("bootstrap"));
  }
}
