package dev.kiln.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Kiln's {@code GET /metrics} page (Prometheus text format) as a list of samples, enough for the
 * bench to read counters and histogram sums before and after a phase and take the difference.
 * Comment lines are skipped; a label value with a comma or a brace inside quotes is kept whole.
 */
record PrometheusText(List<Sample> samples) {

  /** One line: a metric name, its labels as written ({@code a="x",b="y"}) and its value. */
  record Sample(String name, String labels, double value) {}

  static PrometheusText parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      if (space < 0) {
        continue;
      }
      String name;
      String labels;
      if (brace >= 0 && brace < space) {
        name = line.substring(0, brace);
        labels = line.substring(brace + 1, line.lastIndexOf('}'));
      } else {
        name = line.substring(0, space).trim();
        labels = "";
      }
      try {
        samples.add(new Sample(name, labels, Double.parseDouble(line.substring(space + 1))));
      } catch (NumberFormatException e) {
        // a timestamp after the value, or something this reader does not need: skip the line
      }
    }
    return new PrometheusText(List.copyOf(samples));
  }

  /** The sum of every series of a metric whose labels contain each of the given fragments. */
  double sum(String name, String... labelFragments) {
    double total = 0;
    for (Sample s : samples) {
      if (s.name().equals(name) && containsAll(s.labels(), labelFragments)) {
        total += s.value();
      }
    }
    return total;
  }

  private static boolean containsAll(String labels, String[] fragments) {
    for (String f : fragments) {
      if (!labels.contains(f)) {
        return false;
      }
    }
    return true;
  }
}
