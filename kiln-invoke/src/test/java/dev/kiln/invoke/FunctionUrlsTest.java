package dev.kiln.invoke;

import static dev.kiln.invoke.CatalogFixture.assertError;
import static dev.kiln.invoke.CatalogFixture.ref;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.model.FunctionRef;
import dev.kiln.model.FunctionUrlConfig;
import dev.kiln.model.FunctionUrlConfig.Cors;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Create, Get, Update, Delete and List FunctionUrlConfig, and the look-up by URL id. */
class FunctionUrlsTest {

  static final String F_ARN = "arn:aws:lambda:us-east-1:000000000000:function:f";

  @TempDir Path dir;
  CatalogFixture kiln;
  FunctionUrls urls;

  @BeforeEach
  void open() {
    kiln = new CatalogFixture(dir);
    urls = kiln.catalog.urls();
    kiln.create("f", true);
    kiln.catalog.aliases().create(FunctionRef.of("f"), "live", "1", "", Map.of());
  }

  @AfterEach
  void close() {
    kiln.close();
  }

  static Cors cors(List<String> origins) {
    return new Cors(
        Optional.of(true), List.of("x-a"), List.of("GET"), origins, List.of(), Optional.of(60));
  }

  @Test
  void create_drawsAUrlId_defaultsToBuffered_andTheAddressMakesTheUrl() {
    FunctionUrlConfig c =
        urls.create(FunctionRef.of("f"), "NONE", Optional.empty(), Optional.empty());
    assertThat(c.urlId()).matches("[a-z0-9]{32}");
    assertThat(c.invokeMode()).isEqualTo("BUFFERED");
    assertThat(c.cors()).isEmpty();
    assertThat(c.creationTime()).isEqualTo(c.lastModifiedTime());
    assertThat(c.creationTime().truncatedTo(ChronoUnit.MICROS)).isEqualTo(c.creationTime());
    assertThat(urls.functionUrl(c))
        .isEqualTo("http://" + c.urlId() + ".lambda-url.us-east-1.localhost:9000/");
    assertThat(urls.functionArn(c)).isEqualTo(F_ARN);
    assertThat(urls.get(FunctionRef.of("f"))).isEqualTo(c);

    FunctionUrlConfig live =
        urls.create(
            ref("f", "live"),
            "AWS_IAM",
            Optional.of(cors(List.of("*"))),
            Optional.of("RESPONSE_STREAM"));
    assertThat(live.urlId()).isNotEqualTo(c.urlId());
    assertThat(urls.functionArn(live)).isEqualTo(F_ARN + ":live");
    assertThat(urls.get(ref("f", "live")).cors()).hasValue(cors(List.of("*")));
  }

  @Test
  void aSecondUrlForTheSameQualifier_isAConflict_andChangesNothing() {
    FunctionUrlConfig c = urls.create(ref("f", "live"), "NONE", Optional.empty(), Optional.empty());
    assertError(
        () -> urls.create(ref("f", "live"), "AWS_IAM", Optional.empty(), Optional.empty()),
        "ResourceConflictException",
        409,
        "Failed to create function url config for [functionArn = "
            + F_ARN
            + ":live]. Error message:  FunctionUrlConfig exists for this Lambda function");
    assertThat(urls.get(ref("f", "live"))).isEqualTo(c);
  }

  @Test
  void versionsAndLatest_areRefusedAsQualifiers_asTheModelsPatternsSay() {
    assertError(
        () -> urls.create(ref("f", "1"), "NONE", Optional.empty(), Optional.empty()),
        "ValidationException",
        400,
        "1 validation error detected: Value '1' at 'qualifier' failed to satisfy constraint:"
            + " Member must satisfy regular expression pattern:"
            + " (^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))");
    assertError(
        () -> urls.get(ref("f", "$LATEST")),
        "ValidationException",
        400,
        "1 validation error detected: Value '$LATEST' at 'qualifier' failed to satisfy"
            + " constraint: Member must satisfy regular expression pattern:"
            + " ((?!^\\d+$)^[0-9a-zA-Z-_]+$)");
    assertThat(kiln.store.functionUrlConfigs("f")).isEmpty();
  }

