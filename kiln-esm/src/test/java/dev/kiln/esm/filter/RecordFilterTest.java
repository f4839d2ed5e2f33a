package dev.kiln.esm.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.LambdaError;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RecordFilterTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(text, e);
    }
  }

  private static RecordFilter filter(String... patterns) {
    return RecordFilter.compile(List.of(patterns));
  }

  private static boolean matches(String pattern, String view) {
    return filter(pattern).matches(json(view));
  }

  /** An SQS record's filter view, with the body parsed when it is JSON, as the SQS source does. */
  private static JsonNode sqs(String body) {
    ObjectNode view = JSON.createObjectNode();
    view.put("messageId", "059f36b4-87a3-44ab-83d2-661975830a7d");
    view.putObject("attributes").put("ApproximateReceiveCount", "1").put("SenderId", "AIDA");
    view.putObject("messageAttributes");
    view.put("eventSource", "aws:sqs");
    JsonNode parsed;
    try {
      parsed = JSON.readTree(body);
    } catch (Exception e) {
      parsed = null;
    }
    if (parsed != null && parsed.isContainerNode()) {
      view.set("body", parsed);
    } else {
      view.put("body", body);
    }
    return view;
  }

  @Nested
  class Operators {

    @Test
    void equalsString() {
      assertThat(matches("{\"Name\": [\"Alice\"]}", "{\"Name\": \"Alice\"}")).isTrue();
      assertThat(matches("{\"Name\": [\"Alice\"]}", "{\"Name\": \"alice\"}")).isFalse();
      assertThat(matches("{\"Name\": [\"Alice\"]}", "{\"Other\": \"Alice\"}")).isFalse();
    }

    @Test
    void equalsNumberAndStringAreDistinct() {
      assertThat(matches("{\"a\": [300]}", "{\"a\": 300}")).isTrue();
      assertThat(matches("{\"a\": [300]}", "{\"a\": \"300\"}")).isFalse();
      assertThat(matches("{\"a\": [\"300\"]}", "{\"a\": 300}")).isFalse();
      assertThat(matches("{\"a\": [\"300\"]}", "{\"a\": \"300\"}")).isTrue();
    }

    @Test
    void equalsBoolean() {
      assertThat(matches("{\"a\": [true]}", "{\"a\": true}")).isTrue();
      assertThat(matches("{\"a\": [true]}", "{\"a\": false}")).isFalse();
      assertThat(matches("{\"a\": [\"true\"]}", "{\"a\": true}")).isFalse();
    }

    @Test
    void nullMatchesOnlyAnExplicitNull() {
      assertThat(matches("{\"UserID\": [null]}", "{\"UserID\": null}")).isTrue();
      assertThat(matches("{\"UserID\": [null]}", "{}")).isFalse();
      assertThat(matches("{\"UserID\": [null]}", "{\"UserID\": \"\"}")).isFalse();
    }

    @Test
    void emptyMatchesOnlyTheEmptyString() {
      assertThat(matches("{\"LastName\": [\"\"]}", "{\"LastName\": \"\"}")).isTrue();
      assertThat(matches("{\"LastName\": [\"\"]}", "{\"LastName\": null}")).isFalse();
      assertThat(matches("{\"LastName\": [\"\"]}", "{}")).isFalse();
    }

    @Test
    void andAcrossFieldsNeedsAll() {
      String p = "{\"Location\": [\"New York\"], \"Day\": [\"Monday\"]}";
      assertThat(matches(p, "{\"Location\": \"New York\", \"Day\": \"Monday\"}")).isTrue();
      assertThat(matches(p, "{\"Location\": \"New York\", \"Day\": \"Tuesday\"}")).isFalse();
      assertThat(matches(p, "{\"Location\": \"New York\"}")).isFalse();
    }

    @Test
    void orAmongValues() {
      String p = "{\"PaymentType\": [\"Credit\", \"Debit\"]}";
      assertThat(matches(p, "{\"PaymentType\": \"Debit\"}")).isTrue();
      assertThat(matches(p, "{\"PaymentType\": \"Cash\"}")).isFalse();
    }

    @Test
    void orAcrossFields() {
      String p = "{\"$or\": [{\"Location\": [\"New York\"]}, {\"Day\": [\"Monday\"]}]}";
      assertThat(matches(p, "{\"Location\": \"Paris\", \"Day\": \"Monday\"}")).isTrue();
      assertThat(matches(p, "{\"Location\": \"New York\", \"Day\": \"Friday\"}")).isTrue();
      assertThat(matches(p, "{\"Location\": \"Paris\", \"Day\": \"Friday\"}")).isFalse();
    }

    @Test
    void anythingButList() {
      String p = "{\"Weather\": [{\"anything-but\": [\"Raining\"]}]}";
      assertThat(matches(p, "{\"Weather\": \"Sunny\"}")).isTrue();
      assertThat(matches(p, "{\"Weather\": \"Raining\"}")).isFalse();
      // anything-but still needs the field to be there
      assertThat(matches(p, "{}")).isFalse();
    }

    @Test
    void anythingButSingleValueAndNumbers() {
      assertThat(matches("{\"state\": [{\"anything-but\": \"init\"}]}", "{\"state\": \"run\"}"))
          .isTrue();
      assertThat(matches("{\"state\": [{\"anything-but\": \"init\"}]}", "{\"state\": \"init\"}"))
          .isFalse();
      String numbers = "{\"code\": [{\"anything-but\": [100, 200]}]}";
      assertThat(matches(numbers, "{\"code\": 300}")).isTrue();
      assertThat(matches(numbers, "{\"code\": 200}")).isFalse();
    }

    @Test
    void numericEquals() {
      String p = "{\"Price\": [{\"numeric\": [\"=\", 100]}]}";
      assertThat(matches(p, "{\"Price\": 100}")).isTrue();
      assertThat(matches(p, "{\"Price\": 100.0}")).isTrue();
      assertThat(matches(p, "{\"Price\": 1.0e2}")).isTrue();
      assertThat(matches(p, "{\"Price\": 101}")).isFalse();
      // a numeric operator never matches a string, even one that spells the number
      assertThat(matches(p, "{\"Price\": \"100\"}")).isFalse();
    }

    @Test
    void numericRangeBoundsAreAsWritten() {
      String p = "{\"Price\": [{\"numeric\": [\">\", 10, \"<=\", 20]}]}";
      assertThat(matches(p, "{\"Price\": 10}")).isFalse();
      assertThat(matches(p, "{\"Price\": 10.5}")).isTrue();
      assertThat(matches(p, "{\"Price\": 20}")).isTrue();
      assertThat(matches(p, "{\"Price\": 20.01}")).isFalse();
      assertThat(matches(p, "{\"Price\": \"15\"}")).isFalse();
    }

    @Test
    void numericOpenRangesAndNegatives() {
      assertThat(matches("{\"t\": [{\"numeric\": [\"<\", 0]}]}", "{\"t\": -3.5}")).isTrue();
      assertThat(matches("{\"t\": [{\"numeric\": [\"<\", 0]}]}", "{\"t\": 0}")).isFalse();
      assertThat(matches("{\"t\": [{\"numeric\": [\">=\", 5]}]}", "{\"t\": 5}")).isTrue();
      assertThat(matches("{\"t\": [{\"numeric\": [\">=\", 5]}]}", "{\"t\": 4.999}")).isFalse();
    }

    @Test
    void exists() {
      String p = "{\"ProductName\": [{\"exists\": true}]}";
      assertThat(matches(p, "{\"ProductName\": \"Widget\"}")).isTrue();
      assertThat(matches(p, "{\"Other\": 1}")).isFalse();
    }

    @Test
    void doesNotExist() {
      String p = "{\"ProductName\": [{\"exists\": false}]}";
      assertThat(matches(p, "{\"Other\": 1}")).isTrue();
      assertThat(matches(p, "{\"ProductName\": \"Widget\"}")).isFalse();
    }

    @Test
    void beginsWith() {
      String p = "{\"Region\": [{\"prefix\": \"us-\"}]}";
      assertThat(matches(p, "{\"Region\": \"us-east-1\"}")).isTrue();
      assertThat(matches(p, "{\"Region\": \"eu-west-1\"}")).isFalse();
      assertThat(matches(p, "{\"Region\": \"US-east-1\"}")).isFalse();
    }

    @Test
    void endsWith() {
      String p = "{\"FileName\": [{\"suffix\": \".png\"}]}";
      assertThat(matches(p, "{\"FileName\": \"cat.png\"}")).isTrue();
      assertThat(matches(p, "{\"FileName\": \"cat.jpg\"}")).isFalse();
    }

    @Test
    void prefixAndSuffixIgnoringCase() {
      String prefix = "{\"service\": [{\"prefix\": {\"equals-ignore-case\": \"eventb\"}}]}";
      assertThat(matches(prefix, "{\"service\": \"EventBridge\"}")).isTrue();
      assertThat(matches(prefix, "{\"service\": \"Lambda\"}")).isFalse();
      String suffix = "{\"FileName\": [{\"suffix\": {\"equals-ignore-case\": \".png\"}}]}";
      assertThat(matches(suffix, "{\"FileName\": \"CAT.PNG\"}")).isTrue();
      assertThat(matches(suffix, "{\"FileName\": \"cat.gif\"}")).isFalse();
    }

    @Test
    void equalsIgnoreCase() {
      String p = "{\"Name\": [{\"equals-ignore-case\": \"alice\"}]}";
      assertThat(matches(p, "{\"Name\": \"ALICE\"}")).isTrue();
      assertThat(matches(p, "{\"Name\": \"Alicia\"}")).isFalse();
    }

    @Test
    void nestedFieldsAreMatchedByPath() {
      String p = "{\"dynamodb\": {\"Keys\": {\"Id\": {\"N\": [\"101\"]}}}}";
      assertThat(
              matches(
                  p,
                  "{\"eventName\": \"INSERT\", \"dynamodb\": {\"Keys\": {\"Id\": {\"N\": \"101\"}}}}"))
          .isTrue();
      assertThat(matches(p, "{\"dynamodb\": {\"Keys\": {\"Id\": {\"N\": \"102\"}}}}")).isFalse();
    }

    @Test
    void aValueInAnArrayMatchesLikeAnyOfItsElements() {
      assertThat(matches("{\"tags\": [\"red\"]}", "{\"tags\": [\"blue\", \"red\"]}")).isTrue();
      assertThat(matches("{\"tags\": [\"red\"]}", "{\"tags\": [\"blue\"]}")).isFalse();
    }
  }

  @Nested
  class Filters {

    @Test
    void noFiltersDeliversEverything() {
      RecordFilter none = RecordFilter.compile(List.of());
      assertThat(none.isEmpty()).isTrue();
      assertThat(none.matches(json("{\"anything\": 1}"))).isTrue();
      assertThat(RecordFilter.compile(null).isEmpty()).isTrue();
    }

    @Test
    void filtersAreOred() {
      RecordFilter f = filter("{\"a\": [1]}", "{\"b\": [2]}");
      assertThat(f.isEmpty()).isFalse();
      assertThat(f.matches(json("{\"a\": 1}"))).isTrue();
      assertThat(f.matches(json("{\"b\": 2}"))).isTrue();
      assertThat(f.matches(json("{\"a\": 2, \"b\": 1}"))).isFalse();
    }

    @Test
    void fieldsNotNamedInThePatternAreIgnored() {
      assertThat(matches("{\"a\": [1]}", "{\"a\": 1, \"b\": {\"c\": [1, 2]}, \"d\": null}"))
          .isTrue();
    }

    @Test
    void aViewThatIsNotAnObjectNeverMatches() {
      assertThat(filter("{\"a\": [{\"exists\": false}]}").matches(json("\"text\""))).isFalse();
      assertThat(filter("{\"a\": [{\"exists\": false}]}").matches(null)).isFalse();
    }

    @Test
    void theDocumentedConsoleExample() {
      RecordFilter f = filter("{ \"a\" : [ 1, 2 ] }");
      assertThat(f.matches(json("{\"a\": 2}"))).isTrue();
      assertThat(f.matches(json("{\"a\": 3}"))).isFalse();
    }
  }

  @Nested
  class PayloadShape {

    private final String onBody = "{\"body\": {\"RequestCode\": [\"BBBB\"]}}";

    @Test
    void jsonBodyWithJsonPatternIsFiltered() {
      RecordFilter f = filter(onBody);
      assertThat(f.matches(sqs("{\"RecordNumber\": 1, \"RequestCode\": \"BBBB\"}"))).isTrue();
      assertThat(f.matches(sqs("{\"RecordNumber\": 1, \"RequestCode\": \"AAAA\"}"))).isFalse();
    }

    @Test
    void plainStringBodyWithJsonPatternIsDropped() {
      assertThat(filter(onBody).matches(sqs("RequestCode BBBB"))).isFalse();
      // even a pattern that would match by absence does not look inside a string
      assertThat(filter("{\"body\": {\"x\": [{\"exists\": false}]}}").matches(sqs("plain")))
          .isFalse();
      assertThat(filter("{\"body\": {\"x\": [{\"exists\": false}]}}").matches(sqs("{\"y\": 1}")))
          .isTrue();
    }

    @Test
    void plainStringBodyWithPlainPatternIsFiltered() {
      RecordFilter f = filter("{\"body\": [{\"prefix\": \"ORDER\"}]}");
      assertThat(f.matches(sqs("ORDER 42"))).isTrue();
      assertThat(f.matches(sqs("REFUND 42"))).isFalse();
    }

    @Test
    void jsonBodyWithPlainPatternIsDropped() {
      RecordFilter f = filter("{\"body\": [{\"anything-but\": [\"x\"]}]}");
      assertThat(f.matches(sqs("plain"))).isTrue();
      assertThat(f.matches(sqs("{\"a\": 1}"))).isFalse();
      assertThat(filter("{\"body\": [{\"exists\": false}]}").matches(sqs("{\"a\": 1}"))).isFalse();
    }

    @Test
    void metadataOnlyPatternFiltersWhateverTheBody() {
      RecordFilter f = filter("{\"attributes\": {\"ApproximateReceiveCount\": [\"1\"]}}");
      assertThat(f.matches(sqs("not json at all"))).isTrue();
      assertThat(f.matches(sqs("{\"a\": 1}"))).isTrue();
      RecordFilter other = filter("{\"attributes\": {\"ApproximateReceiveCount\": [\"2\"]}}");
      assertThat(other.matches(sqs("not json at all"))).isFalse();
    }

    @Test
    void kafkaValueFollowsTheSameRules() {
      RecordFilter f = filter("{\"value\": {\"device_ID\": [{\"prefix\": \"AB\"}]}}");
      assertThat(
              f.matches(
                  json(
                      "{\"topic\": \"t\", \"partition\": 0, \"value\": {\"device_ID\": \"AB12\"}}")))
          .isTrue();
      assertThat(f.matches(json("{\"topic\": \"t\", \"value\": \"AB12 plain\"}"))).isFalse();
      RecordFilter plain = filter("{\"value\": [{\"prefix\": \"AB\"}]}");
      assertThat(plain.matches(json("{\"topic\": \"t\", \"value\": \"AB12 plain\"}"))).isTrue();
      assertThat(plain.matches(json("{\"topic\": \"t\", \"value\": {\"device_ID\": \"AB\"}}")))
          .isFalse();
    }

    @Test
    void eachOrBranchIsJudgedOnItsOwn() {
      RecordFilter f =
          filter(
              "{\"$or\": [{\"body\": {\"k\": [{\"exists\": false}]}},"
                  + " {\"attributes\": {\"SenderId\": [\"AIDA\"]}}]}");
      // the body branch cannot match a plain body, the metadata branch can
      assertThat(f.matches(sqs("plain"))).isTrue();
      RecordFilter g =
          filter(
              "{\"$or\": [{\"body\": {\"k\": [{\"exists\": false}]}},"
                  + " {\"attributes\": {\"SenderId\": [\"nobody\"]}}]}");
      assertThat(g.matches(sqs("plain"))).isFalse();
      assertThat(g.matches(sqs("{\"other\": true}"))).isTrue();
    }
  }

  @Nested
  class Refusals {

    private void refused(String pattern) {
      assertThatThrownBy(() -> RecordFilter.compile(Collections.singletonList(pattern)))
          .as(pattern)
          .isInstanceOfSatisfying(
              LambdaError.class,
              e -> {
                assertThat(e.errorType()).isEqualTo("InvalidParameterValueException");
                assertThat(e.status()).isEqualTo(400);
                assertThat(e.getMessage()).isEqualTo("Invalid filter pattern definition.");
              });
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "",
          "   ",
          "not json",
          "{\"a\": [1]",
          "[{\"a\": [1]}]",
          "\"a\"",
          "42",
          "null",
          "{}",
          "{\"a\": 1}",
          "{\"a\": \"x\"}",
          "{\"a\": []}",
          "{\"a\": {}}",
          "{\"a\": [{\"foo\": 1}]}",
          "{\"a\": [{\"numeric\": [\">\"]}]}",
          "{\"a\": [{\"numeric\": [\"~\", 3]}]}",
          "{\"a\": [{\"numeric\": [\">\", \"ten\"]}]}",
          "{\"a\": [{\"exists\": \"yes\"}]}",
          "{\"a\": [{\"prefix\": 5}]}",
          "{\"$or\": [{\"a\": [1]}]}",
          "{\"$or\": {\"a\": [1]}}",
        })
    void malformedPatterns(String pattern) {
      refused(pattern);
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "{\"FilePath\": [{\"wildcard\": \"*/lib/*\"}]}",
          "{\"ip\": [{\"cidr\": \"10.0.0.0/24\"}]}",
          "{\"Region\": [{\"anything-but\": {\"prefix\": \"us-\"}}]}",
          "{\"FileName\": [{\"anything-but\": {\"suffix\": \".png\"}}]}",
          "{\"state\": [{\"anything-but\": {\"equals-ignore-case\": \"initializing\"}}]}",
          "{\"FilePath\": [{\"anything-but\": {\"wildcard\": \"*/lib/*\"}}]}",
          "{\"$or\": [{\"a\": [1]}, {\"b\": [{\"wildcard\": \"x*\"}]}]}",
          "{\"body\": {\"deep\": [{\"wildcard\": \"x*\"}]}}",
        })
    void eventBridgeOperatorsLambdaDoesNotOffer(String pattern) {
      refused(pattern);
    }

    @Test
    void aFieldMerelyNamedLikeAnOperatorIsAccepted() {
      assertThat(matches("{\"wildcard\": [\"x\"]}", "{\"wildcard\": \"x\"}")).isTrue();
      assertThat(matches("{\"cidr\": {\"v4\": [\"x\"]}}", "{\"cidr\": {\"v4\": \"x\"}}")).isTrue();
    }

    @Test
    void aStreamImagePatternMustBeJson() {
      refused("{\"dynamodb\": [\"x\"]}");
      refused("{\"dynamodb\": [{\"exists\": true}]}");
    }

    @Test
    void aMissingPatternIsRefused() {
      refused(null);
    }

    @Test
    void oneBadPatternRefusesAll() {
      assertThatThrownBy(() -> filter("{\"a\": [1]}", "{\"b\": 2}"))
          .isInstanceOf(LambdaError.class)
          .hasMessage("Invalid filter pattern definition.");
    }

    @Test
    void moreFiltersThanTheQuota() {
      List<String> six = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        six.add("{\"a\": [" + i + "]}");
      }
      assertThat(RecordFilter.compile(six.subList(0, 5)).isEmpty()).isFalse();
      assertThatThrownBy(() -> RecordFilter.compile(six))
          .isInstanceOfSatisfying(
              LambdaError.class,
              e -> {
                assertThat(e.errorType()).isEqualTo("InvalidParameterValueException");
                assertThat(e.getMessage()).contains("6").contains("5");
              });
    }

    @Test
    void aPatternLongerThanTheModelAllows() {
      StringBuilder values = new StringBuilder();
      while (values.length() < 4100) {
        values.append("\"abcdefgh\",");
      }
      String tooLong = "{\"a\": [" + values + "\"z\"]}";
      assertThat(tooLong.length()).isGreaterThan(4096);
      assertThatThrownBy(() -> filter("{\"a\": [1]}", tooLong))
          .isInstanceOfSatisfying(
              LambdaError.class,
              e -> {
                assertThat(e.errorType()).isEqualTo("ValidationException");
                assertThat(e.getMessage())
                    .startsWith("1 validation error detected: Value '")
                    .contains("at 'filterCriteria.filters.2.member.pattern'")
                    .endsWith(
                        "failed to satisfy constraint: Member must have length less than or"
                            + " equal to 4096");
              });
      String exactly = "{\"a\": [\"" + "x".repeat(4096 - 11) + "\"]}";
      assertThat(exactly).hasSize(4096);
      assertThat(filter(exactly).isEmpty()).isFalse();
    }

    @Test
    void validateRefusesAsCompileDoes() {
      RecordFilter.validate(List.of("{\"a\": [1]}"));
      assertThatThrownBy(() -> RecordFilter.validate(List.of("{}")))
          .isInstanceOf(LambdaError.class)
          .hasMessage("Invalid filter pattern definition.");
    }
  }

  @Test
  void oneCompiledFilterMatchesFromManyThreadsAtOnce() throws Exception {
    RecordFilter f =
        filter(
            "{\"body\": {\"n\": [{\"numeric\": [\">=\", 500]}]}}",
            "{\"body\": {\"kind\": [{\"prefix\": \"keep\"}]}}");
    List<JsonNode> views = new ArrayList<>();
    List<Boolean> expected = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      String kind = i % 7 == 0 ? "keep-" + i : "drop-" + i;
      views.add(sqs("{\"n\": " + i + ", \"kind\": \"" + kind + "\"}"));
      expected.add(i >= 500 || i % 7 == 0);
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        tasks.add(
            () -> {
              int wrong = 0;
              for (int round = 0; round < 20; round++) {
                for (int i = 0; i < views.size(); i++) {
                  if (f.matches(views.get(i)) != expected.get(i)) {
                    wrong++;
                  }
                }
              }
              return wrong;
            });
      }
      for (Future<Integer> result : pool.invokeAll(tasks)) {
        assertThat(result.get()).isZero();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
