package dev.kiln.invoke;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What an {@link InstancePool} decides about its instances, as pure functions of a snapshot of them
 * and the time: which idle ones to stop (past the keep-alive, or with a key about to end), which to
 * freeze, which provisioned ones start handing over to a replacement, which leave the provisioned
 * ones when fewer are asked for, and how many to start. Nothing here changes anything: the pool
 * takes the snapshot under its lock, asks, and carries the answer out. So each rule can be read,
 * and tested, alone (OpenWhisk's {@code ContainerPool} keeps its scheduling decisions the same
 * way).
 *
 * <p>Decisions are generic in the instance type so that tests can use plain names.
 */
final class PoolDecisions {

  private PoolDecisions() {}

  /**
   * What an instance is to its pool: started for demand, kept for provisioned concurrency, or
   * provisioned and handing over (its replacement is starting; it still serves and still counts as
   * ready until the replacement has initialised).
   */
  enum Role {
    ON_DEMAND,
    PROVISIONED,
    HANDING_OVER;

    boolean provisioned() {
      return this != ON_DEMAND;
    }
  }

  /**
   * One instance as the decisions see it.
   *
   * @param idleSince when it last became idle (for the idle ones)
   * @param initialised whether its runtime has initialised (asked for its first event)
   * @param keyExpires when its temporary key ends; empty without one
   * @param handoverAt when a provisioned instance's replacement should start; empty without a key
   */
  record Member<T>(
      T instance,
      Role role,
      Instant idleSince,
      boolean frozen,
      boolean initialised,
      Optional<Instant> keyExpires,
      Optional<Instant> handoverAt) {}

  /**
   * Whether an invocation that starts at {@code now} ends before the key does: {@code reserve} is
   * the function's timeout and a margin.
   */
  static boolean keyLasts(Optional<Instant> keyExpires, Instant now, Duration reserve) {
    return keyExpires.map(e -> now.plus(reserve).isBefore(e)).orElse(true);
  }

  /** The idle instances to stop: {@code rotate}, whose key ends soon; {@code expire}, the rest. */
  record Reap<T>(List<T> rotate, List<T> expire) {}

  /**
   * Which idle instances to stop: every one whose key would not outlast an invocation (provisioned
   * ones too: they are replaced), and, from the least recently used up, the on-demand ones idle
   * since before {@code now - keepAlive}. Provisioned instances are never stopped for being idle.
   *
   * @param idle the idle instances, most recently used first (the pool's stack order)
   */
  static <T> Reap<T> reap(
      List<Member<T>> idle, Instant now, Duration keepAlive, Duration keyReserve) {
    Instant cutoff = now.minus(keepAlive);
    List<T> rotate = new ArrayList<>();
    List<Member<T>> keyGood = new ArrayList<>();
    for (Member<T> m : idle) {
      if (keyLasts(m.keyExpires(), now, keyReserve)) {
        keyGood.add(m);
      } else {
        rotate.add(m.instance());
      }
    }
    List<T> expire = new ArrayList<>();
    // the stack's bottom is the least recently used: idle times only grow towards it
    for (int i = keyGood.size() - 1; i >= 0; i--) {
      Member<T> m = keyGood.get(i);
      if (!m.idleSince().isBefore(cutoff)) {
        break;
      }
      if (!m.role().provisioned()) {
        expire.add(m.instance());
      }
    }
    return new Reap<>(rotate, expire);
  }

  /** The idle instances to freeze: idle since before {@code now - after}, and not frozen yet. */
  static <T> List<T> freeze(List<Member<T>> idle, Instant now, Duration after) {
    Instant cutoff = now.minus(after);
    return idle.stream()
        .filter(m -> !m.frozen() && m.idleSince().isBefore(cutoff))
        .map(Member::instance)
        .toList();
  }

  /**
   * The provisioned instances whose replacement should start now: initialised, not handing over
   * already, and past their hand-over point.
   */
  static <T> List<T> handOver(List<Member<T>> members, Instant now) {
    return members.stream()
        .filter(m -> m.role() == Role.PROVISIONED && m.initialised())
        .filter(m -> m.handoverAt().map(at -> !now.isBefore(at)).orElse(false))
        .map(Member::instance)
        .toList();
  }

  /**
   * The provisioned instances that become on-demand ones when only {@code target} are asked for:
   * those handing over go first (their replacements are already coming), then the rest in order.
   */
  static <T> List<T> release(List<Member<T>> members, int target) {
    List<Member<T>> provisioned = new ArrayList<>();
    members.stream().filter(m -> m.role() == Role.HANDING_OVER).forEach(provisioned::add);
    members.stream().filter(m -> m.role() == Role.PROVISIONED).forEach(provisioned::add);
    int excess = provisioned.size() - Math.max(0, target);
    return provisioned.stream().limit(Math.max(0, excess)).map(Member::instance).toList();
  }

  /**
   * How many provisioned instances to start now: {@code target} less those kept (not counting the
   * ones handing over, whose replacements these are) and those already starting.
   */
  static int toStart(int target, int provisioned, int starting) {
    return Math.max(0, target - provisioned - starting);
  }
}