  @Test
  void unknownFunctionsAliasesAndConfigs_areNotFound_inAwsWords() {
    assertError(
        () -> urls.create(FunctionRef.of("nope"), "NONE", Optional.empty(), Optional.empty()),
        "ResourceNotFoundException",
        404,
        "Function does not exist");
    assertError(
        () -> urls.create(ref("f", "beta"), "NONE", Optional.empty(), Optional.empty()),
        "ResourceNotFoundException",
        404,
        "Function does not exist");
    assertError(
        () -> urls.get(FunctionRef.of("f")),
        "ResourceNotFoundException",
        404,
        "The resource you requested does not exist.");
    assertError(
        () ->
            urls.update(
                FunctionRef.of("f"), Optional.of("NONE"), Optional.empty(), Optional.empty()),
        "ResourceNotFoundException",
        404,
        "The resource you requested does not exist.");
    assertError(
        () -> urls.delete(ref("f", "live")),
        "ResourceNotFoundException",
        404,
        "The resource you requested does not exist.");
    assertError(
        () -> urls.list(FunctionRef.of("nope"), Optional.empty(), 50),
        "ResourceNotFoundException",
        404,
        "Function does not exist");
  }

  @Test
  void badSettings_areRefusedAsTheServiceModelWordsThem() {
    assertError(
        () -> urls.create(FunctionRef.of("f"), "OPEN", Optional.empty(), Optional.empty()),
        "ValidationException",
        400,
        "1 validation error detected: Value 'OPEN' at 'authType' failed to satisfy constraint:"
            + " Member must satisfy enum value set: [AWS_IAM, NONE]");
    assertError(
        () -> urls.create(FunctionRef.of("f"), "NONE", Optional.empty(), Optional.of("FAST")),
        "ValidationException",
        400,
        "1 validation error detected: Value 'FAST' at 'invokeMode' failed to satisfy"
            + " constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]");
    assertError(
        () ->
            new Cors(
                Optional.empty(), List.of(), List.of(), List.of(), List.of(), Optional.of(86_401)),
        "ValidationException",
        400,
        "1 validation error detected: Value '86401' at 'cors.maxAge' failed to satisfy"
            + " constraint: Member must have value less than or equal to 86400");
    assertError(
        () ->
            new Cors(
                Optional.empty(),
                List.of(),
                List.of("GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS"),
                List.of(),
                List.of(),
                Optional.empty()),
        "ValidationException",
        400,
        "1 validation error detected: Value '[GET, PUT, POST, HEAD, PATCH, DELETE, OPTIONS]' at"
            + " 'cors.allowMethods' failed to satisfy constraint: Member must have length less"
            + " than or equal to 6");
    assertError(
        () -> cors(List.of("")),
        "ValidationException",
        400,
        "1 validation error detected: Value '[]' at 'cors.allowOrigins' failed to satisfy"
            + " constraint: Member must satisfy constraint: [Member must have length greater"
            + " than or equal to 1]");
    assertThat(kiln.store.functionUrlConfigs("f")).isEmpty();
  }

  @Test
  void update_changesOnlyWhatIsGiven_keepsTheUrlIdAndCreationTime_andAnEmptyCorsRemovesIt() {
    FunctionUrlConfig c =
        urls.create(FunctionRef.of("f"), "NONE", Optional.of(cors(List.of("*"))), Optional.empty());
    kiln.time.advance(Duration.ofSeconds(3));

    FunctionUrlConfig u =
        urls.update(
            FunctionRef.of("f"), Optional.of("AWS_IAM"), Optional.empty(), Optional.empty());
    assertThat(u.urlId()).isEqualTo(c.urlId());
    assertThat(u.authType()).isEqualTo("AWS_IAM");
    assertThat(u.cors()).isEqualTo(c.cors());
    assertThat(u.creationTime()).isEqualTo(c.creationTime());
    assertThat(u.lastModifiedTime()).isEqualTo(c.creationTime().plusSeconds(3));
    assertThat(urls.get(FunctionRef.of("f"))).isEqualTo(u);

    FunctionUrlConfig noCors =
        urls.update(
            FunctionRef.of("f"), Optional.empty(), Optional.of(Cors.empty()), Optional.empty());
    assertThat(noCors.cors()).isEmpty();
  }

