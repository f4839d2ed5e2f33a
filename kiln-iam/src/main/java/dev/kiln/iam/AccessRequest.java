package dev.kiln.iam;

import java.util.List;
import java.util.Map;

/**
 * One request as IAM evaluates it: who asks, the action ({@code service:Operation}), the resource's
 * ARN ({@code *} for actions that name none) and the request context, condition key to values (a
 * multi-valued key such as {@code aws:TagKeys} has several; a key the request does not carry is
 * absent). Context keys compare case-insensitively, as IAM's do.
 */
public record AccessRequest(
    Principal principal, String action, String resource, Map<String, List<String>> context) {

  public AccessRequest {
    context = RequestContext.caseInsensitive(context);
  }
}
