package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code kiln server} refusing what it cannot do, as a user meets it: a message that names the
 * option, an exit status, and nothing left running or set up behind it.
 */
class ServerCommandLineIT {

  @Test
  void aKeyLifetimeShorterThanTheLongestInvocation_isRefused() throws Exception {
    Tools.Result r = kilnServer("--instance-credentials-lifetime", "60");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.output())
        .contains(
            "kiln server: --instance-credentials-lifetime must be at least 960 (seconds: the"
                + " longest function timeout and a minute), got 60");
  }

  @Test
  void outOfRangeLifetimesAndTimeouts_areRefused_namingTheOption() throws Exception {
    Tools.Result lifetime = kilnServer("--instance-credentials-lifetime", "99999999999");
    assertThat(lifetime.exit()).isEqualTo(2);
    assertThat(lifetime.output())
        .contains(
            "kiln server: --instance-credentials-lifetime must be at most 43200 (seconds: 12"
                + " hours, the longest a role's session lasts on AWS), got 99999999999");
    for (String timeout : new String[] {"0", "99999999999"}) {
      Tools.Result r = kilnServer("--client-timeout", timeout);
      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.output())
          .contains(
              "kiln server: --client-timeout must be from 1 to 86400 (seconds), got " + timeout);
    }
  }

  @Test
  void aStoreOfAnUnknownKind_isRefused_namingTheOptionAndTheSchemesThatWork() throws Exception {
    for (String store : new String[] {"postgres://db/kiln", "metadata.db"}) {
      Tools.Result r = kilnServer("--store", store);
      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.output())
          .contains(
              "kiln server: --store: unknown store '"
                  + store
                  + "': the accepted schemes are sqlite: (sqlite: or sqlite:DIR for the embedded"
                  + " stores)");
    }
  }

  @Test
  void aBadSqsEndpointOrSecretsDirectory_isRefused_namingTheOption() throws Exception {
    for (String endpoint : new String[] {"localhost:9324", "ftp://q.example.com", "http://"}) {
      Tools.Result r = kilnServer("--sqs-endpoint", endpoint);
      assertThat(r.exit()).as(r.output()).isEqualTo(2);
      assertThat(r.output())
          .contains("kiln server: --sqs-endpoint must be")
          .contains("such as http://localhost:9324, got '" + endpoint + "'");
    }
    Tools.Result dir = kilnServer("--secrets-dir", "/nonexistent/secrets");
    assertThat(dir.exit()).isEqualTo(2);
    assertThat(dir.output())
        .contains("kiln server: --secrets-dir must be a directory, got '/nonexistent/secrets'");
  }

  @Test
  void aPortAnotherProgramListensOn_isRefusedBeforeAnythingStarts() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      int port = taken.getLocalPort();
      Tools.Result r = kilnServer("--port", Integer.toString(port));
      assertThat(r.exit()).as(r.output()).isEqualTo(1);
      assertThat(r.output())
          .contains(
              "kiln server: cannot serve on 127.0.0.1:"
                  + port
                  + ": Address already in use (another server may be using the port: choose"
                  + " another with --port, or an address with --bind)")
          .doesNotContain("Exception")
          .doesNotContain("is serving");
    }
  }

  /** Runs {@code kiln server} with {@code args} on a scratch data directory, to its exit. */
  static Tools.Result kilnServer(String... args) throws Exception {
    Path data = dev.kiln.testing.TempDirs.create("kiln-cli-");
    List<String> command =
        new ArrayList<>(ServerProcess.kilnCli(System.getProperty("java.class.path")));
    command.addAll(List.of("server", "--data-dir", data.toString()));
    command.addAll(List.of(args));
    return Tools.run(command, data, Map.of());
  }
}
