package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@link IsolationIT}'s attacks, unchanged, on instances forked from the Python zygote instead of
 * started by bubblewrap.
 */
class IsolationZygoteIT extends IsolationIT {

  @Override
  boolean zygote() {
    return true;
  }

  @Test
  void theAttackedInstances_wereForkedFromAZygote() throws Exception {
    assertHealthy("attacker");
    String scrape = MetricsIT.scrape(kiln);
    assertThat(MetricsIT.value(scrape, "kiln_zygotes")).isGreaterThanOrEqualTo(1.0);
  }
}
