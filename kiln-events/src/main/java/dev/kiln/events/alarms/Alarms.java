package dev.kiln.events.alarms;

import dev.kiln.events.EventPublisher;
import dev.kiln.events.RouterMetrics;
import dev.kiln.invoke.AsyncInvocations;
import dev.kiln.invoke.Catalog;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/**
 * The alarm receiver: one Alertmanager webhook call for one function, turned into CloudWatch alarm
 * state changes ({@link AlarmEvents}), each queued for the function through the durable async queue
 * and put on the default bus, before the call is answered, so an alert Alertmanager saw answered
 * 2xx is never lost.
 *
 * <p>Everything that can refuse the call is checked before anything is queued: the payload (400),
 * the function (404), and the function's policy, which must let CloudWatch alarms ({@value
 * AlarmEvents#PRINCIPAL}) invoke it for the alarm's ARN as on AWS (403). Metrics: {@link
 * RouterMetrics} kind {@code alarm}, name the function. Thread-safe: it keeps no state of its own.
 */
public final class Alarms {

  /** Lambda's limit on an asynchronous invocation's payload. */
  static final int MAX_EVENT = 256 * 1024;

  private final Catalog catalog;
  private final AsyncInvocations async;
  private final Optional<EventPublisher> bus;
  private final RouterMetrics metrics;
  private final Account account;
  private final InstantSource clock;

  /**
   * @param bus the event bus the state changes are also put on; empty where this Kiln has none
   */
  public Alarms(
      Catalog catalog,
      AsyncInvocations async,
      Optional<EventPublisher> bus,
      RouterMetrics metrics,
      Account account,
      InstantSource clock) {
    this.catalog = catalog;
    this.async = async;
    this.bus = bus;
    this.metrics = metrics;
    this.account = account;
    this.clock = clock;
  }

  /** Delivers one webhook call's alerts to {@code function}; returns the queued request ids. */
  public List<String> receive(String function, byte[] body) {
    Instant received = clock.instant();
    AlertmanagerNotification group = AlertmanagerNotification.parse(body);
    FunctionRef ref = FunctionRef.parse(function, "FunctionName", account);
    catalog.functions().get(ref);
    for (AlertmanagerNotification.Alert alert : group.alerts()) {
      metrics.received("alarm", ref.name());
      String arn = AlarmEvents.alarmArn(account, alert.alertName());
      if (!catalog
          .policies()
          .allowsService(
              ref, AlarmEvents.PRINCIPAL, "lambda:InvokeFunction", arn, account.accountId())) {
        metrics.failed("alarm", ref.name());
        throw new LambdaError(
            "AccessDeniedException",
            403,
            "CloudWatch alarms are not authorized to invoke "
                + account.functionArn(ref)
                + " for the alarm "
                + arn
                + ": add a permission for the principal "
                + AlarmEvents.PRINCIPAL
                + " (aws lambda add-permission --function-name "
                + ref.name()
                + " --statement-id alarms --action lambda:InvokeFunction --principal "
                + AlarmEvents.PRINCIPAL
                + ")");
      }
    }
    List<byte[]> payloads = new java.util.ArrayList<>();
    for (AlertmanagerNotification.Alert alert : group.alerts()) {
      byte[] payload =
          AlarmEvents.lambdaEvent(group, alert, account)
              .toString()
              .getBytes(StandardCharsets.UTF_8);
      if (payload.length > MAX_EVENT) {
        throw LambdaError.invalidRequestContent(
            "The alarm event of the alert "
                + alert.alertName()
                + " would be "
                + payload.length
                + " bytes, over the "
                + MAX_EVENT
                + " bytes of an asynchronous invocation: shorten its labels and annotations");
      }
      payloads.add(payload);
    }
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < payloads.size(); i++) {
      AlertmanagerNotification.Alert alert = group.alerts().get(i);
      ids.add(async.accept(ref, payloads.get(i), Optional.empty()));
      bus.ifPresent(
          b -> b.publish(EventPublisher.DEFAULT_BUS, AlarmEvents.busEvent(group, alert, account)));
      metrics.delivered("alarm", ref.name(), Duration.between(received, clock.instant()));
    }
    return ids;
  }
}
