package dev.kiln.events.bus;

import dev.kiln.model.LambdaError;
import java.util.regex.Pattern;

/**
 * Decides whether PutRule's {@code ScheduleExpression} is one EventBridge accepts. The schedule
 * engine's parser (cron and rate, AWS's grammar) is plugged in here by whoever assembles the
 * router; {@link #OUTER_FORM} only checks the outer {@code rate(...)} / {@code cron(...)} shape,
 * for tests and for a router without a schedule engine.
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
