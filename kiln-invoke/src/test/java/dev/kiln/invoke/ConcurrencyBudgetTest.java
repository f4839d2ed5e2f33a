package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.LambdaError;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConcurrencyBudgetTest {

  static String reason(Runnable r) {
    try {
      r.run();
      return "admitted";
    } catch (LambdaError e) {
      return e.status() + " " + e.extraMember("Reason").orElse("");
    }
  }

  @Test
  void reservedFunctions_haveTheirOwnPool_andOthersShareTheRest() {
    ConcurrencyBudget budget = new ConcurrencyBudget(10, Map.of("vip", 3));
    assertThat(budget.unreserved()).isEqualTo(7);
    for (int i = 0; i < 3; i++) {
      budget.admit("vip");
    }
    assertThat(reason(() -> budget.admit("vip")))
        .isEqualTo("429 ReservedFunctionConcurrentInvocationLimitExceeded");
    ConcurrencyBudget.Permit[] shared = new ConcurrencyBudget.Permit[7];
    for (int i = 0; i < 7; i++) {
      shared[i] = budget.admit(i % 2 == 0 ? "a" : "b");
    }
    assertThat(reason(() -> budget.admit("c"))).isEqualTo("429 ConcurrentInvocationLimitExceeded");
    shared[0].close();
    shared[0].close(); // closing twice gives back once
    assertThat(reason(() -> budget.admit("c"))).isEqualTo("admitted");
    assertThat(reason(() -> budget.admit("c"))).isEqualTo("429 ConcurrentInvocationLimitExceeded");
  }

  @Test
  void reservations_moveRoomBetweenPools() {
    ConcurrencyBudget budget = new ConcurrencyBudget(1000, Map.of());
    assertThat(budget.minimumUnreserved()).isEqualTo(100);
    assertThat(budget.unreservedIf("f", 900)).isEqualTo(100);
    budget.reserve("f", 900);
    assertThat(budget.unreserved()).isEqualTo(100);
    budget.reserve("f", 10);
    assertThat(budget.unreserved()).isEqualTo(990);
    budget.unreserve("f");
    assertThat(budget.unreserved()).isEqualTo(1000);
    budget.reserve("off", 0);
    assertThat(reason(() -> budget.admit("off")))
        .isEqualTo("429 ReservedFunctionConcurrentInvocationLimitExceeded");
    assertThat(new ConcurrencyBudget(20, Map.of()).minimumUnreserved()).isEqualTo(2);
    assertThatThrownBy(() -> new ConcurrencyBudget(0, Map.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
