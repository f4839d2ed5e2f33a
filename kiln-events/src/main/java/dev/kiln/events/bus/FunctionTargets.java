package dev.kiln.events.bus;

import dev.kiln.invoke.Catalog;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;

/**
 * What the bus asks of Kiln's functions about a target: does the function exist, and does its
 * resource-based policy let EventBridge ({@code events.amazonaws.com}) invoke it for a rule, as
 * Lambda checks when EventBridge calls Invoke.
 */
public interface FunctionTargets {

  /** The principal EventBridge calls Lambda as. */
  String EVENTS_PRINCIPAL = "events.amazonaws.com";

  /** Whether the function (and the version or alias the reference names) exists. */
  boolean exists(FunctionRef function);

  /** Whether the function's policy lets EventBridge invoke it for the rule {@code ruleArn}. */
  boolean allowsRule(FunctionRef function, String ruleArn);

  /** Kiln's functions, as its catalog knows them. */
  static FunctionTargets of(Catalog catalog) {
    return new FunctionTargets() {
      @Override
      public boolean exists(FunctionRef function) {
        try {
          catalog.functions().get(function);
          return true;
        } catch (LambdaError e) {
          // not found, or a qualifier that names nothing this function has
          return false;
        }
      }

      @Override
      public boolean allowsRule(FunctionRef function, String ruleArn) {
        return catalog
            .policies()
            .allowsService(
                function,
                EVENTS_PRINCIPAL,
                "lambda:InvokeFunction",
                ruleArn,
                catalog.account().accountId());
      }
    };
  }
}
