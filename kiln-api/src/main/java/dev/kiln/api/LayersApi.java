package dev.kiln.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.invoke.LayerCatalog;
import dev.kiln.model.Account;
import dev.kiln.model.LambdaError;
import dev.kiln.model.LayerPolicy;
import dev.kiln.model.LayerRef;
import dev.kiln.model.LayerVersion;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The Lambda API's layer operations: Publish/Get/Delete LayerVersion, GetLayerVersionByArn,
 * ListLayers, ListLayerVersions and the three layer-version permission operations, in the shapes of
 * the service model.
 */
final class LayersApi {

  private static final String LAYERS = "/2018-10-31/layers";
  private static final String VERSION = LAYERS + "/{layer}/versions/{number}";
  private static final int MAX_BODY = 64 * 1024;

  private final LayerCatalog layers;
  private final Account account;

  private final dev.kiln.api.auth.CodeLinks codeLinks;

  LayersApi(LayerCatalog layers, dev.kiln.api.auth.CodeLinks codeLinks) {
    this.codeLinks = codeLinks;
    this.layers = layers;
    this.account = layers.account();
  }

  void routes(HttpRouting.Builder r) {
    r.get(LAYERS, this::listLayersOrFindByArn)
        .get(LAYERS + "/", this::listLayersOrFindByArn)
        .post(LAYERS + "/{layer}/versions", this::publish)
        .get(LAYERS + "/{layer}/versions", this::listVersions)
        .get(VERSION, this::getVersion)
        .delete(VERSION, this::deleteVersion)
        .post(VERSION + "/policy", this::addPermission)
        .get(VERSION + "/policy", this::getPolicy)
        .delete(VERSION + "/policy/{sid}", this::removePermission);
  }

  private void publish(ServerRequest req, ServerResponse res) throws IOException {
    RequestBody body =
        RequestBody.parse(
            LambdaApi.readBody(req, LambdaApi.MAX_CONTROL_PLANE_BODY, "PublishLayerVersion"));
    RequestBody content =
        body.object("Content")
            .orElseThrow(
                () -> LambdaError.validation("content", "null", "Member must not be null"));
    byte[] zip = LambdaApi.zipFrom(content, "Content.");
    LayerVersion published =
        layers.publish(
            layerName(req),
            zip,
            new LayerCatalog.LayerSettings(
                body.string("Description").orElse(""),
                body.stringList("CompatibleRuntimes").orElse(List.of()),
                body.stringList("CompatibleArchitectures").orElse(List.of()),
                body.string("LicenseInfo")));
    LambdaApi.sendJson(res, req, 201, versionJson(req, published));
  }

  private void getVersion(ServerRequest req, ServerResponse res) {
    LambdaApi.sendJson(
        res, req, 200, versionJson(req, layers.version(layerName(req), number(req))));
  }

  /** ListLayers, or with {@code find=LayerVersion} GetLayerVersionByArn (same path). */
  private void listLayersOrFindByArn(ServerRequest req, ServerResponse res) {
    Optional<String> find = LambdaApi.query(req, "find");
    if (find.isPresent()) {
      if (!find.get().equals("LayerVersion")) {
        throw LambdaError.invalidParameter("Unsupported find: " + find.get());
      }
      String arn =
          LambdaApi.query(req, "Arn")
              .orElseThrow(() -> LambdaError.validation("arn", "null", "Member must not be null"));
      LambdaApi.sendJson(res, req, 200, versionJson(req, layers.versionByArn(arn)));
      return;
    }
    checkMaxItems(req);
    List<LayerVersion> latest = layers.latestVersions(runtimeFilter(req), architectureFilter(req));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("Layers");
    for (LayerVersion v : VersionsApi.page(req, latest, LayerVersion::layerName, out)) {
      ObjectNode item = list.addObject();
      item.put("LayerName", v.layerName());
      item.put("LayerArn", account.layerArn(v.layerName()));
      item.set("LatestMatchingVersion", listItem(v));
    }
    LambdaApi.sendJson(res, req, 200, out);
  }

  /** {@code MaxItems} of the layer listings: 1 to 50 in the service model. */
  private static void checkMaxItems(ServerRequest req) {
    LambdaApi.queryInt(req, "MaxItems")
        .filter(n -> n < 1 || n > 50)
        .ifPresent(
            n -> {
              throw LambdaError.validation(
                  "maxItems", n, "Member must have value between 1 and 50");
            });
  }

  private void listVersions(ServerRequest req, ServerResponse res) {
    checkMaxItems(req);
    List<LayerVersion> versions =
        layers.versions(layerName(req), runtimeFilter(req), architectureFilter(req));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ArrayNode list = out.putArray("LayerVersions");
    VersionsApi.page(req, versions, v -> Long.toString(v.version()), out)
        .forEach(v -> list.add(listItem(v)));
    LambdaApi.sendJson(res, req, 200, out);
  }

