package dev.kiln.server;

import dev.kiln.sandbox.ProcessSpawner;
import dev.kiln.testing.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;

/**
 * A real Prometheus and Alertmanager for tests, Debian's {@code prometheus} and {@code
 * prometheus-alertmanager} binaries started as child processes (through {@link ProcessSpawner}) on
 * free ports of 127.0.0.1, with their configuration, data and logs in a temporary directory that
 * {@link #close} deletes after stopping them. Prometheus scrapes one target every second and
 * evaluates its rules every second; Alertmanager runs alone (no cluster), with the configuration
 * the test gives. Not thread-safe: one test class drives one stack.
 */
final class AlertingStack implements AutoCloseable {

  final Path dir;
  final int prometheusPort;
  final int alertmanagerPort;
  private final Process prometheus;
  private final Process alertmanager;

  private AlertingStack(
      Path dir,
      int prometheusPort,
      int alertmanagerPort,
      Process prometheus,
      Process alertmanager) {
    this.dir = dir;
    this.prometheusPort = prometheusPort;
    this.alertmanagerPort = alertmanagerPort;
    this.prometheus = prometheus;
    this.alertmanager = alertmanager;
  }

  /**
   * Starts Alertmanager with {@code alertmanagerYaml} and Prometheus scraping {@code target}
   * (host:port) with {@code rulesYaml}, alerting that Alertmanager; returns when both are ready.
   */
  static AlertingStack start(
      Path prometheusBinary,
      Path alertmanagerBinary,
      String target,
      String rulesYaml,
      String alertmanagerYaml)
      throws IOException {
    Path dir = Files.createTempDirectory("kiln-alerting-");
    int amPort = FreePorts.next();
    int promPort = FreePorts.next();
    Files.writeString(dir.resolve("alertmanager.yml"), alertmanagerYaml);
    Files.writeString(dir.resolve("rules.yml"), rulesYaml);
    Files.writeString(
        dir.resolve("prometheus.yml"),
        """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        rule_files: [rules.yml]
        alerting:
          alertmanagers:
            - static_configs: [{targets: ['127.0.0.1:%d']}]
        scrape_configs:
          - job_name: kiln
            static_configs: [{targets: ['%s']}]
        """
            .formatted(amPort, target));
    Process am =
        spawn(
            dir,
            "alertmanager.log",
            List.of(
                alertmanagerBinary.toString(),
                "--config.file=" + dir.resolve("alertmanager.yml"),
                "--storage.path=" + dir.resolve("am-data"),
                "--web.listen-address=127.0.0.1:" + amPort,
                "--cluster.listen-address="));
    Process prom;
    try {
      prom =
          spawn(
              dir,
              "prometheus.log",
              List.of(
                  prometheusBinary.toString(),
                  "--config.file=" + dir.resolve("prometheus.yml"),
                  "--storage.tsdb.path=" + dir.resolve("prom-data"),
                  "--web.listen-address=127.0.0.1:" + promPort));
    } catch (IOException e) {
      am.destroyForcibly();
      throw e;
    }
    AlertingStack stack = new AlertingStack(dir, promPort, amPort, prom, am);
    try {
      stack.awaitReady("http://127.0.0.1:" + amPort + "/-/ready", am, "alertmanager.log");
      stack.awaitReady("http://127.0.0.1:" + promPort + "/-/ready", prom, "prometheus.log");
    } catch (RuntimeException e) {
      stack.close();
      throw e;
    }
    return stack;
  }

  String log(String name) {
    try {
      return Files.readString(dir.resolve(name));
    } catch (IOException e) {
      return "(no " + name + ": " + e + ")";
    }
  }

  private void awaitReady(String url, Process process, String logName) {
    HttpClient http = HttpClient.newHttpClient();
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              if (!process.isAlive()) {
                throw new IllegalStateException(logName + " exited:\n" + log(logName));
              }
              try {
                return http.send(
                            HttpRequest.newBuilder(URI.create(url)).build(),
                            HttpResponse.BodyHandlers.discarding())
                        .statusCode()
                    == 200;
              } catch (IOException notYet) {
                return false;
              }
            });
  }

  private static Process spawn(Path dir, String logName, List<String> command) throws IOException {
    return ProcessSpawner.start(
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(logName).toFile()));
  }

  @Override
  public void close() {
    for (Process p : List.of(prometheus, alertmanager)) {
      p.destroy();
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind
    }
  }
}
