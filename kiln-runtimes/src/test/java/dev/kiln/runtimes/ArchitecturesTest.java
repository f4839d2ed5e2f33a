package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ArchitecturesTest {

  /** The first 20 bytes of a little-endian 64-bit ELF executable for {@code machine}. */
  static byte[] elf(int machine) {
    byte[] h = new byte[64];
    h[0] = 0x7f;
    h[1] = 'E';
    h[2] = 'L';
    h[3] = 'F';
    h[4] = 2; // 64-bit
    h[5] = 1; // little-endian
    h[16] = 2; // ET_EXEC
    h[18] = (byte) machine;
    return h;
  }

  @Test
  void ofExecutable_readsTheElfMachine_andIgnoresScripts() throws Exception {
    Path dir = dev.kiln.testing.TempDirs.create("kiln-arch-");
    assertThat(Architectures.ofExecutable(Files.write(dir.resolve("amd"), elf(0x3e))))
        .contains("x86_64");
    assertThat(Architectures.ofExecutable(Files.write(dir.resolve("arm"), elf(0xb7))))
        .contains("arm64");
    assertThat(Architectures.ofExecutable(Files.write(dir.resolve("riscv"), elf(0xf3))))
        .contains("machine 243");
    assertThat(
            Architectures.ofExecutable(
                Files.writeString(dir.resolve("script"), "#!/bin/sh\necho hello from a script\n")))
        .isEmpty();
    assertThat(Architectures.ofExecutable(Files.write(dir.resolve("short"), new byte[] {0x7f})))
        .isEmpty();
    assertThat(Architectures.ofExecutable(dir.resolve("missing"))).isEmpty();
  }

  @Test
  void runsOn_saysNothingWhenTheFunctionGetsWhatItAsks() throws Exception {
    String host = Architectures.host();
    String other = host.equals("x86_64") ? "arm64" : "x86_64";
    Path dir = dev.kiln.testing.TempDirs.create("kiln-arch-");
    Optional<Path> program =
        Optional.of(Files.write(dir.resolve("program"), elf(other.equals("arm64") ? 0xb7 : 0x3e)));
    Optional<Path> script = Optional.of(Files.writeString(dir.resolve("script"), "#!/bin/sh\n"));
    assertThat(Architectures.runsOn(host, Optional.empty())).isEmpty();
    assertThat(Architectures.runsOn(host, program)).isEmpty();
    assertThat(Architectures.runsOn(other, Optional.empty()).orElseThrow()).startsWith(host + " (");
    assertThat(Architectures.runsOn(other, script).orElseThrow())
        .as("a script runs on the host's interpreter")
        .startsWith(host + " (");
    assertThat(Architectures.runsOn(other, program).orElseThrow())
        .startsWith(other + " under ")
        .endsWith(" on this " + host + " host");
    assertThat(Architectures.requested(List.of())).isEqualTo("x86_64");
    assertThat(Architectures.requested(List.of("arm64"))).isEqualTo("arm64");
  }
}
