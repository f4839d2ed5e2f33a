package dev.kiln.iam;

/**
 * Who makes a request, as a policy's {@code Principal} element names them: a {@code type} ({@code
 * AWS} for users and role sessions, {@code Service} for an AWS service such as {@code
 * lambda.amazonaws.com}), the {@code id} (an ARN for {@code AWS}, the service's name for {@code
 * Service}) and, for {@code AWS} principals, the account they belong to (null for a service).
 */
public record Principal(String type, String id, String account) {}
