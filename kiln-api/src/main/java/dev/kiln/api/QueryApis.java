package dev.kiln.api;

import dev.kiln.api.auth.RequestAuthentication;
import dev.kiln.api.iam.IamApi;
import dev.kiln.api.iam.StsApi;
import dev.kiln.api.query.QueryError;
import dev.kiln.api.query.QueryRequest;
import dev.kiln.api.query.QueryResponse;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The AWS Query protocol services at Kiln's endpoint, IAM and STS: a {@code POST /} with a
 * form-encoded body ({@link RequestAuthentication#isQueryProtocol}) is theirs, any other {@code
 * POST /} goes on to CloudWatch Logs. Which of the two an action belongs to is {@link
 * RequestAuthentication#queryService}: their actions do not overlap.
 */
final class QueryApis {

  private static final Logger LOG = LoggerFactory.getLogger(QueryApis.class);
  private static final int MAX_BODY = 256 * 1024;

  private final IamApi iam;
  private final StsApi sts;

  QueryApis(IamApi iam, StsApi sts) {
    this.iam = iam;
    this.sts = sts;
  }

  void routes(HttpRouting.Builder r) {
    r.post("/", this::dispatch);
  }

  private void dispatch(ServerRequest req, ServerResponse res) throws IOException {
    String contentType = LambdaApi.header(req, "Content-Type").orElse("");
    if (!RequestAuthentication.isQueryProtocol("POST", "/", contentType)) {
      res.next();
      return;
    }
    String requestId = UUID.randomUUID().toString();
    byte[] body = RequestAuthentication.body(req).orElse(null);
    if (body == null) {
      try (InputStream in = req.content().inputStream()) {
        body = in.readNBytes(MAX_BODY);
      }
    }
    QueryRequest request = QueryRequest.parse(body);
    String service = RequestAuthentication.queryService(request.action());
    String namespace = service.equals("sts") ? StsApi.NAMESPACE : IamApi.NAMESPACE;
    try {
      QueryResponse answer =
          service.equals("sts")
              ? sts.handle(request, RequestAuthentication.caller(req), requestId)
              : iam.handle(request, requestId);
      answer.send(res);
    } catch (QueryError e) {
      QueryResponse.error(res, namespace, requestId, e);
    } catch (RuntimeException e) {
      LOG.error("unexpected failure in {} {}", service, request.action(), e);
      QueryResponse.error(
          res,
          namespace,
          requestId,
          new QueryError(
              "ServiceFailure", 500, "Kiln failed to process the request; see the server log"));
    }
  }
}
