package dev.kiln.api.query;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * An answer of the AWS Query protocol, written with the JDK's StAX writer: {@code <ActionResponse
 * xmlns="..."><ActionResult>...</ActionResult><ResponseMetadata><RequestId>...} for a success,
 * {@code <ErrorResponse><Error><Type>Sender</Type><Code>...} for an error. Lists are {@code
 * <member>} elements, as the SDKs' Query parsers expect. Not thread-safe: one per answer.
 */
public final class QueryResponse {

  private static final XMLOutputFactory XML = XMLOutputFactory.newFactory();

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final XMLStreamWriter xml;
  private final String action;
  private final String requestId;
  private final boolean hasResult;

  private QueryResponse(String action, String namespace, String requestId, boolean hasResult) {
    this.action = action;
    this.requestId = requestId;
    this.hasResult = hasResult;
    try {
      this.xml = XML.createXMLStreamWriter(bytes, "UTF-8");
      xml.writeStartDocument("UTF-8", "1.0");
      xml.writeStartElement(action + "Response");
      xml.writeDefaultNamespace(namespace);
      if (hasResult) {
        xml.writeStartElement(action + "Result");
      }
    } catch (XMLStreamException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The answer to {@code action}, with a {@code <ActionResult>} for its members. */
  public static QueryResponse result(String action, String namespace, String requestId) {
    return new QueryResponse(action, namespace, requestId, true);
  }

  /** The answer to an action whose output has no members (DeleteRole): metadata only. */
  public static QueryResponse empty(String action, String namespace, String requestId) {
    return new QueryResponse(action, namespace, requestId, false);
  }

  public QueryResponse start(String element) {
    try {
      xml.writeStartElement(element);
    } catch (XMLStreamException e) {
      throw new IllegalStateException(e);
    }
    return this;
  }

  public QueryResponse end() {
    try {
      xml.writeEndElement();
    } catch (XMLStreamException e) {
      throw new IllegalStateException(e);
    }
    return this;
  }

  /** {@code <element>text</element>}. */
  public QueryResponse text(String element, String text) {
    return start(element).characters(text).end();
  }

  /** An element only when there is a value: the Query protocol leaves absent members out. */
  public QueryResponse optionalText(String element, String text) {
    return text == null ? this : text(element, text);
  }

  public QueryResponse date(String element, Instant at) {
    return text(element, at.truncatedTo(ChronoUnit.SECONDS).toString());
  }

  private QueryResponse characters(String text) {
    try {
      xml.writeCharacters(text);
    } catch (XMLStreamException e) {
      throw new IllegalStateException(e);
    }
    return this;
  }

  /** Sends the answer with status 200. */
  public void send(ServerResponse res) {
    try {
      if (hasResult) {
        xml.writeEndElement();
      }
      xml.writeStartElement("ResponseMetadata");
      xml.writeStartElement("RequestId");
      xml.writeCharacters(requestId);
      xml.writeEndElement();
      xml.writeEndElement();
      xml.writeEndElement();
      xml.writeEndDocument();
      xml.close();
    } catch (XMLStreamException e) {
      throw new IllegalStateException(e);
    }
    res.status(200)
        .header(HeaderNames.CONTENT_TYPE, "text/xml")
        .header("x-amzn-RequestId", requestId)
        .send(bytes.toByteArray());
  }

  /** An error as a Query service sends it, with the status its model gives. */
  public static void error(ServerResponse res, String namespace, String requestId, QueryError e) {
    res.status(e.status())
        .header(HeaderNames.CONTENT_TYPE, "text/xml")
        .header("x-amzn-RequestId", requestId)
        .send(errorBody(namespace, requestId, e.code(), e.getMessage(), e.status() < 500));
  }

  /** The {@code <ErrorResponse>} document itself. */
  public static byte[] errorBody(
      String namespace, String requestId, String code, String message, boolean sender) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      XMLStreamWriter w = XML.createXMLStreamWriter(out, "UTF-8");
      w.writeStartDocument("UTF-8", "1.0");
      w.writeStartElement("ErrorResponse");
      w.writeDefaultNamespace(namespace);
      w.writeStartElement("Error");
      w.writeStartElement("Type");
      w.writeCharacters(sender ? "Sender" : "Receiver");
      w.writeEndElement();
      w.writeStartElement("Code");
      w.writeCharacters(code);
      w.writeEndElement();
      w.writeStartElement("Message");
      w.writeCharacters(message);
      w.writeEndElement();
      w.writeEndElement();
      w.writeStartElement("RequestId");
      w.writeCharacters(requestId);
      w.writeEndElement();
      w.writeEndElement();
      w.writeEndDocument();
      w.close();
    } catch (XMLStreamException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  /** The action a response is for. */
  public String action() {
    return action;
  }
}
