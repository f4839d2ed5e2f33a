package dev.kiln.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigPatchTest {

  @Test
  void environmentSize_isMeasuredAsTheJsonObject() {
    assertThat(ConfigPatch.environmentSize(Map.of())).isEqualTo(2);
    // {"A":"1"}
    assertThat(ConfigPatch.environmentSize(Map.of("A", "1"))).isEqualTo(9);
  }
}
