package dev.kiln.invoke;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.model.Account;
import dev.kiln.model.ConfigPatch;
import dev.kiln.model.FunctionConfig;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.runtimeapi.RuntimeApiServer;
import dev.kiln.runtimes.RuntimeTable;
import dev.kiln.sandbox.ProcessSandboxDriver;
import dev.kiln.store.LocalCodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.SqliteMetadataStore;
import dev.kiln.testing.ManualTime;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * The catalog as the server builds it, over a real {@link SqliteMetadataStore} and code store in a
 * test's directory, with no server: an invoker that never starts an instance (the tests here invoke
 * nothing and provision nothing), and a store that counts the calls made to it, so a test can tell
 * a resolution served from memory from one that went back to the store, and that can run another
 * change just before one of its methods, to stand for a caller racing this one.
 */
final class CatalogFixture implements AutoCloseable {

  static final Account ACCOUNT = Account.DEFAULT;
  static final String ROLE = "arn:aws:iam::000000000000:role/r";

  final SqliteMetadataStore sqlite;
  final MetadataStore store;
  final Catalog catalog;
  final Invoker invoker;
  final ManualTime time;
  private final RuntimeApiServer runtimeApi;
  private final List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());
  private final Map<String, Runnable> before = new ConcurrentHashMap<>();

  CatalogFixture(Path dir) {
    try {
      sqlite = SqliteMetadataStore.open(dir.resolve("metadata.db"));
      store = counting(sqlite);
      time = new ManualTime();
      runtimeApi = RuntimeApiServer.create();
      invoker =
          Invoker.builder(
                  new ProcessSandboxDriver(),
                  runtimeApi,
                  Files.createDirectories(dir.resolve("instances")))
              .clock(time)
              .ticker(time)
              .scheduler(time)
              .budget(new ConcurrencyBudget(1000, store.reservedConcurrency()))
              .build();
      catalog =
          Catalog.of(
              store,
              new LocalCodeStore(dir.resolve("code")),
              RuntimeTable.install(dir.resolve("runtimes"), Map.of()),
              invoker,
              ACCOUNT,
              time);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The store, recording each call's method name and running what {@link #before} set first. */
  private MetadataStore counting(MetadataStore target) {
    return (MetadataStore)
        Proxy.newProxyInstance(
            MetadataStore.class.getClassLoader(),
            new Class<?>[] {MetadataStore.class},
            (proxy, method, args) -> {
              calls.add(method.getName());
              Runnable first = before.remove(method.getName());
              if (first != null) {
                first.run();
              }
              try {
                return method.invoke(target, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /** Runs {@code change} (on the real store) just before the next call of {@code method}. */
  void before(String method, Runnable change) {
    before.put(method, change);
  }

  /** The store methods called by {@code action}, in order. */
  List<String> storeCallsDuring(Runnable action) {
    calls.clear();
    action.run();
    synchronized (calls) {
      return List.copyOf(calls);
    }
  }

  Functions functions() {
    return catalog.functions();
  }

  /** A Python function {@code name} whose code is one file; publishes version 1 if asked. */
  FunctionConfig create(String name, boolean publish) {
    return functions()
        .create(
            name,
            zip("def handler(e, c):\n    return 1\n"),
            ConfigPatch.of("python3.12", "app.handler", ROLE),
            Map.of(),
            publish);
  }

  /** New code for {@code $LATEST} of {@code name}, published as the next version. */
  FunctionConfig publishNewCode(String name, String body) {
    return functions()
        .updateCode(
            FunctionRef.of(name), zip(body), Optional.empty(), true, Optional.empty(), false);
  }

  /** Settings that change only the description. */
  static ConfigPatch description(String description) {
    ConfigPatch none = ConfigPatch.empty();
    return new ConfigPatch(
        none.runtime(),
        none.handler(),
        none.role(),
        Optional.of(description),
        none.memorySize(),
        none.timeout(),
        none.environment(),
        none.ephemeralStorageSize(),
        none.architectures(),
        none.packageType(),
        none.tracingMode(),
        none.logging(),
        none.deadLetterTarget(),
        none.layers());
  }

  static FunctionRef ref(String name, String qualifier) {
    return new FunctionRef(name, Optional.of(qualifier));
  }

  /** A deployment package holding {@code app.py}. */
  static byte[] zip(String appPy) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("app.py"));
      zip.write(appPy.getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** {@code call} fails as AWS would: error type, HTTP status and message, to the letter. */
  static void assertError(ThrowingCallable call, String type, int status, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            LambdaError.class,
            e -> {
              org.assertj.core.api.Assertions.assertThat(e.errorType()).isEqualTo(type);
              org.assertj.core.api.Assertions.assertThat(e.status()).isEqualTo(status);
            })
        .hasMessage(message);
  }

  @Override
  public void close() {
    invoker.close();
    runtimeApi.close();
    sqlite.close();
  }
}
