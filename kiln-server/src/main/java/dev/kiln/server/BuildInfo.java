package dev.kiln.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** What was built: Kiln's version, from {@code build.properties} that Maven fills in. */
public record BuildInfo(String version) {

  /** This build's. */
  public static BuildInfo current() {
    try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
      if (in == null) {
        return new BuildInfo("unknown");
      }
      Properties p = new Properties();
      p.load(in);
      return new BuildInfo(p.getProperty("version", "unknown"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
