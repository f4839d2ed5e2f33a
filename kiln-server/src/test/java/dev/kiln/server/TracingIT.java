package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;

/**
 * Tracing: the caller's {@code X-Amzn-Trace-Id} reaches the function as {@code _X_AMZN_TRACE_ID}
 * (synchronously and through the asynchronous queue), and with {@code --otlp-endpoint} every
 * invocation is exported as an OpenTelemetry span with its phases, to a real OTLP/HTTP receiver.
 */
class TracingIT {

  static final String ROOT = "1-5759e988-bd862e3fe1be46a994272793";
  static final String PARENT = "53995c3f42cd8ad8";
  static final String CALLER = "Root=" + ROOT + ";Parent=" + PARENT + ";Sampled=1";

  static final String CODE =
      "import os\n"
          + "def handler(event, context):\n"
          + "    trace = os.environ.get('_X_AMZN_TRACE_ID')\n"
          + "    print('trace ' + str(trace))\n"
          + "    return trace\n";

  static String invoke(KilnFixture kiln, String function, Optional<String> header) {
    return kiln.lambda
        .invoke(
            b -> {
              b.functionName(function).payload(SdkBytes.fromUtf8String("{}"));
              header.ifPresent(
                  h -> b.overrideConfiguration(o -> o.putHeader("X-Amzn-Trace-Id", h)));
            })
        .payload()
        .asUtf8String();
  }

