package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * The API over HTTPS, with the certificate Kiln makes for itself: the SDK trusting that
 * certificate, the AWS CLI with {@code AWS_CA_BUNDLE} from {@code kiln credentials}, and plain HTTP
 * no longer answered.
 */
class TlsIT {

  static javax.net.ssl.TrustManager[] trusting(Path pem) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream in = Files.newInputStream(pem)) {
      store.setCertificateEntry(
          "kiln", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    return tmf.getTrustManagers();
  }

  @Test
  void aSelfSignedCertificate_servesTheApiOverHttps_toTheSdkAndTheCli() throws Exception {
    try (KilnFixture kiln = new KilnFixture(s -> s.withTls(ServerTls.Settings.selfSigned()))) {
      URI endpoint = kiln.server.endpoint();
      assertThat(endpoint.getScheme()).isEqualTo("https");
      Path pem = kiln.dataDir.resolve("tls/kiln-cert.pem");
      assertThat(pem).exists();
      assertThat(
              PosixFilePermissions.toString(
                  Files.getPosixFilePermissions(kiln.dataDir.resolve("tls/kiln.p12"))))
          .isEqualTo("rw-------");
      assertThat(kiln.server.banner()).anyMatch(l -> l.contains("HTTPS with the certificate"));

      javax.net.ssl.TrustManager[] trust = trusting(pem);
      try (LambdaClient lambda =
          LambdaClient.builder()
              .endpointOverride(endpoint)
              .region(Region.US_EAST_1)
              .credentialsProvider(StaticCredentialsProvider.create(kiln.credentials()))
              .httpClient(
                  UrlConnectionHttpClient.builder().tlsTrustManagersProvider(() -> trust).build())
              .build()) {
        lambda.createFunction(
            b ->
                b.functionName("secure")
                    .runtime("python3.12")
                    .handler("app.handler")
                    .role(KilnFixture.ROLE)
                    .code(
                        c ->
                            c.zipFile(
                                software.amazon.awssdk.core.SdkBytes.fromByteArray(
                                    Zips.of("app.py", "def handler(e, c):\n    return 'tls'\n")))));
        assertThat(lambda.invoke(b -> b.functionName("secure")).payload().asUtf8String())
            .isEqualTo("\"tls\"");
      }

      // what kiln credentials exports is enough for the AWS CLI
      ByteArrayOutputStream printed = new ByteArrayOutputStream();
      CredentialsCommand command = new CredentialsCommand();
      command.out = new PrintStream(printed, true);
      new picocli.CommandLine(command)
          .execute("--data-dir", kiln.dataDir.toString(), "--endpoint", endpoint.toString());
      assertThat(printed.toString()).contains("export AWS_CA_BUNDLE=" + pem.toAbsolutePath());
      Path dir = dev.kiln.testing.TempDirs.create("kiln-tls-cli-");
      Map<String, String> env =
          new java.util.HashMap<>(Tools.awsEnv(dir.resolve("home"), kiln.dataDir));
      env.put("AWS_CA_BUNDLE", pem.toString());
      Tools.Result r =
          Tools.run(
              List.of(
                  Tools.awsCli().toString(),
                  "--endpoint-url",
                  endpoint.toString(),
                  "--output",
                  "json",
                  "lambda",
                  "list-functions"),
              dir,
              env);
      assertThat(r.exit()).as(r.output()).isZero();
      assertThat(r.output()).contains("\"FunctionName\": \"secure\"");

      // and the same port serves no API over plain HTTP
      int plainStatus;
      try {
        plainStatus =
            java.net.http.HttpClient.newHttpClient()
                .send(
                    java.net.http.HttpRequest.newBuilder(
                            URI.create(
                                "http://127.0.0.1:" + endpoint.getPort() + "/2015-03-31/functions"))
                        .timeout(java.time.Duration.ofSeconds(5))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString())
                .statusCode();
      } catch (java.io.IOException refused) {
        plainStatus = -1;
      }
      assertThat(plainStatus).as("no API over plain HTTP").isNotEqualTo(200).isNotEqualTo(403);
    }
  }

  @Test
  void aCertificateWithoutItsKey_isRefusedAtStart() {
    assertThatThrownBy(
            () ->
                new KilnFixture(
                    s ->
                        s.withTls(
                            new ServerTls.Settings(
                                java.util.Optional.of(Path.of("/tmp/cert.pem")),
                                java.util.Optional.empty()))))
        .hasMessageContaining("--tls-cert and --tls-key go together");
  }

  @Test
  void aMissingOrNonPemCertificate_isRefusedAtStart_namingTheOption() throws Exception {
    Path garbage = Files.createTempFile("kiln-not-pem-", ".pem");
    Files.writeString(garbage, "not a certificate\n");
    assertThatThrownBy(() -> new KilnFixture(s -> s.withTls(files(garbage, garbage))).close())
        .hasMessageContaining(
            "--tls-cert and --tls-key must be PEM files of a certificate (chain) and its PKCS#8"
                + " private key");
    Path missing = garbage.resolveSibling("kiln-no-such-cert.pem");
    assertThatThrownBy(() -> new KilnFixture(s -> s.withTls(files(missing, garbage))).close())
        .hasMessageContaining("--tls-cert " + missing + " is not a file Kiln can read");
  }

  static ServerTls.Settings files(Path cert, Path key) {
    return new ServerTls.Settings(java.util.Optional.of(cert), java.util.Optional.of(key));
  }
}
