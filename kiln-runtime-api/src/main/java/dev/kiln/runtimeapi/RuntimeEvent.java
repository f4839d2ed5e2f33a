package dev.kiln.runtimeapi;

import java.util.Optional;

/**
 * One invocation as the Runtime API hands it to a runtime: the payload and the {@code
 * Lambda-Runtime-*} headers of {@code GET /next}. The deadline is not fixed until the runtime takes
 * the event, so it travels as the function's timeout.
 */
public record RuntimeEvent(
    String requestId,
    byte[] payload,
    long timeoutMillis,
    String invokedFunctionArn,
    String traceId,
    Optional<String> clientContext,
    Optional<String> cognitoIdentity) {}
