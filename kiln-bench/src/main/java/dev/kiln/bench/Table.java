package dev.kiln.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One Markdown table of a report: a title, a header row and rows of already formatted cells. */
record Table(String title, List<String> columns, List<List<String>> rows) {

  static Table of(String title, String... columns) {
    return new Table(title, List.of(columns), new ArrayList<>());
  }

  Table row(Object... cells) {
    List<String> row = new ArrayList<>();
    for (Object c : cells) {
      row.add(cell(c));
    }
    rows.add(row);
    return this;
  }

  /** Numbers: three significant figures at most, enough for figures that vary run to run. */
  static String cell(Object value) {
    if (value instanceof Double d) {
      if (d.isNaN() || d.isInfinite()) {
        return "n/a";
      }
      double abs = Math.abs(d);
      if (abs >= 100) {
        return String.format(Locale.ROOT, "%.0f", d);
      }
      if (abs >= 10) {
        return String.format(Locale.ROOT, "%.1f", d);
      }
      return String.format(Locale.ROOT, "%.2f", d);
    }
    return String.valueOf(value);
  }

  String markdown() {
    StringBuilder out = new StringBuilder();
    out.append("### ").append(title).append("\n\n");
    out.append("| ").append(String.join(" | ", columns)).append(" |\n");
    out.append("|").append("---|".repeat(columns.size())).append("\n");
    for (List<String> row : rows) {
      out.append("| ").append(String.join(" | ", row)).append(" |\n");
    }
    return out.append("\n").toString();
  }
}
