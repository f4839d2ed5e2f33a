package dev.kiln.bench;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.core.SdkBytes;

/**
 * What layers and an external extension add to a cold start: the same no-op Python function three
 * times, without layers (the baseline), with five layers of 200 small modules each (merged into
 * {@code /opt}), and with one layer holding an external extension (a shell script that registers
 * over curl for INVOKE and then loops on next, so its own start is part of what it costs). Cold
 * starts forced by a configuration update before each call; medians of the client's time and of
 * Init Duration, each as a ratio to the function without layers.
 */
final class LayersSuite implements Suite {

  static final String EXTENSION =
      """
      #!/bin/sh
      API="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
      H=$(mktemp)
      curl -sS -D "$H" -o /dev/null -X POST "$API/register" -H "Lambda-Extension-Name: bench.sh" \\
        -d '{"events": ["INVOKE"]}'
      ID=$(grep -i '^Lambda-Extension-Identifier:' "$H" | tr -d '[:space:]' | cut -d: -f2)
      while true; do curl -sS -o /dev/null "$API/event/next" -H "Lambda-Extension-Identifier: $ID"; done
      """;

  record Variant(
      String function,
      String description,
      double coldClientMedianMillis,
      double initDurationMedianMillis,
      double coldOverPlain,
      double initOverPlain) {}

  @Override
  public String name() {
    return "layers";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    int n = context.settings().coldStarts();
    int layerCount = 5;
    int modulesPerLayer = context.settings().smoke() ? 20 : 200;
    KilnProcess kiln = context.kiln();
    List<String> libraries = new java.util.ArrayList<>();
    for (int i = 0; i < layerCount; i++) {
      Map<String, byte[]> modules = new LinkedHashMap<>();
      for (int j = 0; j < modulesPerLayer; j++) {
        modules.put(
            "python/bench_lib" + i + "_" + j + ".py",
            ("X = " + j + "\n").getBytes(StandardCharsets.UTF_8));
      }
      libraries.add(publish(kiln, "bench-libs" + i, Language.zip(modules)));
    }
    String extension =
        publish(
            kiln,
            "bench-extension",
            Language.zip(
                Map.of("extensions/bench.sh", EXTENSION.getBytes(StandardCharsets.UTF_8)),
                Set.of("extensions/bench.sh")));

    Map<String, List<String>> variants = new LinkedHashMap<>();
    variants.put("bench-layers-plain", List.of());
    variants.put("bench-layers-libraries", libraries);
    variants.put("bench-layers-extension", List.of(extension));
    Map<String, String> descriptions =
        Map.of(
            "bench-layers-plain", "no layers (baseline)",
            "bench-layers-libraries",
                layerCount + " layers, " + layerCount * modulesPerLayer + " modules in /opt",
            "bench-layers-extension", "1 external extension (sh + curl)");
    double plainCold = Double.NaN;
    double plainInit = Double.NaN;
    Table t =
        report.table(
            Table.of(
                "cold starts with layers and an extension, median ms",
                "",
                "cold invoke, client side",
                "ratio",
                "Init Duration",
                "ratio"));
    for (var v : variants.entrySet()) {
      String function = v.getKey();
      ProbeFunction.create(kiln, function, BenchSettings.FUNCTION_MEMORY_MB, 60, v.getValue());
      TailedInvoke.ok(context.http(), kiln, function, "{}");
      double[] cold = new double[n];
      double[] init = new double[n];
      for (int i = 0; i < n; i++) {
        TailedInvoke call = TailedInvoke.cold(context.http(), kiln, function, "{}", i + 1);
        cold[i] = call.clientMillis();
        init[i] = call.init();
      }
      double c = ColdSuite.median(cold);
      double in = ColdSuite.median(init);
      if (Double.isNaN(plainCold)) {
        plainCold = c;
        plainInit = in;
      }
      Variant variant =
          new Variant(function, descriptions.get(function), c, in, c / plainCold, in / plainInit);
      report.result(variant);
      t.row(variant.description(), c, variant.coldOverPlain(), in, variant.initOverPlain());
    }
    report.note(
        n
            + " cold starts per function (a configuration update before each), python3.12 at "
            + BenchSettings.FUNCTION_MEMORY_MB
            + " MB, sandbox "
            + context.settings().sandbox()
            + "; medians.");
  }

  private static String publish(KilnProcess kiln, String name, byte[] zip) {
    return kiln.lambda()
        .publishLayerVersion(
            b -> b.layerName(name).content(c -> c.zipFile(SdkBytes.fromByteArray(zip))))
        .layerVersionArn();
  }
}
