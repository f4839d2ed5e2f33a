package dev.kiln.invoke;

import dev.kiln.model.LambdaError;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StorageException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

/**
 * The one place where what a store refuses ({@link StorageException}: already exists, not found, a
 * stale revision, a marker it never issued, rejected content) becomes what the Lambda API answers:
 * the error type, the status and the message AWS words it with. The stores speak of entities and
 * keys; the words below are AWS's, byte for byte.
 *
 * <p>The catalog works on its stores through {@link #mapped}, which makes every refusal of a store
 * call arrive as its {@link LambdaError}, so no call site translates for itself.
 */
final class StorageOutcomes {

  private StorageOutcomes() {}

  /** The Lambda API's error for a store's refusal. */
  static LambdaError toLambdaError(StorageException e) {
    String key = e.key();
    return switch (e) {
      case StorageException.AlreadyExists x ->
          switch (x.entity()) {
            case FUNCTION -> LambdaError.conflict("Function already exist: " + key);
            case ALIAS -> LambdaError.conflict("Alias already exists: " + key);
            default -> LambdaError.conflict(x.getMessage());
          };
      case StorageException.NotFound x ->
          switch (x.entity()) {
            case FUNCTION -> LambdaError.notFound("Function not found: " + key);
            case ALIAS -> LambdaError.notFound("Alias not found: " + key);
            case LAYER_VERSION -> LambdaError.notFound("Layer version " + key + " does not exist.");
            default -> LambdaError.notFound("The resource you requested does not exist.");
          };
      case StorageException.StaleRevision x ->
          LambdaError.preconditionFailed(
              switch (x.entity()) {
                case FUNCTION ->
                    "The Revision Id provided does not match the latest Revision Id. Call the"
                        + " GetFunction/GetAlias API to retrieve the latest Revision Id";
                case ALIAS ->
                    "The Revision Id provided does not match the latest Revision Id. Call the"
                        + " GetAlias API to retrieve the latest Revision Id";
                case LAYER_POLICY ->
                    "The RevisionId provided does not match the latest RevisionId for the layer"
                        + " version policy. Call GetLayerVersionPolicy to retrieve the latest"
                        + " RevisionId";
                default ->
                    "The RevisionId provided does not match the latest RevisionId for the Lambda"
                        + " function or alias. Call the GetFunction or the GetAlias API to"
                        + " retrieve the latest RevisionId for your resource.";
              });
      case StorageException.InvalidMarker x ->
          LambdaError.invalidParameter("Invalid Marker: it was not issued by this Kiln");
      case StorageException.Rejected x ->
          x.overSizeLimit()
              ? LambdaError.requestEntityTooLarge(x.reason())
              : LambdaError.invalidParameter(x.reason());
    };
  }

  /** {@code store}, with every refusal it throws turned into the Lambda API's error. */
  static MetadataStore mapped(MetadataStore store) {
    return mapped(MetadataStore.class, store);
  }

  /** {@code code}, with every package it refuses turned into the Lambda API's error. */
  static CodeStore mapped(CodeStore code) {
    return mapped(CodeStore.class, code);
  }

  private static <T> T mapped(Class<T> type, T target) {
    return type.cast(
        Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, new Mapping(target)));
  }

  /** Calls the store, translating what it refuses. */
  private record Mapping(Object target) implements InvocationHandler {
    @Override
    public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args)
        throws Throwable {
      try {
        return method.invoke(target, args);
      } catch (InvocationTargetException e) {
        if (e.getCause() instanceof StorageException refusal) {
          throw toLambdaError(refusal);
        }
        throw e.getCause();
      }
    }
  }
}
