package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.api.auth.ApiOperations;
import dev.kiln.api.auth.CodeLinks;
import dev.kiln.api.auth.IdentityPolicies;
import dev.kiln.api.iam.IamApi;
import dev.kiln.invoke.Catalog;
import dev.kiln.invoke.ConcurrencyBudget;
import dev.kiln.model.Account;
import dev.kiln.store.LocalCodeStore;
import dev.kiln.testing.InMemoryIamStore;
import dev.kiln.testing.InMemoryMetadataStore;
import io.helidon.webserver.http.HttpRouting;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every route the API serves has its IAM action and resource in {@link ApiOperations}' table, so
 * that no operation can be added that the policy check does not know: the test records the routes
 * {@link LambdaApi#routes} registers (through a recording {@link HttpRouting.Builder}) and asks the
 * table for each.
 */
class RouteTableTest {

  record Route(String method, String path) {}

  /** The routes registered on a builder, in order; every other call is accepted and ignored. */
  static List<Route> routesOf(java.util.function.Consumer<HttpRouting.Builder> routing) {
    List<Route> routes = new ArrayList<>();
    HttpRouting.Builder[] self = new HttpRouting.Builder[1];
    self[0] =
        (HttpRouting.Builder)
            Proxy.newProxyInstance(
                HttpRouting.Builder.class.getClassLoader(),
                new Class<?>[] {HttpRouting.Builder.class},
                (proxy, method, args) -> {
                  String name = method.getName();
                  if (List.of("get", "post", "put", "delete", "patch").contains(name)
                      && args != null
                      && args.length > 0
                      && args[0] instanceof String path) {
                    routes.add(new Route(name.toUpperCase(java.util.Locale.ROOT), path));
                  }
                  return method.getReturnType().isInstance(proxy) ? proxy : null;
                });
    routing.accept(self[0]);
    return routes;
  }

  @Test
  void everyLambdaRoute_hasAnActionInTheTable(@TempDir Path code) {
    Catalog catalog =
        Catalog.of(
            new InMemoryMetadataStore(),
            new LocalCodeStore(code),
            null,
            null,
            Account.DEFAULT,
            Clock.systemUTC());
    InMemoryIamStore iam = new InMemoryIamStore();
    LambdaApi api =
        new LambdaApi(
            catalog,
            null,
            new ConcurrencyBudget(1000, Map.of()),
            null,
            null,
            null,
            Optional.empty(),
            new CodeLinks(Clock.systemUTC()),
            new IdentityPolicies(iam, Account.DEFAULT, IdentityPolicies.Mode.COMPAT),
            new IamApi(iam, Account.DEFAULT, Clock.systemUTC()),
            java.util.Optional.empty(),
            Clock.systemUTC());
    List<Route> routes = routesOf(api::routes);
    assertThat(routes).hasSizeGreaterThan(40);
    List<String> missing = new ArrayList<>();
    for (Route route : routes) {
      if (route.path().equals("/") || route.path().startsWith("/kiln/code/")) {
        // POST / is the Query protocol's and CloudWatch Logs' (their actions are checked below);
        // code downloads carry a signature of their own, outside the gate
        continue;
      }
      String path =
          route
              .path()
              .replace("{arn}", "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af")
              .replaceAll("\\{[A-Za-z]+}", "x1");
      List<Map.Entry<String, String>> query = new ArrayList<>();
      if (ApiOperations.lambda(route.method(), path, query, new byte[0], Account.DEFAULT)
          .isEmpty()) {
        // some operations share a path and differ by a query parameter the model names
        query.add(Map.entry("List", "ALL"));
      }
      if (ApiOperations.lambda(route.method(), path, query, new byte[0], Account.DEFAULT)
          .isEmpty()) {
        missing.add(route.method() + " " + route.path());
      }
    }
    assertThat(missing).as("routes with no IAM action in ApiOperations").isEmpty();
  }

  @Test
  void everyIamAndStsAction_hasAnActionInTheTable() {
    for (String action : IamApi.ACTIONS) {
      assertThat(
              ApiOperations.query("iam", action, p -> Optional.of("x"), Account.DEFAULT)
                  .map(ApiOperations.Operation::action))
          .contains("iam:" + action);
    }
    assertThat(
            ApiOperations.query("sts", "GetCallerIdentity", p -> Optional.empty(), Account.DEFAULT)
                .map(ApiOperations.Operation::action))
        .contains("sts:GetCallerIdentity");
    assertThat(ApiOperations.query("iam", "CreateUser", p -> Optional.empty(), Account.DEFAULT))
        .isEmpty();
  }
}
