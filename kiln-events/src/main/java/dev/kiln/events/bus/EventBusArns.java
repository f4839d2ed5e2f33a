package dev.kiln.events.bus;

import dev.kiln.model.Account;
import dev.kiln.store.EventBusStore;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ARNs of buses and rules, as EventBridge builds them: {@code
 * arn:aws:events:REGION:ACCOUNT:event-bus/NAME} and {@code arn:aws:events:REGION:ACCOUNT:rule/NAME}
 * for a rule on the default bus, {@code rule/BUS/NAME} for one on another bus.
 */
public record EventBusArns(Account account) {

  private static final Pattern BUS_ARN =
      Pattern.compile("arn:aws[\\w-]*:events:([a-z0-9-]+):(\\d{12}):event-bus/(.+)");
  private static final Pattern RULE_ARN =
      Pattern.compile("arn:aws[\\w-]*:events:([a-z0-9-]+):(\\d{12}):rule/(?:([^/]+)/)?([^/]+)");

  /** A rule, by its bus and name. */
  public record RuleKey(String bus, String name) {}

  private String prefix() {
    return "arn:aws:events:" + account.region() + ":" + account.accountId() + ":";
  }

  public String bus(String name) {
    return prefix() + "event-bus/" + name;
  }

  public String rule(String bus, String name) {
    return prefix() + "rule/" + (bus.equals(EventBusStore.DEFAULT_BUS) ? name : bus + "/" + name);
  }

  /** The bus a bus ARN of this account names. */
  public Optional<String> parseBus(String arn) {
    Matcher m = BUS_ARN.matcher(arn);
    return m.matches() && ours(m) ? Optional.of(m.group(3)) : Optional.empty();
  }

  /** The rule a rule ARN of this account names. */
  public Optional<RuleKey> parseRule(String arn) {
    Matcher m = RULE_ARN.matcher(arn);
    if (!m.matches() || !ours(m)) {
      return Optional.empty();
    }
    return Optional.of(
        new RuleKey(m.group(3) == null ? EventBusStore.DEFAULT_BUS : m.group(3), m.group(4)));
  }

  /**
   * The bus name an {@code EventBusName} member gives (a name or a bus ARN); the default bus when
   * absent.
   */
  public String busName(Optional<String> nameOrArn) {
    return nameOrArn
        .filter(s -> !s.isEmpty())
        .map(s -> s.startsWith("arn:") ? parseBus(s).orElse(s) : s)
        .orElse(EventBusStore.DEFAULT_BUS);
  }

  private boolean ours(Matcher m) {
    return m.group(1).equals(account.region()) && m.group(2).equals(account.accountId());
  }
}
