package dev.kiln.runtimes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The AWS SDK for JavaScript v3 that Kiln's Node.js runtimes carry, as Lambda's do: a function's
 * {@code import {LambdaClient} from '@aws-sdk/client-lambda'} works without the function bundling
 * the SDK, and with the instance's credentials and {@code AWS_ENDPOINT_URL_LAMBDA} it calls Kiln.
 *
 * <p>The build installs the versions locked in {@code kiln-runtimes/src/main/node-sdk} (and its
 * {@code node18}) with npm and zips them into Kiln's resources, one zip per bundle ({@link
 * #CURRENT}, {@link #NODE18}); this class unpacks one into the Node.js runtime directory's {@code
 * node_modules}, which instances see at {@code /var/runtime/node_modules}, on their {@code
 * NODE_PATH} as on Lambda. It unpacks once per data directory and Kiln build (a stamp holds the
 * zip's digest), and only when a Node.js function is first resolved, so that servers without
 * Node.js functions never pay for its six thousand files. A function that bundles its own SDK in
 * its {@code node_modules} gets its own, as on Lambda.
 *
 * <p>A Kiln built without npm has no zip; its Node.js runtimes then run without the SDK, and {@link
 * #describe} says so.
 */
final class NodeSdk {

  private static final Logger LOG = LoggerFactory.getLogger(NodeSdk.class);

  /**
   * The bundle for the newest Node.js runtimes ({@code nodejs22.x}); the older ones get {@link
   * #NODE18}: the SDK warns (NodeVersionSupportWarning, at ERROR in the function's log) on every
   * Node.js older than the newest versions require, so each runtime carries, as on Lambda, a
   * version that supports its Node.js.
   */
  static final String CURRENT = "sdk";

  /** The bundle of {@code nodejs18.x} and {@code nodejs20.x}: the last SDK for Node.js 18. */
  static final String NODE18 = "sdk-node18";

  /** The bundle's zip in Kiln's resources. */
  private final String resource;

  /** Written by the build beside the zip: the version of {@code @aws-sdk/client-lambda} in it. */
  private final String versionResource;

  /** Written last into {@code node_modules}: the digest of the zip it was unpacked from. */
  private static final String STAMP = ".kiln-sdk-sha256";

  private final Path nodeModules;
  private volatile boolean unpacked;

  NodeSdk(Path nodeRuntimeDir, String bundle) {
    this.nodeModules = nodeRuntimeDir.resolve("node_modules");
    this.resource = "/dev/kiln/runtimes/node/" + bundle + ".zip";
    this.versionResource = "/dev/kiln/runtimes/node/" + bundle + ".version";
  }

  /** Unpacks the SDK into the runtime directory unless it is there already; a no-op without it. */
  void ensureUnpacked() {
    if (unpacked) {
      return;
    }
    synchronized (this) {
      if (unpacked) {
        return;
      }
      try {
        unpack();
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot unpack the AWS SDK for JavaScript into " + nodeModules, e);
      }
      unpacked = true;
    }
  }

  private void unpack() throws IOException {
    byte[] zip;
    try (InputStream in = NodeSdk.class.getResourceAsStream(resource)) {
      if (in == null) {
        return;
      }
      zip = in.readAllBytes();
    }
    String digest = sha256(zip);
    Path stamp = nodeModules.resolve(STAMP);
    if (Files.isRegularFile(stamp) && Files.readString(stamp).equals(digest)) {
      return;
    }
    long started = System.nanoTime();
    Path fresh = nodeModules.resolveSibling("node_modules.unpacking");
    deleteTree(fresh);
    int files = 0;
    try (ZipInputStream entries = new ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
      for (ZipEntry e; (e = entries.getNextEntry()) != null; ) {
        Path target = fresh.resolve(e.getName()).normalize();
        if (!target.startsWith(fresh)) {
          throw new IOException("entry outside the SDK's directory: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        Files.createDirectories(target.getParent());
        Files.copy(entries, target, StandardCopyOption.REPLACE_EXISTING);
        files++;
      }
    }
    Files.writeString(fresh.resolve(STAMP), digest, StandardCharsets.UTF_8);
    deleteTree(nodeModules);
    Files.move(fresh, nodeModules, StandardCopyOption.ATOMIC_MOVE);
    LOG.info(
        "unpacked the AWS SDK for JavaScript {} for the Node.js runtimes ({} files, {} ms)",
        version().orElse("?"),
        files,
        (System.nanoTime() - started) / 1_000_000);
  }

  /** The bundled {@code @aws-sdk/client-lambda}'s version, when this build has the SDK. */
  Optional<String> version() {
    try (InputStream in = NodeSdk.class.getResourceAsStream(versionResource)) {
      return in == null
          ? Optional.empty()
          : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).strip());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** What the Node.js runtimes carry, for the list of runtimes Kiln prints. */
  String describe() {
    return version()
        .map(v -> "with the AWS SDK for JavaScript " + v)
        .orElse("WITHOUT the AWS SDK for JavaScript (Kiln was built without npm)");
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