  @Test
  void list_pagesTheFunctionsOwnUrlFirst_thenAliasesByName() {
    kiln.catalog.aliases().create(FunctionRef.of("f"), "beta", "1", "", Map.of());
    FunctionUrlConfig own =
        urls.create(FunctionRef.of("f"), "NONE", Optional.empty(), Optional.empty());
    FunctionUrlConfig live =
        urls.create(ref("f", "live"), "NONE", Optional.empty(), Optional.empty());
    FunctionUrlConfig beta =
        urls.create(ref("f", "beta"), "NONE", Optional.empty(), Optional.empty());

    FunctionUrls.Page first = urls.list(FunctionRef.of("f"), Optional.empty(), 2);
    assertThat(first.configs()).containsExactly(own, beta);
    FunctionUrls.Page second = urls.list(FunctionRef.of("f"), first.nextMarker(), 2);
    assertThat(second.configs()).containsExactly(live);
    assertThat(second.nextMarker()).isEmpty();
    assertError(
        () -> urls.list(FunctionRef.of("f"), Optional.empty(), 51),
        "ValidationException",
        400,
        "1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint:"
            + " Member must have value less than or equal to 50");
    assertError(
        () -> urls.list(FunctionRef.of("f"), Optional.of("bogus"), 2),
        "InvalidParameterValueException",
        400,
        "Invalid Marker: it was not issued by this Kiln");
  }

  @Test
  void byUrlId_readsTheStoreOnce_andForgetsOnEveryChange() {
    FunctionUrlConfig c = urls.create(ref("f", "live"), "NONE", Optional.empty(), Optional.empty());
    FunctionUrls.Target expected =
        new FunctionUrls.Target(
            c.urlId(),
            "f",
            Optional.of("live"),
            "NONE",
            Optional.empty(),
            "BUFFERED",
            F_ARN + ":live");
    assertThat(urls.byUrlId(c.urlId())).hasValue(expected);
    assertThat(kiln.storeCallsDuring(() -> urls.byUrlId(c.urlId()))).isEmpty();

    urls.update(ref("f", "live"), Optional.of("AWS_IAM"), Optional.empty(), Optional.empty());
    assertThat(urls.byUrlId(c.urlId()).orElseThrow().authType()).isEqualTo("AWS_IAM");

    assertThat(urls.byUrlId("a".repeat(32))).isEmpty();
    assertThat(urls.byUrlId("not-an-id")).isEmpty();

    kiln.catalog.aliases().delete(FunctionRef.of("f"), "live");
    assertThat(urls.byUrlId(c.urlId())).isEmpty();
  }

  @Test
  void deletingTheFunction_deletesItsUrls() {
    FunctionUrlConfig c =
        urls.create(FunctionRef.of("f"), "NONE", Optional.empty(), Optional.empty());
    assertThat(urls.byUrlId(c.urlId())).isPresent();
    kiln.functions().delete(FunctionRef.of("f"));
    assertThat(urls.byUrlId(c.urlId())).isEmpty();
    assertThat(kiln.store.functionUrlConfigByUrlId(c.urlId())).isEmpty();
  }

  @Test
  void delete_removesTheConfig_andItsUrlIdStopsResolving() {
    FunctionUrlConfig c =
        urls.create(FunctionRef.of("f"), "NONE", Optional.empty(), Optional.empty());
    urls.byUrlId(c.urlId());
    urls.delete(FunctionRef.of("f"));
    assertThat(urls.byUrlId(c.urlId())).isEmpty();
    assertThat(urls.list(FunctionRef.of("f"), Optional.empty(), 50).configs()).isEmpty();
  }
}
