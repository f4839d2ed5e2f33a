package dev.kiln.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class AliasConfigTest {

  @Test
  void pick_sendsTheDrawsBelowTheWeightToTheAdditionalVersion() {
    AliasConfig a = AliasConfig.of("f", "live", "1", "", Map.of("2", 0.25));
    assertThat(a.pick(0.0)).isEqualTo("2");
    assertThat(a.pick(0.2499)).isEqualTo("2");
    assertThat(a.pick(0.25)).isEqualTo("1");
    assertThat(a.pick(0.99)).isEqualTo("1");
    assertThat(a.versions()).containsExactly("1", "2");
    assertThat(AliasConfig.of("f", "plain", "3", "", Map.of()).pick(0.0)).isEqualTo("3");
  }

  @Test
  void badAliases_areRefusedAsAwsRefusesThem() {
    assertThatThrownBy(() -> AliasConfig.of("f", "42", "1", "", Map.of()))
        .hasMessageContaining("regular expression pattern");
    assertThatThrownBy(() -> AliasConfig.of("f", "x", "one", "", Map.of()))
        .hasMessageContaining("functionVersion");
    assertThatThrownBy(() -> AliasConfig.of("f", "x", "1", "", Map.of("2", 0.1, "3", 0.1)))
        .hasMessage("Number of items in AdditionalVersionWeights cannot be greater than 1");
    assertThatThrownBy(() -> AliasConfig.of("f", "x", "1", "", Map.of("1", 0.1)))
        .hasMessageContaining("is already included in routing configuration");
    assertThatThrownBy(() -> AliasConfig.of("f", "x", "$LATEST", "", Map.of("1", 0.1)))
        .hasMessage("$LATEST is not supported for an alias pointing to more than 1 version");
  }
}
