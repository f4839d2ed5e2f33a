package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChangeFeedTest {

  @Test
  void aChangeMovesOnlyItsOwnFunctionsGeneration() {
    ChangeFeed feed = new ChangeFeed();
    long a = feed.generation("a");
    long b = feed.generation("b");
    feed.changed("a");
    assertThat(feed.generation("a")).isNotEqualTo(a);
    assertThat(feed.generation("b")).isEqualTo(b);
  }

  @Test
  void generationsNeverRepeat_soAValueReadBeforeAnyLaterChangeNeverMatchesAgain() {
    ChangeFeed feed = new ChangeFeed();
    List<Long> seen = new ArrayList<>();
    seen.add(feed.generation("f"));
    for (int i = 0; i < 5; i++) {
      feed.changed("g");
      feed.changed("f");
      seen.add(feed.generation("f"));
    }
    assertThat(seen.subList(1, seen.size())).doesNotHaveDuplicates().doesNotContain(seen.get(0));
  }

  @Test
  void listenersHearEachChange_afterTheGenerationMoved() {
    ChangeFeed feed = new ChangeFeed();
    List<String> heard = new ArrayList<>();
    feed.subscribe(name -> heard.add(name + "@" + feed.generation(name)));
    feed.changed("x");
    assertThat(heard).containsExactly("x@" + feed.generation("x"));
  }
}