  private void deleteVersion(ServerRequest req, ServerResponse res) {
    layers.delete(layerName(req), number(req));
    res.status(204).header("x-amzn-RequestId", LambdaApi.requestId(req)).send();
  }

  private void addPermission(ServerRequest req, ServerResponse res) throws IOException {
    RequestBody body =
        RequestBody.parse(LambdaApi.readBody(req, MAX_BODY, "AddLayerVersionPermission"));
    String layerName = layerName(req);
    long number = number(req);
    LayerPolicy.Statement statement =
        layers.addPermission(
            layerName,
            number,
            body.requiredString("StatementId"),
            body.requiredString("Action"),
            body.requiredString("Principal"),
            body.string("OrganizationId"),
            LambdaApi.query(req, "RevisionId"));
    LayerPolicy policy = layers.policy(layerName, number);
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("Statement", statementJson(layerName, number, statement).toString());
    out.put("RevisionId", policy.revisionId());
    LambdaApi.sendJson(res, req, 201, out);
  }

  private void getPolicy(ServerRequest req, ServerResponse res) {
    String layerName = layerName(req);
    long number = number(req);
    LayerPolicy policy = layers.policy(layerName, number);
    ObjectNode document = FunctionJson.JSON.createObjectNode();
    document.put("Version", "2012-10-17");
    document.put("Id", "default");
    ArrayNode statements = document.putArray("Statement");
    policy.statements().forEach(s -> statements.add(statementJson(layerName, number, s)));
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("Policy", document.toString());
    out.put("RevisionId", policy.revisionId());
    LambdaApi.sendJson(res, req, 200, out);
  }

  private void removePermission(ServerRequest req, ServerResponse res) {
    layers.removePermission(
        layerName(req),
        number(req),
        req.path().pathParameters().get("sid"),
        LambdaApi.query(req, "RevisionId"));
    res.status(204).header("x-amzn-RequestId", LambdaApi.requestId(req)).send();
  }

  /** A statement as IAM writes it, which is how GetLayerVersionPolicy shows it on AWS. */
  private ObjectNode statementJson(String layerName, long number, LayerPolicy.Statement s) {
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("Sid", s.statementId());
    out.put("Effect", "Allow");
    if (s.principal().equals("*")) {
      out.put("Principal", "*");
    } else {
      String root =
          s.principal().startsWith("arn:")
              ? s.principal()
              : "arn:aws:iam::" + s.principal() + ":root";
      out.putObject("Principal").put("AWS", root);
    }
    out.put("Action", s.action());
    out.put(
        "Resource", account.layerVersionArn(LayerRef.parseName(layerName, account).name(), number));
    s.organizationId()
        .ifPresent(
            o -> out.putObject("Condition").putObject("StringEquals").put("aws:PrincipalOrgID", o));
    return out;
  }

  private ObjectNode versionJson(ServerRequest req, LayerVersion v) {
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    ObjectNode content = out.putObject("Content");
    content.put("Location", LambdaApi.codeLocation(req, v.codeSha256Hex(), codeLinks));
    content.put("CodeSha256", v.codeSha256Base64());
    content.put("CodeSize", v.codeSize());
    out.put("LayerArn", account.layerArn(v.layerName()));
    out.put("LayerVersionArn", account.layerVersionArn(v.layerName(), v.version()));
    out.put("Description", v.description());
    out.put("CreatedDate", FunctionJson.timestamp(v.createdDate()));
    out.put("Version", v.version());
    compatibility(out, v);
    return out;
  }

  private ObjectNode listItem(LayerVersion v) {
    ObjectNode out = FunctionJson.JSON.createObjectNode();
    out.put("LayerVersionArn", account.layerVersionArn(v.layerName(), v.version()));
    out.put("Version", v.version());
    out.put("Description", v.description());
    out.put("CreatedDate", FunctionJson.timestamp(v.createdDate()));
    compatibility(out, v);
    return out;
  }

  private static void compatibility(ObjectNode out, LayerVersion v) {
    if (!v.compatibleRuntimes().isEmpty()) {
      ArrayNode runtimes = out.putArray("CompatibleRuntimes");
      v.compatibleRuntimes().forEach(runtimes::add);
    }
    if (!v.compatibleArchitectures().isEmpty()) {
      ArrayNode archs = out.putArray("CompatibleArchitectures");
      v.compatibleArchitectures().forEach(archs::add);
    }
    v.licenseInfo().ifPresent(l -> out.put("LicenseInfo", l));
  }

  private static String layerName(ServerRequest req) {
    return req.path().pathParameters().get("layer");
  }

  private static long number(ServerRequest req) {
    return LayerRef.parseVersion(req.path().pathParameters().get("number"));
  }

  private static Optional<String> runtimeFilter(ServerRequest req) {
    return LambdaApi.query(req, "CompatibleRuntime");
  }

  private static Optional<String> architectureFilter(ServerRequest req) {
    return LambdaApi.query(req, "CompatibleArchitecture");
  }
}
