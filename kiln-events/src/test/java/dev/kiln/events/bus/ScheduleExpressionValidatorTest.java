package dev.kiln.events.bus;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.LambdaError;
import org.junit.jupiter.api.Test;

/**
 * PutRule's ScheduleExpression, read by the schedule engine's own parser, as EventBridge reads it.
 */
class ScheduleExpressionValidatorTest {

  @Test
  void rateAndCron_areAccepted() {
    for (String ok :
        new String[] {
          "rate(1 minute)",
          "rate(5 minutes)",
          "rate(1 day)",
          "cron(0 9 ? * MON-FRI *)",
          "cron(0 12 L * ? *)",
          "cron(15 10 ? * 6#3 *)"
        }) {
      assertThatCode(() -> ScheduleExpressionValidator.EVENTBRIDGE.validate(ok))
          .as(ok)
          .doesNotThrowAnyException();
    }
  }

  @Test
  void atAndMalformedExpressions_areRefusedWithEventBridgesMessage() {
    for (String bad :
        new String[] {
          "at(2026-12-24T18:00:00)", // Scheduler's one-time expression; rules have none
          "rate(1 minutes)", // AWS wants the singular for 1
          "rate(0 minutes)",
          "cron(0 9 * * MON *)", // day-of-month and day-of-week both given
          "cron(0 9 * *)", // four fields
          "every day"
        }) {
      assertThatThrownBy(() -> ScheduleExpressionValidator.EVENTBRIDGE.validate(bad))
          .as(bad)
          .isInstanceOfSatisfying(
              LambdaError.class,
              e -> {
                org.assertj.core.api.Assertions.assertThat(e.errorType())
                    .isEqualTo("ValidationException");
                org.assertj.core.api.Assertions.assertThat(e.getMessage())
                    .isEqualTo("Parameter ScheduleExpression is not valid.");
              });
    }
  }
}
