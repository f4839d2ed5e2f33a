package dev.kiln.model.pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EventPatternTest {

  static final ObjectMapper JSON = new ObjectMapper();

  static final String EVENT =
      """
      {"source": "com.shop", "detail-type": "Order Placed",
       "detail": {"state": "Shipped", "amount": 150, "ip": "10.0.0.17",
                  "file": "reports/2026/q4.csv", "tags": ["a", "b"], "nothing": null,
                  "empty": ""}}
      """;

  static JsonNode event() throws Exception {
    return JSON.readTree(EVENT);
  }

  /** Every operator of EventBridge's language, once matching and once not. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {"source": ["com.shop"]}                                           | true
          {"source": ["com.other"]}                                          | false
          {"detail": {"nothing": [null]}}                                    | true
          {"detail": {"empty": [""]}}                                        | true
          {"detail": {"tags": ["b"]}}                                        | true
          {"detail": {"state": [{"prefix": "Ship"}]}}                        | true
          {"detail": {"state": [{"prefix": "ship"}]}}                        | false
          {"detail": {"state": [{"prefix": {"equals-ignore-case": "ship"}}]}} | true
          {"detail": {"file": [{"suffix": ".csv"}]}}                         | true
          {"detail": {"file": [{"suffix": ".txt"}]}}                         | false
          {"detail": {"file": [{"suffix": {"equals-ignore-case": ".CSV"}}]}} | true
          {"detail": {"state": [{"equals-ignore-case": "SHIPPED"}]}}         | true
          {"detail": {"state": [{"anything-but": "Shipped"}]}}               | false
          {"detail": {"state": [{"anything-but": ["Lost", "Late"]}]}}         | true
          {"detail": {"state": [{"anything-but": {"prefix": "Sh"}}]}}        | false
          {"detail": {"state": [{"anything-but": {"suffix": "ed"}}]}}        | false
          {"detail": {"state": [{"anything-but": {"equals-ignore-case": "x"}}]}} | true
          {"detail": {"file": [{"anything-but": {"wildcard": "reports/*"}}]}} | false
          {"detail": {"amount": [{"numeric": [">", 100, "<=", 150]}]}}       | true
          {"detail": {"amount": [{"numeric": ["<", 100]}]}}                  | false
          {"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}                      | true
          {"detail": {"ip": [{"cidr": "192.168.0.0/16"}]}}                   | false
          {"detail": {"state": [{"exists": true}]}}                          | true
          {"detail": {"missing": [{"exists": false}]}}                       | true
          {"detail": {"missing": [{"exists": true}]}}                        | false
          {"detail": {"file": [{"wildcard": "reports/*/q4.csv"}]}}           | true
          {"detail": {"file": [{"wildcard": "logs/*"}]}}                     | false
          {"$or": [{"source": ["x"]}, {"detail": {"amount": [150]}}]}        | true
          {"$or": [{"source": ["x"]}, {"detail": {"amount": [1]}}]}          | false
          """)
  void everyOperatorMatchesAsEventBridgeDoes(String pattern, boolean matches) throws Exception {
    assertThat(EventPattern.parse(pattern).matches(event())).isEqualTo(matches);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          not json                                    | Unrecognized token 'not'
          []                                          | Filter is not an object
          {}                                          | Empty objects are not allowed
          {"source": "com.shop"}                      | must be an object or an array
          {"detail": {"amount": [{"numeric": [">"]}]}} | Value of > must be numeric
          {"source": [{"prefix": 1}]}                 | prefix match pattern must be a string
          """)
  void invalidPatternsSayWhyAsEventRulerWordsIt(String pattern, String reason) {
    assertThatThrownBy(() -> EventPattern.parse(pattern))
        .isInstanceOf(InvalidPatternException.class)
        .hasMessageContaining(reason);
  }

  @Test
  void oneMatcherSaysWhichOfManyPatternsAnEventMatches() throws Exception {
    PatternMatcher<String> matcher =
        PatternMatcher.<String>builder()
            .add("shop", EventPattern.parse("{\"source\": [\"com.shop\"]}"))
            .add(
                "big",
                EventPattern.parse("{\"detail\": {\"amount\": [{\"numeric\": [\">\", 100]}]}}"))
            .add("other", EventPattern.parse("{\"source\": [\"com.other\"]}"))
            .add(
                "either",
                EventPattern.parse(
                    "{\"$or\": [{\"source\": [\"com.shop\"]}, {\"detail-type\": [\"Order Placed\"]}]}"))
            .build();
    assertThat(matcher.match(event())).containsExactly("shop", "big", "either");
    assertThat(matcher.match(JSON.readTree("[1]"))).isEmpty();
  }
}
