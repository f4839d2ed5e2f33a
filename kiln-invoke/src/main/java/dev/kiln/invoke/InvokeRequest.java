package dev.kiln.invoke;

import java.util.Optional;

/**
 * A synchronous invocation as the invoker receives it.
 *
 * @param invokedArn the ARN the caller used, qualified as they qualified it
 * @param clientContext the decoded client context JSON, passed to the runtime
 * @param tailLog whether the caller wants the end of the invocation's log back
 */
public record InvokeRequest(
    byte[] payload, String invokedArn, Optional<String> clientContext, boolean tailLog) {}
