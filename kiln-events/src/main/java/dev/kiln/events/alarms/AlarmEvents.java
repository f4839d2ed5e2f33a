package dev.kiln.events.alarms;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.events.BusEvent;
import dev.kiln.model.Account;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;

/**
 * What one Alertmanager alert becomes: the events a CloudWatch alarm sends when it changes state.
 *
 * <p>The model: a CloudWatch alarm is one metric (with its dimensions) watched against a threshold,
 * and it changes state between {@code OK} and {@code ALARM}. The nearest thing in Alertmanager is
 * one alert, one rule's alert for one set of labels (Alertmanager tells them apart by {@code
 * fingerprint}), not the group, which gathers many alarms in one call. So each alert is one alarm
 * state change: {@code firing} is {@code ALARM} (previously {@code OK}), {@code resolved} is {@code
 * OK} (previously {@code ALARM}). Its name is the {@code alertname} label, its ARN {@code
 * arn:aws:cloudwatch:<region>:<account>:alarm:<alertname>}.
 *
 * <p>Where the alert's own data goes: the labels are the watched metric's {@code dimensions}
 * ({@code configuration.metrics[0].metricStat.metric}, namespace {@code Prometheus}, name the
 * alertname); the annotations {@code summary} (else {@code description}) is the state's {@code
 * reason} and {@code description} (else {@code summary}) the configuration's {@code description};
 * and the whole alert, as Alertmanager sent it, is {@code alarmData.alertmanager} ({@code labels},
 * {@code annotations}, {@code status}, {@code startsAt}, {@code endsAt}, {@code generatorURL},
 * {@code fingerprint}, and the group's {@code receiver}, {@code groupKey}, {@code externalURL}), a
 * member CloudWatch does not have, and the state's {@code reasonData} is the same as a JSON string,
 * as CloudWatch's is. Times are CloudWatch's format ({@code 2023-08-04T12:36:15.490+0000}).
 */
public final class AlarmEvents {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter CLOUDWATCH_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneOffset.UTC);

  /** The Lambda service principal of CloudWatch alarms' Lambda actions. */
  public static final String PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com";

  private AlarmEvents() {}

  public static String alarmArn(Account account, String alarmName) {
    return "arn:aws:cloudwatch:"
        + account.region()
        + ":"
        + account.accountId()
        + ":alarm:"
        + alarmName;
  }

  /** When the alert changed state: its end when resolved, else its start. */
  static Instant changedAt(AlertmanagerNotification.Alert alert) {
    return alert.firing() ? alert.startsAt() : alert.endsAt().orElse(alert.startsAt());
  }

  /** The event a CloudWatch alarm's Lambda action sends the function. */
  public static ObjectNode lambdaEvent(
      AlertmanagerNotification group, AlertmanagerNotification.Alert alert, Account account) {
    ObjectNode event = JSON.createObjectNode();
    event.put("source", "aws.cloudwatch");
    event.put("alarmArn", alarmArn(account, alert.alertName()));
    event.put("accountId", account.accountId());
    event.put("time", CLOUDWATCH_TIME.format(changedAt(alert)));
    event.put("region", account.region());
    ObjectNode data = event.putObject("alarmData");
    data.put("alarmName", alert.alertName());
    fillAlarm(data, group, alert);
    return event;
  }

  /** The "CloudWatch Alarm State Change" event CloudWatch puts on the default bus. */
  public static BusEvent busEvent(
      AlertmanagerNotification group, AlertmanagerNotification.Alert alert, Account account) {
    ObjectNode detail = JSON.createObjectNode();
    detail.put("alarmName", alert.alertName());
    fillAlarm(detail, group, alert);
    return new BusEvent(
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
        detail,
        List.of(alarmArn(account, alert.alertName())),
        Optional.of(changedAt(alert)));
  }

  private static void fillAlarm(
      ObjectNode data, AlertmanagerNotification group, AlertmanagerNotification.Alert alert) {
    ObjectNode original = alertmanager(group, alert);
    String reasonData = original.toString();
    String summary =
        firstOf(alert, "summary", "description")
            .orElse("Alertmanager: " + alert.alertName() + " is " + alert.status());
    ObjectNode state = data.putObject("state");
    ObjectNode previous = data.putObject("previousState");
    if (alert.firing()) {
      state.put("value", "ALARM");
      state.put("reason", summary);
      state.put("reasonData", reasonData);
      state.put("timestamp", CLOUDWATCH_TIME.format(alert.startsAt()));
      previous.put("value", "OK");
      previous.put("reason", "Alertmanager: " + alert.alertName() + " was not firing");
      previous.put("timestamp", CLOUDWATCH_TIME.format(alert.startsAt()));
    } else {
      Instant resolvedAt = changedAt(alert);
      state.put("value", "OK");
      state.put("reason", "Alertmanager: " + alert.alertName() + " is resolved");
      state.put("reasonData", reasonData);
      state.put("timestamp", CLOUDWATCH_TIME.format(resolvedAt));
      previous.put("value", "ALARM");
      previous.put("reason", summary);
      previous.put("timestamp", CLOUDWATCH_TIME.format(alert.startsAt()));
    }
    ObjectNode configuration = data.putObject("configuration");
    configuration.put("description", firstOf(alert, "description", "summary").orElse(""));
    ObjectNode metric = configuration.putArray("metrics").addObject();
    metric.put("id", alert.fingerprint().isEmpty() ? alert.alertName() : alert.fingerprint());
    ObjectNode stat = metric.putObject("metricStat");
    ObjectNode watched = stat.putObject("metric");
    watched.put("namespace", "Prometheus");
    watched.put("name", alert.alertName());
    watched.set("dimensions", alert.labels().deepCopy());
    metric.put("returnData", true);
    data.set("alertmanager", original);
  }

  /** The alert as Alertmanager sent it, with its group's receiver, key and URL. */
  private static ObjectNode alertmanager(
      AlertmanagerNotification group, AlertmanagerNotification.Alert alert) {
    ObjectNode a = JSON.createObjectNode();
    a.put("status", alert.status());
    a.set("labels", alert.labels().deepCopy());
    a.set("annotations", alert.annotations().deepCopy());
    a.put("startsAt", alert.startsAt().toString());
    alert.endsAt().ifPresent(t -> a.put("endsAt", t.toString()));
    a.put("generatorURL", alert.generatorUrl());
    a.put("fingerprint", alert.fingerprint());
    a.put("receiver", group.receiver());
    a.put("groupKey", group.groupKey());
    a.put("externalURL", group.externalUrl());
    return a;
  }

  private static Optional<String> firstOf(AlertmanagerNotification.Alert alert, String... names) {
    for (String n : names) {
      String v = alert.annotations().path(n).asText("");
      if (!v.isEmpty()) {
        return Optional.of(v);
      }
    }
    return Optional.empty();
  }
}
