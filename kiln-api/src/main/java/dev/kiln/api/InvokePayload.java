package dev.kiln.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.kiln.model.LambdaError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What an invocation's payload must be before Kiln takes it: the event a function receives, from
 * the body a caller sent to {@code Invoke} or {@code InvokeAsync} (and, through the same check, any
 * other way in that hands Kiln a caller's JSON event).
 *
 * <p>As on Lambda, an empty body is the empty object {@code {}}, and any other body must be exactly
 * one JSON value (an object, an array, a string, a number, {@code true}, {@code false} or {@code
 * null}) with nothing after it; otherwise the caller gets 400 {@code
 * InvalidRequestContentException}, "Could not parse request body into json: Could not parse payload
 * into json: ", followed by Jackson's account of what it found. The body is streamed through
 * Jackson's tokenizer and never built in memory: a 6 MB event costs a pass over its bytes, not a
 * tree. The size limits (6 MB for a synchronous invocation, 256 KB for an event) are the API's,
 * checked while the body is read, before it gets here.
 *
 * <p>Stateless; safe from any thread.
 */
public final class InvokePayload {

  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] EMPTY_OBJECT = "{}".getBytes(StandardCharsets.UTF_8);

  private InvokePayload() {}

  /**
   * The event for {@code body}: {@code {}} when it is empty, {@code body} itself when it is one
   * JSON value.
   *
   * @throws LambdaError InvalidRequestContentException (400) when it is not
   */
  public static byte[] check(byte[] body) {
    if (body.length == 0) {
      return EMPTY_OBJECT.clone();
    }
    try (JsonParser parser = JSON.createParser(body)) {
      if (parser.nextToken() == null) {
        return body; // only white space: Lambda passes it on, and so does Kiln
      }
      parser.skipChildren();
      if (parser.nextToken() != null) {
        throw new JsonProcessingException("Unexpected content after the JSON value") {};
      }
      return body;
    } catch (IOException e) {
      String detail =
          e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      throw LambdaError.invalidRequestContent(
          "Could not parse request body into json: Could not parse payload into json: " + detail);
    }
  }
}
