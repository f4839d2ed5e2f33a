package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard in {@code docs/grafana} as someone importing it meets it: one datasource
 * input to choose, and panels that each plot one unit. (That Kiln exports every series it queries
 * is checked against a live scrape in {@link MetricsIT}.)
 */
class DashboardTest {

  private static final Pattern SERIES = Pattern.compile("\\b(?:kiln|jvm|process)_[a-z_]+");

  /** Which Grafana units fit a kind of quantity. */
  private static final Map<String, Set<String>> UNITS =
      Map.of(
          "seconds", Set.of("s"),
          "per second", Set.of("reqps", "ops"),
          "bytes", Set.of("bytes"),
          "ratio", Set.of("percentunit"),
          "count", Set.of("short", "none"));

  static JsonNode dashboard() throws Exception {
    return new ObjectMapper()
        .readTree(ReadmeIT.projectRoot().resolve("docs/grafana/kiln-dashboard.json").toFile());
  }

  /** What kind of quantity {@code series}, as {@code expr} uses it, is. */
  static String quantity(String series, String expr) {
    if (series.endsWith("_seconds_bucket")
        || series.endsWith("_seconds_sum")
        || series.endsWith("_seconds_count")) {
      return "seconds";
    }
    if (series.endsWith("_total")) {
      return expr.contains("rate(" + series) ? "per second" : "count";
    }
    if (series.endsWith("_bytes")) {
      return "bytes";
    }
    if (series.endsWith("_utilization") || series.endsWith("_usage")) {
      return "ratio";
    }
    return "count";
  }

  @Test
  void dashboard_asksForItsPrometheusOnImport() throws Exception {
    JsonNode d = dashboard();
    JsonNode inputs = d.path("__inputs");
    assertThat(inputs.isArray()).as("__inputs").isTrue();
    assertThat(inputs.findValuesAsText("name")).containsExactly("DS_PROMETHEUS");
    assertThat(inputs.get(0).path("type").asText()).isEqualTo("datasource");
    assertThat(inputs.get(0).path("pluginId").asText()).isEqualTo("prometheus");
    // every panel, query and variable uses that input, so the import wires them all
    for (JsonNode p : d.path("panels")) {
      assertThat(p.path("datasource").path("uid").asText())
          .as(p.path("title").asText())
          .isEqualTo("${DS_PROMETHEUS}");
    }
    for (JsonNode v : d.path("templating").path("list")) {
      if (v.has("datasource")) {
        assertThat(v.path("datasource").path("uid").asText()).isEqualTo("${DS_PROMETHEUS}");
      }
    }
  }

  @Test
  void everyPanel_plotsOneUnit_andSaysWhichItIs() throws Exception {
    for (JsonNode p : dashboard().path("panels")) {
      String title = p.path("title").asText();
      Set<String> kinds = new TreeSet<>();
      for (JsonNode t : p.path("targets")) {
        String expr = t.path("expr").asText();
        Matcher m = SERIES.matcher(expr);
        while (m.find()) {
          kinds.add(quantity(m.group(), expr));
        }
      }
      assertThat(kinds).as("what panel '" + title + "' plots").hasSize(1);
      assertThat(UNITS.get(kinds.iterator().next()))
          .as("the unit of panel '" + title + "'")
          .contains(p.path("fieldConfig").path("defaults").path("unit").asText());
    }
  }

  @Test
  void nodePanels_showEachNodeApart() throws Exception {
    for (JsonNode p : dashboard().path("panels")) {
      for (JsonNode t : p.path("targets")) {
        String expr = t.path("expr").asText();
        if (!expr.contains("function")) {
          // a node-wide series summed over nodes would hide which one is full or slow
          assertThat(expr).as(p.path("title").asText()).contains("by (instance");
          assertThat(t.path("legendFormat").asText()).contains("{{instance}}");
        }
      }
    }
  }
}
