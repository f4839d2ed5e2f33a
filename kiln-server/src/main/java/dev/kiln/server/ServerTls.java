package dev.kiln.server;

import io.helidon.common.configurable.Resource;
import io.helidon.common.pki.Keys;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The API's TLS: a certificate and key the operator gives (PEM files), or one Kiln makes for
 * itself.
 *
 * <p>A self-signed certificate is made once, with the JDK's own {@code keytool} (an EC P-256 key,
 * valid 825 days, for {@code localhost}, {@code 127.0.0.1} and the host's name), and kept in {@code
 * <data>/tls/}: {@code kiln.p12} (mode 0600), and {@code kiln-cert.pem}, the certificate for
 * clients to trust ({@code AWS_CA_BUNDLE=<data>/tls/kiln-cert.pem}, which {@code kiln credentials}
 * prints).
 */
public final class ServerTls {

  /** Which certificate to serve: the operator's files, or none given for a self-signed one. */
  public record Settings(Optional<Path> certificate, Optional<Path> key) {

    public static Settings selfSigned() {
      return new Settings(Optional.empty(), Optional.empty());
    }

    boolean isSelfSigned() {
      return certificate.isEmpty();
    }
  }

  /** A key and its certificate chain, ready to serve; {@code caBundle} is what clients trust. */
  record Loaded(PrivateKey key, List<X509Certificate> chain, Path caBundle) {}

  static final String DIR = "tls";
  static final String CA_BUNDLE = "kiln-cert.pem";
  private static final String STORE = "kiln.p12";
  // the store's file is private to Kiln's user; a password next to it would add nothing
  private static final char[] PASSWORD = "kiln-self-signed".toCharArray();

  private ServerTls() {}

  static Loaded load(Settings settings, Path dataDir) {
    if (!settings.isSelfSigned()) {
      Path cert = settings.certificate().get();
      Path key = settings.key().orElseThrow();
      for (var file :
          List.of(java.util.Map.entry("--tls-cert", cert), java.util.Map.entry("--tls-key", key))) {
        if (!Files.isRegularFile(file.getValue()) || !Files.isReadable(file.getValue())) {
          throw new IllegalArgumentException(
              file.getKey() + " " + file.getValue() + " is not a file Kiln can read");
        }
      }
      String expected =
          "--tls-cert and --tls-key must be PEM files of a certificate (chain) and its PKCS#8"
              + " private key";
      Keys keys;
      List<X509Certificate> chain;
      try {
        keys =
            Keys.builder()
                .pem(p -> p.key(Resource.create(key)).certChain(Resource.create(cert)))
                .build();
        chain = keys.certChain();
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(expected + " (" + e.getMessage() + ")", e);
      }
      if (keys.privateKey().isEmpty() || chain.isEmpty()) {
        throw new IllegalArgumentException(expected);
      }
      return new Loaded(keys.privateKey().get(), chain, cert);
    }
    Path dir = dataDir.resolve(DIR);
    Path store = dir.resolve(STORE);
    Path pem = dir.resolve(CA_BUNDLE);
    try {
      if (!Files.exists(store)) {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        keytool(
            "-genkeypair",
            "-alias",
            "kiln",
            "-keyalg",
            "EC",
            "-groupname",
            "secp256r1",
            "-dname",
            "CN=localhost, O=Kiln",
            "-validity",
            "825",
            "-ext",
            "SAN=dns:localhost,ip:127.0.0.1,dns:" + hostName(),
            "-storetype",
            "PKCS12",
            "-keystore",
            store.toString(),
            "-storepass",
            new String(PASSWORD),
            "-keypass",
            new String(PASSWORD));
        Files.setPosixFilePermissions(store, PosixFilePermissions.fromString("rw-------"));
        keytool(
            "-exportcert",
            "-rfc",
            "-alias",
            "kiln",
            "-keystore",
            store.toString(),
            "-storepass",
            new String(PASSWORD),
            "-file",
            pem.toString());
      }
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        ks.load(in, PASSWORD);
      }
      List<X509Certificate> chain = new ArrayList<>();
      for (Certificate c : ks.getCertificateChain("kiln")) {
        chain.add((X509Certificate) c);
      }
      return new Loaded((PrivateKey) ks.getKey("kiln", PASSWORD), chain, pem);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make or read " + store, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot read " + store + ": " + e.getMessage(), e);
    }
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  private static void keytool(String... args) throws IOException {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    List<String> command = new ArrayList<>(List.of(keytool.toString()));
    command.addAll(List.of(args));
    Process p =
        dev.kiln.sandbox.ProcessSpawner.start(
            new ProcessBuilder(command).redirectErrorStream(true));
    String out = new String(p.getInputStream().readAllBytes());
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("keytool failed: " + out.strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while keytool ran", e);
    }
  }
}
