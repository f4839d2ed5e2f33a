package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ComponentsTest {

  @Test
  void partsStopLastStartedFirst_withStepsWhereTheyWereAdded() {
    List<String> stopped = new ArrayList<>();
    Components parts = new Components();
    parts.add("store", "store", stopped::add);
    parts.add("invoker", "invoker", stopped::add);
    parts.onClose("drain", () -> stopped.add("drain"));
    parts.add("listener", "listener", stopped::add);

    assertThat(parts.stopOrder()).containsExactly("listener", "drain", "invoker", "store");
    parts.close();

    assertThat(stopped).containsExactly("listener", "drain", "invoker", "store");
  }

  @Test
  void aPartThatFailsToStop_doesNotKeepTheOthersRunning() {
    List<String> stopped = new ArrayList<>();
    Components parts = new Components();
    parts.add("store", "store", stopped::add);
    parts.add(
        "broken",
        "broken",
        p -> {
          throw new java.io.IOException("disk gone");
        });
    parts.add("listener", "listener", stopped::add);

    parts.close();

    assertThat(stopped).containsExactly("listener", "store");
  }

  @Test
  void eachPartStopsOnce_andNothingJoinsAClosedServer() {
    List<String> stopped = new ArrayList<>();
    Components parts = new Components();
    parts.add("store", "store", stopped::add);
    parts.close();
    parts.close();

    assertThat(stopped).containsExactly("store");
    assertThatThrownBy(() -> parts.add("late", "late", stopped::add))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the server is closed; late cannot join it");
  }
}
