package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Slots claimed by two processes, as two Kiln servers on one host do: never the same one twice, and
 * a slot whose holder was killed with -9 is free again, with the holder's note for its next holder.
 */
class HostSlotsTest {

  /**
   * The other process: claims {@code args[1]} slots of 4 under {@code args[0]}, prints them, waits.
   */
  public static void main(String[] args) throws Exception {
    HostSlots slots = HostSlots.at(Path.of(args[0]), 4);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Integer.parseInt(args[1]); i++) {
      HostSlots.Claim claim = slots.claim();
      claim.note("child-" + claim.slot());
      out.append(claim.slot()).append(' ');
    }
    System.out.println(out.toString().trim());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }

  @Test
  void twoProcessesNeverHoldTheSameSlotAndADeadHoldersSlotsAreFreeAgain() throws Exception {
    Path dir = Files.createTempDirectory("kiln-slots-");
    Process child =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                System.getProperty("java.class.path"),
                HostSlotsTest.class.getName(),
                dir.toString(),
                "2")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    try {
      Set<Integer> childSlots = new HashSet<>();
      String line =
          new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))
              .readLine();
      assertThat(line).as("the child's claimed slots").isNotNull();
      for (String s : line.split(" ")) {
        childSlots.add(Integer.parseInt(s));
      }
      assertThat(childSlots).hasSize(2);

      HostSlots slots = HostSlots.at(dir, 4);
      List<HostSlots.Claim> mine = new ArrayList<>();
      mine.add(slots.claim());
      mine.add(slots.claim());
      Set<Integer> mySlots = new HashSet<>();
      mine.forEach(c -> mySlots.add(c.slot()));
      assertThat(mySlots).hasSize(2).doesNotContainAnyElementsOf(childSlots);
      assertThatThrownBy(slots::claim)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("all 4 instance networks on this host are in use");

      child.destroyForcibly(); // SIGKILL: the child releases nothing itself
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();

      Set<Integer> regained = new HashSet<>();
      Set<String> notes = new HashSet<>();
      for (int i = 0; i < 2; i++) {
        HostSlots.Claim claim = slots.claim();
        regained.add(claim.slot());
        notes.add(claim.previousNote());
      }
      assertThat(regained).isEqualTo(childSlots);
      Set<String> expected = new HashSet<>();
      childSlots.forEach(s -> expected.add("child-" + s));
      assertThat(notes).as("the dead holder's notes, for clean-up").isEqualTo(expected);

      // a slot released in order carries no note, and this JVM can claim it again
      HostSlots.Claim first = mine.get(0);
      first.note("mine");
      first.release();
      HostSlots.Claim again = slots.claim();
      assertThat(again.slot()).isEqualTo(first.slot());
      assertThat(again.previousNote()).isEmpty();
    } finally {
      child.destroyForcibly();
    }
  }
}
