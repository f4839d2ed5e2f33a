package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.tools.ToolProvider;

/** Builds test functions in compiled languages: Java classes and C# assemblies, and their zips. */
final class Compilers {

  private Compilers() {}

  /** The JDK the java17 runtime needs on this machine; the test is skipped without it. */
  static void requireJdk17() {
    Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
    if (!Files.isExecutable(jdk17)) {
      org.junit.jupiter.api.Assumptions.abort("a JDK 17 is needed at " + jdk17);
    }
  }

  /**
   * Compiles Java sources (class name to source) for Java 17 against aws-lambda-java-core and
   * returns each class file by its path in a deployment package ({@code example/Hello.class}).
   */
  static Map<String, byte[]> java(Map<String, String> sources) throws Exception {
    return java(sources, List.of());
  }

  /** As {@link #java(Map)}, with {@code libraries} (jars) on the class path too. */
  static Map<String, byte[]> java(Map<String, String> sources, List<Path> libraries)
      throws Exception {
    Path src = dev.kiln.testing.TempDirs.create("kiln-java-src-");
    Path classes = Files.createDirectories(src.resolve("classes"));
    List<String> classPath = new ArrayList<>(List.of(awsLambdaJavaCore()));
    libraries.forEach(l -> classPath.add(l.toString()));
    List<String> args =
        new ArrayList<>(
            List.of(
                "--release",
                "17",
                "-cp",
                String.join(java.io.File.pathSeparator, classPath),
                "-d",
                classes.toString()));
    for (var e : sources.entrySet()) {
      Path file = src.resolve(e.getKey().replace('.', '/') + ".java");
      Files.createDirectories(file.getParent());
      Files.writeString(file, e.getValue());
      args.add(file.toString());
    }
    assertThat(
            ToolProvider.getSystemJavaCompiler().run(null, null, null, args.toArray(String[]::new)))
        .as("javac")
        .isZero();
    Map<String, byte[]> out = new TreeMap<>();
    try (var walk = Files.walk(classes)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        out.put(classes.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return out;
  }

  private static String awsLambdaJavaCore() throws Exception {
    return jarOf(com.amazonaws.services.lambda.runtime.Context.class).toString();
  }

  /** The jar on this test's class path that {@code type} comes from. */
  static Path jarOf(Class<?> type) throws Exception {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  /** Compiles one C# source into a library with mcs, against Kiln's Amazon.Lambda.Core. */
  static byte[] csharp(Path amazonLambdaCore, String assembly, String source) throws Exception {
    Path src = dev.kiln.testing.TempDirs.create("kiln-dotnet-");
    Files.writeString(src.resolve("Source.cs"), source);
    Path dll = src.resolve(assembly + ".dll");
    Process mcs =
        new ProcessBuilder(
                "mcs",
                "-target:library",
                "-out:" + dll,
                "-r:" + amazonLambdaCore,
                src.resolve("Source.cs").toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(mcs.getInputStream().readAllBytes());
    assertThat(mcs.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(mcs.exitValue()).as(output).isZero();
    return Files.readAllBytes(dll);
  }

  /** A zip of binary entries, in name order. */
  static byte[] zip(Map<String, byte[]> entries) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(bytes)) {
      for (var e : new TreeMap<>(entries).entrySet()) {
        out.putNextEntry(new ZipEntry(e.getKey()));
        out.write(e.getValue());
        out.closeEntry();
      }
    }
    return bytes.toByteArray();
  }
}
