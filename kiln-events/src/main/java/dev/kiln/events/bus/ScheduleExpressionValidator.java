package dev.kiln.events.bus;

import dev.kiln.model.LambdaError;
import java.util.regex.Pattern;

/**
 * Decides whether PutRule's {@code ScheduleExpression} is one EventBridge accepts. The schedule
 * engine's parser ({@link #EVENTBRIDGE}: rate and cron in AWS's grammar, the one the engine fires
 * them with) is what the server uses; {@link #OUTER_FORM} only checks the outer {@code rate(...)} /
 * {@code cron(...)} shape, for tests that are not about expressions.
 */
@FunctionalInterface
public interface ScheduleExpressionValidator {

  /** EventBridge's answer to a schedule expression it cannot use. */
  String INVALID = "Parameter ScheduleExpression is not valid.";

  /**
   * Checks {@code expression}.
   *
   * @throws LambdaError {@code ValidationException} when it is not valid
   */
  void validate(String expression);

  /**
   * EventBridge's rules: {@code rate()} and {@code cron()} (no {@code at()}), read by the schedule
   * engine's own parser, so a rule PutRule accepts is one the engine can fire.
   */
  ScheduleExpressionValidator EVENTBRIDGE =
      expression -> {
        try {
          dev.kiln.events.schedule.ScheduleExpression.parse(
              expression,
              java.time.ZoneOffset.UTC,
              dev.kiln.events.schedule.ScheduleExpression.Kinds.RECURRING);
        } catch (IllegalArgumentException invalid) {
          throw new LambdaError("ValidationException", 400, INVALID);
        }
      };

  /** Accepts {@code rate(...)} and {@code cron(...)} with something between the parentheses. */
  ScheduleExpressionValidator OUTER_FORM =
      new ScheduleExpressionValidator() {
        private final Pattern form = Pattern.compile("(rate|cron)\\(\\s*\\S.*\\)");

        @Override
        public void validate(String expression) {
          if (!form.matcher(expression).matches()) {
            throw new LambdaError("ValidationException", 400, INVALID);
          }
        }
      };
}