  @Test
  void theCallersTraceHeader_reachesTheFunction_andOtherwiseEachInvocationStartsOne()
      throws Exception {
    try (KilnFixture kiln = new KilnFixture()) {
      kiln.python("traced", CODE);
      assertThat(invoke(kiln, "traced", Optional.of(CALLER)))
          .isEqualTo("\"Root=" + ROOT + ";Parent=" + PARENT + ";Sampled=1;Lineage=kiln\"");
      assertThat(invoke(kiln, "traced", Optional.of("Root=" + ROOT)))
          .as("a root alone: a parent is made, and it is not sampled")
          .matches("\"Root=" + ROOT + ";Parent=[0-9a-f]{16};Sampled=0;Lineage=kiln\"");
      String own = invoke(kiln, "traced", Optional.empty());
      assertThat(own).matches("\"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0.*");
      assertThat(invoke(kiln, "traced", Optional.empty())).isNotEqualTo(own);
      assertThat(invoke(kiln, "traced", Optional.of("Root=not-a-root;Parent=xyz")))
          .as("a malformed header starts a new trace")
          .doesNotContain("not-a-root")
          .matches("\"Root=1-[0-9a-f]{8}-[0-9a-f]{24};.*");

      // an asynchronous event keeps its caller's trace
      kiln.lambda.invoke(
          b ->
              b.functionName("traced")
                  .invocationType(InvocationType.EVENT)
                  .overrideConfiguration(
                      o ->
                          o.putHeader(
                              "X-Amzn-Trace-Id",
                              "Root=1-5759e988-0000000000000000000a5c11;Sampled=1"))
                  .payload(SdkBytes.fromUtf8String("{}")));
      try (var logs = kiln.logsClient()) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () ->
                    assertThat(
                            logs.filterLogEvents(
                                    b ->
                                        b.logGroupName("/aws/lambda/traced")
                                            .filterPattern("\"Root=1-5759e988-0000\""))
                                .events())
                        .hasSize(1));
      }
    }
  }

  @Test
  void otlpExport_sendsASpanPerInvocation_withItsPhases_inTheCallersTrace() throws Exception {
    List<Span> spans = new CopyOnWriteArrayList<>();
    List<String> paths = new CopyOnWriteArrayList<>();
    HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    collector.createContext(
        "/",
        exchange -> {
          paths.add(exchange.getRequestURI().getPath());
          ExportTraceServiceRequest request =
              ExportTraceServiceRequest.parseFrom(exchange.getRequestBody().readAllBytes());
          request
              .getResourceSpansList()
              .forEach(r -> r.getScopeSpansList().forEach(s -> spans.addAll(s.getSpansList())));
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    collector.start();
    URI endpoint = URI.create("http://127.0.0.1:" + collector.getAddress().getPort());
    try (KilnFixture kiln = new KilnFixture(s -> s.withOtlpEndpoint(endpoint))) {
      kiln.python("otlp", CODE);
      String cold = invoke(kiln, "otlp", Optional.of(CALLER));
      String warm = invoke(kiln, "otlp", Optional.empty());
      kiln.lambda.invoke(
          b ->
              b.functionName("otlp")
                  .invocationType(InvocationType.EVENT)
                  .payload(SdkBytes.fromUtf8String("{}")));

      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> spans.stream().filter(s -> s.getName().equals("otlp invoke")).count() == 3);
      assertThat(paths).allMatch(p -> p.equals("/v1/traces"));
      List<Span> roots = spans.stream().filter(s -> s.getName().equals("otlp invoke")).toList();

      Span first = root(roots, ROOT.replace("1-", "").replace("-", ""));
      assertThat(hex(first.getParentSpanId())).as("the caller's parent").isEqualTo(PARENT);
      assertThat(attribute(first, "faas.coldstart")).isEqualTo("true");
      assertThat(attribute(first, "faas.trigger")).isEqualTo("http");
      assertThat(attribute(first, "faas.name")).isEqualTo("otlp");
      assertThat(attribute(first, "faas.invocation_id")).matches("[0-9a-f-]{36}");
      assertThat(children(spans, first)).containsExactlyInAnyOrder("sandbox", "init", "invoke");
      assertThat(cold)
          .as("the function runs under Kiln's span: it is the parent the runtime sees")
          .contains("Root=" + ROOT + ";Parent=" + hex(first.getSpanId()) + ";Sampled=1");
      for (Span child : spans) {
        if (child.getParentSpanId().equals(first.getSpanId())) {
          assertThat(child.getStartTimeUnixNano())
              .isGreaterThanOrEqualTo(first.getStartTimeUnixNano());
          assertThat(child.getEndTimeUnixNano()).isLessThanOrEqualTo(first.getEndTimeUnixNano());
        }
      }

      String warmRoot = warm.substring(warm.indexOf("Root=1-") + 7, warm.indexOf(";Parent"));
      Span second = root(roots, warmRoot.replace("-", ""));
      assertThat(second.getParentSpanId().isEmpty()).as("a trace of its own").isTrue();
      assertThat(attribute(second, "faas.coldstart")).isEqualTo("false");
      assertThat(children(spans, second)).containsExactly("invoke");

      Span async =
          roots.stream()
              .filter(s -> "pubsub".equals(attribute(s, "faas.trigger")))
              .findFirst()
              .orElseThrow();
      assertThat(children(spans, async)).contains("queue", "invoke");
    } finally {
      collector.stop(0);
    }
  }

  @Test
  void aBadOtlpEndpoint_isRefusedAtStart() {
    assertThatThrownBy(
            () -> new KilnFixture(s -> s.withOtlpEndpoint(URI.create("localhost:4318"))).close())
        .hasMessageContaining(
            "--otlp-endpoint must be an http:// or https:// URL such as http://localhost:4318,"
                + " got 'localhost:4318'");
  }

  static Span root(List<Span> roots, String traceIdHex) {
    return roots.stream()
        .filter(s -> hex(s.getTraceId()).equals(traceIdHex))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no span in trace " + traceIdHex));
  }

  static List<String> children(List<Span> spans, Span parent) {
    return spans.stream()
        .filter(s -> s.getParentSpanId().equals(parent.getSpanId()))
        .filter(s -> s.getTraceId().equals(parent.getTraceId()))
        .map(Span::getName)
        .toList();
  }

  static String attribute(Span span, String key) {
    for (KeyValue kv : span.getAttributesList()) {
      if (kv.getKey().equals(key)) {
        var v = kv.getValue();
        return v.hasBoolValue() ? Boolean.toString(v.getBoolValue()) : v.getStringValue();
      }
    }
    return null;
  }

  static String hex(com.google.protobuf.ByteString bytes) {
    return HexFormat.of().formatHex(bytes.toByteArray());
  }
}
