package dev.kiln.iam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The AWS managed policies Kiln knows, under their real ARNs ({@code
 * arn:aws:iam::aws:policy/PATH/NAME}) with their real ids, versions, dates and documents, as AWS
 * publishes them in its managed policy reference: AdministratorAccess, the Lambda execution role
 * policies (AWSLambdaBasicExecutionRole, AWSLambdaRole, AWSLambdaVPCAccessExecutionRole,
 * AWSLambdaSQSQueueExecutionRole, AWSLambdaKinesisExecutionRole, AWSLambdaMSKExecutionRole,
 * AWSLambdaInvocation-DynamoDB), AWSLambda_ReadOnlyAccess, AWSLambda_FullAccess and
 * AWSXRayDaemonWriteAccess; and one of Kiln's own, {@code arn:aws:iam::aws:policy/kiln/
 * KilnInvokeAccess}, which is what an {@code invoke} key may do.
 *
 * <p>They are read once, from {@code aws-managed-policies.json} beside this class; the list never
 * changes while Kiln runs.
 */
public final class ManagedPolicies {

  /** One AWS managed policy at its default version. */
  public record Managed(
      String name,
      String arn,
      String path,
      String policyId,
      String description,
      String versionId,
      Instant created,
      Instant updated,
      PolicyDocument document) {}

  private static final List<Managed> ALL;
  private static final Map<String, Managed> BY_ARN;

  static {
    List<Managed> all = new ArrayList<>();
    Map<String, Managed> byArn = new LinkedHashMap<>();
    try (InputStream in = ManagedPolicies.class.getResourceAsStream("aws-managed-policies.json")) {
      if (in == null) {
        throw new IllegalStateException("aws-managed-policies.json is missing from kiln-iam");
      }
      ObjectMapper json = new ObjectMapper();
      for (JsonNode p : json.readTree(in)) {
        String name = p.path("PolicyName").asText();
        String path = p.path("Path").asText();
        Managed m =
            new Managed(
                name,
                "arn:aws:iam::aws:policy" + path + name,
                path,
                p.path("PolicyId").asText(),
                p.path("Description").asText(),
                p.path("DefaultVersionId").asText(),
                Instant.parse(p.path("CreateDate").asText()),
                Instant.parse(p.path("UpdateDate").asText()),
                PolicyDocument.parse(
                    json.writeValueAsString(p.path("Document")), PolicyDocument.Kind.IDENTITY));
        all.add(m);
        byArn.put(m.arn(), m);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (MalformedPolicyException e) {
      throw new IllegalStateException("an AWS managed policy does not parse: " + e.getMessage(), e);
    }
    ALL = List.copyOf(all);
    BY_ARN = Map.copyOf(byArn);
  }

  private ManagedPolicies() {}

  /** Every managed policy, in a fixed order. */
  public static List<Managed> all() {
    return ALL;
  }

  /** The managed policy {@code arn} names, exactly. */
  public static Optional<Managed> byArn(String arn) {
    return Optional.ofNullable(BY_ARN.get(arn));
  }
}
