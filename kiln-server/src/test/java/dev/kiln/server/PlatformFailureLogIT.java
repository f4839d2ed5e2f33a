package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * A failure of the platform (a runtime that exits or is killed, a failed initialisation) is said in
 * Kiln's own log, once, at WARN, naming the function, its version, the instance and the cause; a
 * handler's own error is not.
 */
class PlatformFailureLogIT {

  @RegisterExtension static final KilnServerExtension kiln = KilnServerExtension.withDefaults();
  static final ListAppender<ILoggingEvent> logged = new ListAppender<>();

  static final String CODE =
      "import os, signal, threading\n"
          + "def handler(event, context):\n"
          + "    what = event.get('do')\n"
          + "    if what == 'exit':\n"
          + "        os._exit(3)\n"
          + "    if what == 'killed-when-idle':\n"
          + "        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()\n"
          + "    if what == 'raise':\n"
          + "        raise ValueError('a handler error')\n"
          + "    return context.log_stream_name\n";

  @BeforeAll
  static void start() {
    logged.start();
    root().addAppender(logged);
    kiln.python("crashy", CODE);
  }

  @AfterAll
  static void stop() {
    root().detachAppender(logged);
  }

  static ch.qos.logback.classic.Logger root() {
    return (ch.qos.logback.classic.Logger)
        LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  static InvokeResponse invoke(String function, String payload) {
    return kiln.lambda()
        .invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String(payload)));
  }

  /** The instance that serves {@code function} now, by the id its log stream ends with. */
  static String instance(String function) {
    String stream = invoke(function, "{}").payload().asUtf8String().replace("\"", "");
    return stream.substring(stream.lastIndexOf(']') + 1);
  }

  /** The lines at WARN or above that name {@code text}. */
  static List<String> warnings(String text) {
    synchronized (logged) {
      return logged.list.stream()
          .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
          // the platform's own reports of instances; not, say, compat mode's warning that a
          // function's role is unknown to Kiln's IAM, which names the function too
          .filter(e -> e.getLoggerName().startsWith("dev.kiln.invoke."))
          .map(ILoggingEvent::getFormattedMessage)
          .filter(m -> m.contains(text))
          .toList();
    }
  }

  @Test
  void aRuntimeThatExitsDuringAnInvocation_isLoggedOnce() {
    String id = instance("crashy");
    InvokeResponse r = invoke("crashy", "{\"do\": \"exit\"}");
    assertThat(r.functionError()).isEqualTo("Unhandled");
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !warnings(id).isEmpty());
    assertThat(warnings(id))
        .singleElement()
        .asString()
        .contains("function crashy", "version $LATEST", "instance " + id, "exit status 3");
  }

  @Test
  void aRuntimeKilledWhileIdle_isLoggedOnce() {
    String id = instance("crashy");
    assertThat(invoke("crashy", "{\"do\": \"killed-when-idle\"}").functionError()).isNull();
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !warnings(id).isEmpty());
    assertThat(warnings(id))
        .singleElement()
        .asString()
        .contains("function crashy", "instance " + id, "idle", "signal: killed");
  }

  @Test
  void anInitFailure_isLoggedOnce() {
    kiln.python("broken", "def handler(e, c)\n    return 1\n");
    assertThat(invoke("broken", "{}").functionError()).isEqualTo("Unhandled");
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !warnings("function broken").isEmpty());
    assertThat(warnings("function broken"))
        .singleElement()
        .asString()
        .contains("instance ", "init error", "Runtime.UserCodeSyntaxError");
  }

  @Test
  void aHandlersOwnError_isNotAPlatformFailure() throws Exception {
    String id = instance("crashy");
    assertThat(invoke("crashy", "{\"do\": \"raise\"}").functionError()).isEqualTo("Unhandled");
    assertThat(instance("crashy")).as("the instance lives on").isEqualTo(id);
    assertThat(warnings(id)).isEmpty();
  }
}
