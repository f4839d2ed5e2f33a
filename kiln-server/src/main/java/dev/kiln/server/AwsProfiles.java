package dev.kiln.server;

import dev.kiln.api.auth.AccessKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code kiln credentials --profile NAME}: a named AWS profile for Kiln in the shared config and
 * credentials files, which the AWS CLI (2.13+ and 1.29+) and the SDKs that support service-specific
 * endpoints read.
 *
 * <p>The profile points only Lambda and CloudWatch Logs at Kiln (an {@code endpoint_url} per
 * service in a {@code [services kiln-NAME]} section it names), so that every other AWS service used
 * with that profile still goes to AWS, or fails there, rather than to Kiln. Kiln owns three
 * sections: {@code [profile NAME]} (or {@code [default]}) and {@code [services kiln-NAME]} in the
 * config file, {@code [NAME]} in the credentials file. Writing the profile again replaces exactly
 * those sections, from their header line to the next header, and leaves every other line of the
 * files as it was; each file is written to a scratch file and renamed over the old one, and a new
 * credentials file is readable by its owner only.
 */
final class AwsProfiles {

  private AwsProfiles() {}

  /** The two files, where the AWS CLI looks for them. */
  record Locations(Path config, Path credentials) {}

  /** What was written, for the command to say. */
  record Written(Path config, Path credentials) {}

  private static final Pattern HEADER =
      Pattern.compile("^\\s*\\[\\s*([^\\]]*?)\\s*\\]\\s*([#;].*)?$");
  private static final Pattern PROFILE_NAME = Pattern.compile("[A-Za-z0-9_.\\-]+");

  /**
   * {@code $AWS_CONFIG_FILE} or {@code ~/.aws/config}, {@code $AWS_SHARED_CREDENTIALS_FILE} or
   * {@code ~/.aws/credentials}.
   */
  static Locations files(Map<String, String> env) {
    Path aws = Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".aws");
    return new Locations(
        Optional.ofNullable(env.get("AWS_CONFIG_FILE"))
            .filter(s -> !s.isBlank())
            .map(Path::of)
            .orElse(aws.resolve("config")),
        Optional.ofNullable(env.get("AWS_SHARED_CREDENTIALS_FILE"))
            .filter(s -> !s.isBlank())
            .map(Path::of)
            .orElse(aws.resolve("credentials")));
  }

  static Written write(
      Locations files,
      String name,
      AccessKeys.Key key,
      String region,
      String endpoint,
      Optional<Path> caBundle) {
    if (!PROFILE_NAME.matcher(name).matches()) {
      throw new ClientEndpoint.Failure(
          "--profile must be letters, digits, '-', '_' or '.', got '" + name + "'");
    }
    String services = "kiln-" + name;
    List<String> profile = new ArrayList<>();
    profile.add("region = " + region);
    profile.add("services = " + services);
    caBundle.ifPresent(pem -> profile.add("ca_bundle = " + pem));
    List<String> endpoints = new ArrayList<>();
    for (ClientEndpoint.Service s : ClientEndpoint.Service.values()) {
      endpoints.add(s.configKey + " =");
      endpoints.add("  endpoint_url = " + endpoint);
    }
    replace(
        files.config(),
        Map.of(
            name.equals("default") ? "default" : "profile " + name,
            profile,
            "services " + services,
            endpoints),
        false);
    replace(
        files.credentials(),
        Map.of(
            name,
            List.of(
                "aws_access_key_id = " + key.accessKeyId(),
                "aws_secret_access_key = " + key.secretAccessKey())),
        true);
    return new Written(files.config(), files.credentials());
  }

  /** Replaces (or appends) each section of {@code file} named in {@code sections}. */
  private static void replace(Path file, Map<String, List<String>> sections, boolean secret) {
    try {
      List<String> old = Files.exists(file) ? Files.readAllLines(file) : List.of();
      List<String> out = new ArrayList<>();
      List<String> done = new ArrayList<>();
      boolean skipping = false;
      for (String line : old) {
        Matcher m = HEADER.matcher(line);
        if (m.matches()) {
          String header = m.group(1).replaceAll("\\s+", " ");
          skipping = sections.containsKey(header);
          if (skipping) {
            if (!done.contains(header)) {
              section(out, header, sections.get(header));
              done.add(header);
            }
            continue;
          }
        }
        if (!skipping) {
          out.add(line);
        }
      }
      for (var e : new java.util.TreeMap<>(sections).entrySet()) {
        if (!done.contains(e.getKey())) {
          if (!out.isEmpty() && !out.get(out.size() - 1).isBlank()) {
            out.add("");
          }
          section(out, e.getKey(), e.getValue());
        }
      }
      Path dir = file.toAbsolutePath().getParent();
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      Path scratch =
          Files.createTempFile(
              dir,
              file.getFileName().toString(),
              ".new",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.write(scratch, out);
      if (Files.exists(file) && !secret) {
        // the config file keeps the permissions it had
        Files.setPosixFilePermissions(scratch, Files.getPosixFilePermissions(file));
      } else if (!secret) {
        Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rw-r--r--"));
      }
      Files.move(
          scratch, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private static void section(List<String> out, String header, List<String> body) {
    out.add("[" + header + "]");
    out.addAll(body);
    out.add("");
  }
}
