package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.LambdaError;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Invoke API's payload check, as a caller meets it: what passes on, and what is refused. */
class InvokePayloadTest {

  private static final String PREFIX =
      "Could not parse request body into json: Could not parse payload into json: ";

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void anEmptyBody_isTheEmptyObject() {
    assertThat(new String(InvokePayload.check(new byte[0]), StandardCharsets.UTF_8))
        .isEqualTo("{}");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"key1\":\"value1\"}",
        "[1,2,{\"a\":[]}]",
        "\"a string\"",
        "42",
        "true",
        "null",
        "  {\"padded\":true}\n",
        " \n"
      })
  void oneJsonValue_isPassedOnAsItCame(String json) {
    byte[] body = bytes(json);
    assertThat(InvokePayload.check(body)).isSameAs(body);
  }

  @Test
  void contentAfterTheValue_isInvalidRequestContent() {
    assertThatThrownBy(() -> InvokePayload.check(bytes("{\"a\":1} {\"b\":2}")))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.errorType()).isEqualTo("InvalidRequestContentException");
              assertThat(e.getMessage())
                  .isEqualTo(PREFIX + "Unexpected content after the JSON value");
            });
  }

  @ParameterizedTest
  @ValueSource(strings = {"not json", "{\"a\":", "[1,2", "{\"a\" 1}", "{'a':1}"})
  void whatIsNotJson_isInvalidRequestContent_withJacksonsAccount(String body) {
    assertThatThrownBy(() -> InvokePayload.check(bytes(body)))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.errorType()).isEqualTo("InvalidRequestContentException");
              assertThat(e.getMessage()).startsWith(PREFIX).hasSizeGreaterThan(PREFIX.length());
            });
  }
}
