package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** {@code ./kiln --help} and the help of every command, as a user reads them. */
class KilnCliTest {

  static String help(String... command) {
    StringWriter out = new StringWriter();
    CommandLine cli = KilnCli.failingInOneLine(new CommandLine(new KilnCli()));
    cli.setOut(new PrintWriter(out));
    List<String> args = new ArrayList<>(List.of(command));
    args.add("--help");
    cli.execute(args.toArray(String[]::new));
    return out.toString();
  }

  static List<CommandSpec> everyCommand(CommandSpec spec) {
    List<CommandSpec> all = new ArrayList<>(List.of(spec));
    spec.subcommands().values().forEach(c -> all.addAll(everyCommand(c.getCommandSpec())));
    return all;
  }

  @Test
  void theHelpListsEveryCommandTheLauncherRuns() {
    String help = help();
    for (String command : List.of("server", "logs", "usage", "credentials", "test", "bench")) {
      assertThat(help).containsPattern("(?m)^\\s+" + command + "\\s+\\S");
    }
  }

  @Test
  void everyOptionsPlaceholder_saysWhatToGive_notAJavaFieldName() {
    CommandSpec root = new CommandLine(new KilnCli()).getCommandSpec();
    for (CommandSpec command : everyCommand(root)) {
      for (OptionSpec option : command.options()) {
        if (option.arity().max() > 0) {
          assertThat(option.paramLabel())
              .as(command.qualifiedName() + " " + option.longestName())
              .doesNotStartWith("<")
              .doesNotContain("String");
        }
      }
    }
    assertThat(help("server"))
        .contains("--keep-alive=SECONDS")
        .contains("--runtime=ID=INTERPRETER")
        .doesNotContain("keepAliveSeconds")
        .doesNotContain("String=String");
  }

  @Test
  void theRoleHelp_namesAllThreeRoles_asTheReadmeDescribesThem() {
    String help = help("credentials", "add").replaceAll("\\s+", " ");
    assertThat(help)
        .contains("admin (every action: AdministratorAccess)")
        .contains("invoke (Invoke and InvokeAsync on every function: KilnInvokeAccess)")
        .contains(
            "policy (nothing but what its --policy-arn and --policy-file policies and functions'"
                + " resource-based policies grant it)");
    String readme;
    try {
      readme =
          java.nio.file.Files.readString(ReadmeIT.projectRoot().resolve("README.md"))
              .replaceAll("\\s+", " ");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertThat(readme)
        .contains("`admin` is AWS's `AdministratorAccess` (every action)")
        .contains("`invoke` is Kiln's `KilnInvokeAccess` (Invoke and InvokeAsync on every function")
        .contains(
            "`policy` has no policy of its own and may do only what a function's"
                + " resource-based policy grants");
  }

  @Test
  void aMistakeOnTheCommandLine_isOneLine() {
    StringWriter err = new StringWriter();
    CommandLine cli = KilnCli.failingInOneLine(new CommandLine(new KilnCli()));
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter()));
    assertThat(cli.execute("logs")).isEqualTo(2);
    assertThat(err.toString().strip().lines().toList())
        .containsExactly("kiln logs: Missing required parameter: 'NAME' (see ./kiln logs --help)");
  }
}
