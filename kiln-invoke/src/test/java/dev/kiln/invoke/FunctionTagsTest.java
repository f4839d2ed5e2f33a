package dev.kiln.invoke;

import static dev.kiln.invoke.CatalogFixture.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.FunctionRef;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FunctionTagsTest {

  @TempDir Path dir;
  CatalogFixture kiln;
  FunctionTags tags;

  @BeforeEach
  void open() {
    kiln = new CatalogFixture(dir);
    tags = kiln.catalog.tags();
    kiln.create("f", false);
  }

  @AfterEach
  void close() {
    kiln.close();
  }

  @Test
  void tagsRoundTrip_aTagReplacesTheValueOfItsKey() {
    tags.tag(FunctionRef.of("f"), Map.of("team", "a", "cost", "1"));
    tags.tag(FunctionRef.of("f"), Map.of("team", "b"));
    assertThat(tags.list(FunctionRef.of("f"))).isEqualTo(Map.of("team", "b", "cost", "1"));
    tags.untag(FunctionRef.of("f"), Set.of("cost", "absent"));
    assertThat(tags.list(FunctionRef.of("f"))).isEqualTo(Map.of("team", "b"));
    assertError(
        () -> tags.list(FunctionRef.of("nope")),
        "ResourceNotFoundException",
        404,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope");
  }

  @Test
  void theNetworkTag_changesWhatTheFunctionResolvesTo_otherTagsChangeNothingThatRuns() {
    Functions functions = kiln.functions();
    assertThat(functions.resolve(FunctionRef.of("f")).outboundNetwork()).isTrue();

    tags.tag(FunctionRef.of("f"), Map.of("team", "a"));
    assertThat(kiln.storeCallsDuring(() -> functions.resolve(FunctionRef.of("f"))))
        .as("an ordinary tag leaves the resolution in memory")
        .isEmpty();

    tags.tag(FunctionRef.of("f"), Map.of(FunctionVersion.NETWORK_TAG, "off"));
    assertThat(functions.resolve(FunctionRef.of("f")).outboundNetwork()).isFalse();
    tags.untag(FunctionRef.of("f"), Set.of(FunctionVersion.NETWORK_TAG));
    assertThat(functions.resolve(FunctionRef.of("f")).outboundNetwork()).isTrue();
  }
}
