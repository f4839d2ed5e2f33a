package dev.kiln.events.s3;

import dev.kiln.invoke.Catalog;
import dev.kiln.model.Account;
import dev.kiln.model.FunctionRef;
import dev.kiln.model.LambdaError;
import dev.kiln.store.BucketNotificationStore;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * S3's PutBucketNotificationConfiguration and GetBucketNotificationConfiguration over the {@link
 * BucketNotificationStore}. A configuration is validated whole before it replaces the bucket's: its
 * XML ({@link NotificationConfiguration#parse}), then each function it names, which must be a Kiln
 * function whose policy lets {@code s3.amazonaws.com} invoke it for the bucket, as S3 checks
 * ("Unable to validate the following destination configurations"). Kiln keeps no buckets, so any
 * valid bucket name may be configured. Thread-safe: the store is.
 */
public final class BucketNotifications {

  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  private final BucketNotificationStore store;
  private final Catalog catalog;
  private final Account account;

  public BucketNotifications(BucketNotificationStore store, Catalog catalog, Account account) {
    this.store = store;
    this.catalog = catalog;
    this.account = account;
  }

  /** PutBucketNotificationConfiguration. */
  public void put(String bucket, byte[] xml) {
    requireBucketName(bucket);
    NotificationConfiguration configuration = NotificationConfiguration.parse(xml);
    for (NotificationConfiguration.FunctionConfiguration f : configuration.functions()) {
      validateDestination(bucket, f.functionArn());
    }
    if (configuration.isEmpty()) {
      store.delete(bucket);
    } else {
      store.put(bucket, configuration.toXml());
    }
  }

  /** GetBucketNotificationConfiguration: the bucket's, or an empty one. */
  public NotificationConfiguration get(String bucket) {
    requireBucketName(bucket);
    return configuration(bucket);
  }

  /** The bucket's configuration as stored, or an empty one. */
  public NotificationConfiguration configuration(String bucket) {
    return store
        .configuration(bucket)
        .map(
            xml ->
                NotificationConfiguration.parse(
                    xml.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .orElse(NotificationConfiguration.empty());
  }

  /**
   * The function {@code functionArn} names, if it is a Kiln function whose policy lets S3 invoke it
   * for {@code bucket}: checked when a configuration is put, and again for every delivery, as
   * Lambda checks S3's every invocation (a function deleted or a permission removed since gets
   * nothing).
   */
  public Optional<FunctionRef> deliverable(String bucket, String functionArn) {
    if (!functionArn.startsWith("arn:")) {
      return Optional.empty();
    }
    FunctionRef ref;
    try {
      ref = FunctionRef.parse(functionArn, "LambdaFunctionArn", account);
      catalog.functions().get(ref);
    } catch (LambdaError notAFunction) {
      return Optional.empty();
    }
    return catalog
            .policies()
            .allowsService(
                ref,
                S3Events.PRINCIPAL,
                "lambda:InvokeFunction",
                S3Events.bucketArn(bucket),
                account.accountId())
        ? Optional.of(ref)
        : Optional.empty();
  }

  private void validateDestination(String bucket, String functionArn) {
    if (deliverable(bucket, functionArn).isEmpty()) {
      throw new S3Error(
          400,
          "InvalidArgument",
          "Unable to validate the following destination configurations",
          Map.of(
              "ArgumentName1",
              functionArn,
              "ArgumentValue1",
              "Not authorized to invoke function [" + functionArn + "]"));
    }
  }

  static void requireBucketName(String bucket) {
    if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
      throw new S3Error(
          400,
          "InvalidBucketName",
          "The specified bucket is not valid.",
          Map.of("BucketName", bucket));
    }
  }
}
