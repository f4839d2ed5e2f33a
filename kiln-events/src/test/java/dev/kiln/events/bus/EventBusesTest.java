package dev.kiln.events.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.events.bus.EventBuses.Entry;
import dev.kiln.events.bus.EventBuses.EntryResult;
import dev.kiln.events.bus.EventBuses.FailedEntry;
import dev.kiln.events.bus.EventBuses.RuleRequest;
import dev.kiln.model.LambdaError;
import dev.kiln.store.EventBusStore.Rule;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** Every refusal of the control plane, with its message, and proof that nothing changed. */
class EventBusesTest {

  final BusFixture kiln = new BusFixture();

  static RuleRequest rule(String name, Optional<String> pattern, Optional<String> schedule) {
    return new RuleRequest(
        name,
        Optional.empty(),
        pattern,
        schedule,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Map.of());
  }

  static void refused(ThrowingCallable call, String type, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.errorType()).isEqualTo(type);
              assertThat(e.getMessage()).isEqualTo(message);
            });
  }

  List<Rule> rules() {
    return kiln.store.allRules();
  }

  @Test
  void putRuleRefusals() {
    refused(
        () -> kiln.buses.putRule(rule("r", Optional.empty(), Optional.empty())),
        "ValidationException",
        "Parameter(s) EventPattern or ScheduleExpression must be specified.");
    assertThatThrownBy(
            () ->
                kiln.buses.putRule(rule("r", Optional.of("{\"source\": \"x\"}"), Optional.empty())))
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              assertThat(e.errorType()).isEqualTo("InvalidEventPatternException");
              assertThat(e.getMessage())
                  .startsWith(
                      "Event pattern is not valid. Reason: \"source\" must be an object or an array");
            });
    refused(
        () -> kiln.buses.putRule(rule("r", Optional.empty(), Optional.of("every 5 minutes"))),
        "ValidationException",
        "Parameter ScheduleExpression is not valid.");
    refused(
        () -> kiln.buses.putRule(rule("bad name", Optional.of("{\"a\": [1]}"), Optional.empty())),
        "ValidationException",
        "1 validation error detected: Value 'bad name' at 'name' failed to satisfy constraint:"
            + " Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+");
    refused(
        () ->
            kiln.buses.putRule(
                new RuleRequest(
                    "r",
                    Optional.of("nope"),
                    Optional.of("{\"a\": [1]}"),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Map.of())),
        "ResourceNotFoundException",
        "Event bus nope does not exist.");
    kiln.buses.createBus("shop", Optional.empty(), Map.of());
    refused(
        () ->
            kiln.buses.putRule(
                new RuleRequest(
                    "r",
                    Optional.of("shop"),
                    Optional.empty(),
                    Optional.of("rate(1 minute)"),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Map.of())),
        "ValidationException",
        "ScheduleExpression is supported only on the default event bus.");
    assertThat(rules()).isEmpty();
  }

  @Test
  void putTargetsRefusesWhatIsNoKilnFunction_perTarget_andStoresTheRest() {
    kiln.buses.putRule(rule("r", Optional.of("{\"source\": [\"a\"]}"), Optional.empty()));
    kiln.function("f");
    List<FailedEntry> failed =
        kiln.buses.putTargets(
            "r",
            Optional.empty(),
            List.of(
                BusFixture.target("ok", "f"),
                BusFixture.target("gone", "missing"),
                new dev.kiln.store.EventBusStore.Target(
                    "queue",
                    "arn:aws:sqs:us-east-1:000000000000:q",
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty())));
    assertThat(failed)
        .containsExactly(
            new FailedEntry(
                "gone",
                "ValidationException",
                "Target Arn arn:aws:lambda:us-east-1:000000000000:function:missing names a"
                    + " function this Kiln does not have."),
            new FailedEntry(
                "queue",
                "ValidationException",
                "Target Arn arn:aws:sqs:us-east-1:000000000000:q is not a Lambda function's ARN:"
                    + " Kiln delivers events to its own functions only."));
    assertThat(kiln.store.targets("default", "r"))
        .extracting(dev.kiln.store.EventBusStore.Target::id)
        .containsExactly("ok");

    refused(
        () -> kiln.buses.putTargets("nope", Optional.empty(), List.of(BusFixture.target("1", "f"))),
        "ResourceNotFoundException",
        "Rule nope does not exist on EventBus default.");
    List<dev.kiln.store.EventBusStore.Target> five = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      five.add(BusFixture.target("t" + i, "f"));
    }
    refused(
        () -> kiln.buses.putTargets("r", Optional.empty(), five),
        "LimitExceededException",
        "The requested resource exceeds the maximum number allowed.");
    assertThat(kiln.store.targets("default", "r")).hasSize(1);

    refused(
        () -> kiln.buses.deleteRule("r", Optional.empty()),
        "ValidationException",
        "Rule can't be deleted since it has targets.");
    assertThat(kiln.store.rule("default", "r")).isPresent();
    kiln.buses.removeTargets("r", Optional.empty(), List.of("ok"));
    kiln.buses.deleteRule("r", Optional.empty());
    kiln.buses.deleteRule("r", Optional.empty());
    assertThat(rules()).isEmpty();
  }

  @Test
  void busRefusals() {
    kiln.buses.createBus("shop", Optional.empty(), Map.of());
    refused(
        () -> kiln.buses.createBus("shop", Optional.empty(), Map.of()),
        "ResourceAlreadyExistsException",
        "Event bus shop already exists.");
    refused(
        () -> kiln.buses.deleteBus("default"),
        "ValidationException",
        "Cannot delete event bus default.");
    kiln.buses.putRule(
        new RuleRequest(
            "r",
            Optional.of("shop"),
            Optional.of("{\"a\": [1]}"),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Map.of()));
    refused(
        () -> kiln.buses.deleteBus("shop"),
        "ValidationException",
        "EventBus can't be deleted since it has rules.");
    assertThat(kiln.store.buses()).hasSize(2);
  }

  static Entry entry(String source, String type, String detail) {
    return new Entry(
        Optional.ofNullable(source),
        Optional.ofNullable(type),
        Optional.ofNullable(detail),
        List.of(),
        Optional.empty(),
        Optional.empty());
  }

  @Test
  void putEventsAnswersBadEntriesInTheirPlaces_andRefusesOverLimitRequestsWhole() {
    List<EntryResult> results =
        kiln.buses.putEvents(
            List.of(
                entry("a", "T", "{}"),
                entry(null, "T", "{}"),
                entry("a", null, "{}"),
                entry("a", "T", "[1]"),
                entry("a", "T", null),
                new Entry(
                    Optional.of("a"),
                    Optional.of("T"),
                    Optional.of("{}"),
                    List.of(),
                    Optional.empty(),
                    Optional.of("nope"))));
    assertThat(results.get(0).eventId()).isPresent();
    assertThat(results.subList(1, 6))
        .extracting(r -> r.errorCode().orElseThrow() + ": " + r.errorMessage().orElseThrow())
        .containsExactly(
            "InvalidArgument: Parameter Source is not valid. Reason: Source is a required argument.",
            "InvalidArgument: Parameter DetailType is not valid. Reason: DetailType is a required"
                + " argument.",
            "MalformedDetail: Detail is malformed.",
            "InvalidArgument: Parameter Detail is not valid. Reason: Detail is a required argument.",
            "ResourceNotFoundException: Event bus nope does not exist.");

    refused(
        () -> kiln.buses.putEvents(Collections.nCopies(11, entry("a", "T", "{}"))),
        "ValidationException",
        "1 validation error detected: Value '[11 entries]' at 'entries' failed to satisfy"
            + " constraint: Member must have length less than or equal to 10");
    String big = "{\"x\": \"" + "a".repeat(256 * 1024 - 10) + "\"}";
    refused(
        () -> kiln.buses.putEvents(List.of(entry("a", "T", big))),
        "ValidationException",
        "Total size of the entries in the request is over the limit.");
  }

  @Test
  void entrySizeIsCountedAsAwsDocumentsIt() {
    Entry e =
        new Entry(
            Optional.of("src"),
            Optional.of("type"),
            Optional.of("{\"é\":1}"),
            List.of("r1", "r22"),
            Optional.of(Instant.EPOCH),
            Optional.empty());
    assertThat(EventBuses.entrySize(e)).isEqualTo(14 + 3 + 4 + 8 + 2 + 3);
  }

  @Test
  void testEventPatternMatchesAsRoutingDoes() {
    String event =
        "{\"id\": \"1\", \"account\": \"000000000000\", \"source\": \"com.shop\", \"time\":"
            + " \"2026-01-01T00:00:00Z\", \"region\": \"us-east-1\", \"detail-type\": \"T\","
            + " \"detail\": {\"n\": 5}}";
    assertThat(kiln.buses.testPattern("{\"detail\": {\"n\": [{\"numeric\": [\">\", 4]}]}}", event))
        .isTrue();
    assertThat(kiln.buses.testPattern("{\"source\": [\"other\"]}", event)).isFalse();
    refused(
        () -> kiln.buses.testPattern("{\"source\": [\"x\"]}", "{\"source\": \"x\"}"),
        "ValidationException",
        "Parameter Event is not valid. Reason: Provided Event is missing required field id.");
  }
}
