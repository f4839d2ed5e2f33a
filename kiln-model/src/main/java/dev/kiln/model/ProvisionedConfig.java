package dev.kiln.model;

import java.time.Instant;

/**
 * A provisioned-concurrency configuration: keep {@code requested} instances of a version (or of the
 * version an alias points to) initialised and warm.
 *
 * @param qualifier a version number or an alias name, never {@code $LATEST}
 */
public record ProvisionedConfig(
    String functionName, String qualifier, int requested, Instant lastModified) {}
