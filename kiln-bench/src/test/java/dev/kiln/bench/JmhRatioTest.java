package dev.kiln.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The JMH report's ratio column: a figure only where the run resolved it. */
class JmhRatioTest {

  @Test
  void aRatioCarriesItsInterval() {
    // 290559 ± 78514 over 715529 ± 1000: 0.41, between 0.30 and 0.52
    assertThat(JmhRun.ratio(290559, 78514, 715529, 1000)).isEqualTo("0.41 (0.30–0.52)");
  }

  @Test
  void aRatioWhoseIntervalExceedsItsScore_isNotPrintedAsAResult() {
    // InvokePayloadBench on 25 November: checkJson small 233 ± 1044 over 291 ± 199
    assertThat(JmhRun.ratio(233, 1044, 291, 199).toString())
        .startsWith("0.80, not resolved")
        .contains("± exceeds");
    // and a baseline whose interval exceeds its score: 290559 ± 78514 over 715529 ± 771160
    assertThat(JmhRun.ratio(290559, 78514, 715529, 771160).toString()).contains("not resolved");
  }

  @Test
  void withoutAnInterval_theRatioAlone() {
    assertThat(JmhRun.ratio(10, Double.NaN, 5, Double.NaN)).isEqualTo(2.0);
  }
}
