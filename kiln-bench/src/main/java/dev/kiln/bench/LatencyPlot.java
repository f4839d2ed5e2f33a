package dev.kiln.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The latency distribution plot, drawn with JFreeChart: latency (µs, logarithmic) against the
 * percentile, on the axis HdrHistogram's own plots use, {@code 1 / (1 - p)} on a logarithmic scale,
 * so that 90%, 99%, 99.9% and 99.99% are evenly spaced and the tail, where platforms differ, gets
 * as much room as the median.
 *
 * <p>One panel per group (a language at a client count), stacked over one shared percentile axis;
 * in each, one line per target, the same colour for the same kind of target in every panel, so the
 * legend names each kind once.
 */
final class LatencyPlot {

  private static final double HIGHEST_PLOTTED_PERCENTILE = 99.99;
  private static final Color[] COLOURS = {
    new Color(0x80, 0x80, 0x80),
    new Color(0x1f, 0x77, 0xb4),
    new Color(0xd6, 0x27, 0x28),
    new Color(0x2c, 0xa0, 0x2c),
    new Color(0x94, 0x67, 0xbd)
  };

  private LatencyPlot() {}

  static void write(Path png, String title, Map<String, Map<String, Histogram>> groups)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    LogAxis percentile = new LogAxis("percentile");
    percentile.setBase(10);
    percentile.setNumberFormatOverride(new PercentileFormat());
    percentile.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1.0)); // a tick per nine
    CombinedDomainXYPlot combined = new CombinedDomainXYPlot(percentile);
    combined.setGap(12);
    for (var group : groups.entrySet()) {
      XYSeriesCollection data = new XYSeriesCollection();
      for (var e : group.getValue().entrySet()) {
        data.addSeries(series(e.getKey(), e.getValue()));
      }
      LogAxis latency = new LogAxis(group.getKey() + ", µs");
      latency.setBase(10);
      latency.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      latency.setNumberFormatOverride(NumberFormat.getIntegerInstance(Locale.ROOT));
      XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
      for (int i = 0; i < data.getSeriesCount(); i++) {
        renderer.setSeriesPaint(i, COLOURS[i % COLOURS.length]);
        renderer.setSeriesStroke(i, new BasicStroke(2f));
      }
      XYPlot plot = new XYPlot(data, null, latency, renderer);
      plot.setBackgroundPaint(Color.WHITE);
      plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
      plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
      combined.add(plot);
    }
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, combined, false);
    chart.setBackgroundPaint(Color.WHITE);
    var first = groups.values().iterator().next().keySet().toArray(String[]::new);
    StringBuilder legend = new StringBuilder();
    for (int i = 0; i < first.length; i++) {
      legend.append(i == 0 ? "" : ",  ").append(colourName(i)).append(": ").append(first[i]);
    }
    chart.addSubtitle(new org.jfree.chart.title.TextTitle(legend.toString()));
    org.jfree.chart.ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 160 + 240 * groups.size());
  }

  private static XYSeries series(String name, Histogram h) {
    XYSeries s = new XYSeries(name, false, true);
    if (h.getTotalCount() == 0) {
      return s;
    }
    for (HistogramIterationValue v : h.percentiles(5)) {
      double p = Math.min(v.getPercentileLevelIteratedTo(), HIGHEST_PLOTTED_PERCENTILE);
      s.add(1 / (1 - p / 100), Math.max(1, v.getValueIteratedTo() / 1000.0));
      if (p >= HIGHEST_PLOTTED_PERCENTILE) {
        break;
      }
    }
    return s;
  }

  private static String colourName(int i) {
    return new String[] {"grey", "blue", "red", "green", "purple"}[i % COLOURS.length];
  }

  /** Labels the axis value {@code 1 / (1 - p)} as the percentile p: 10 is 90%, 100 is 99%. */
  private static final class PercentileFormat extends NumberFormat {
    @Override
    public StringBuffer format(double value, StringBuffer out, FieldPosition pos) {
      double percentile = 100 * (1 - 1 / value);
      String text = String.format(Locale.ROOT, "%.4f", percentile);
      text = text.replaceAll("0+$", "").replaceAll("\\.$", "");
      return out.append(text).append('%');
    }

    @Override
    public StringBuffer format(long value, StringBuffer out, FieldPosition pos) {
      return format((double) value, out, pos);
    }

    @Override
    public Number parse(String source, ParsePosition pos) {
      throw new UnsupportedOperationException("labels only");
    }
  }
}
