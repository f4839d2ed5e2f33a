package dev.kiln.events.s3;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * A bucket's notification configuration, S3's {@code NotificationConfiguration}: the Lambda
 * function configurations ({@code CloudFunctionConfiguration} in S3's XML: {@code Id}, {@code
 * CloudFunction} (the function's ARN), {@code Event}s, and a {@code Filter} of key {@code prefix}
 * and {@code suffix} rules) and whether events also go to EventBridge ({@code
 * EventBridgeConfiguration}). {@link #parse} validates it as S3 does, short of the destinations
 * (which {@link BucketNotifications} checks against the functions' policies); {@link #toXml} writes
 * what GetBucketNotificationConfiguration answers. Immutable.
 */
public record NotificationConfiguration(
    List<FunctionConfiguration> functions, boolean eventBridge) {

  static final String NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

  /** The event types S3 notifies of, as its configurations name them. */
  static final Set<String> EVENTS =
      Set.of(
          "s3:ReducedRedundancyLostObject",
          "s3:ObjectCreated:*",
          "s3:ObjectCreated:Put",
          "s3:ObjectCreated:Post",
          "s3:ObjectCreated:Copy",
          "s3:ObjectCreated:CompleteMultipartUpload",
          "s3:ObjectRemoved:*",
          "s3:ObjectRemoved:Delete",
          "s3:ObjectRemoved:DeleteMarkerCreated",
          "s3:ObjectRestore:*",
          "s3:ObjectRestore:Post",
          "s3:ObjectRestore:Completed",
          "s3:ObjectRestore:Delete",
          "s3:Replication:*",
          "s3:Replication:OperationFailedReplication",
          "s3:Replication:OperationNotTracked",
          "s3:Replication:OperationMissedThreshold",
          "s3:Replication:OperationReplicatedAfterThreshold",
          "s3:LifecycleTransition",
          "s3:IntelligentTiering",
          "s3:ObjectAcl:Put",
          "s3:LifecycleExpiration:*",
          "s3:LifecycleExpiration:Delete",
          "s3:LifecycleExpiration:DeleteMarkerCreated",
          "s3:ObjectTagging:*",
          "s3:ObjectTagging:Put",
          "s3:ObjectTagging:Delete");

  /** One Lambda function configuration: which function gets which events of which keys. */
  public record FunctionConfiguration(
      String id, String functionArn, List<String> events, String prefix, String suffix) {

    /**
     * Whether a record of event {@code eventName} (S3's record form, {@code ObjectCreated:Put}, no
     * {@code s3:}) for {@code key} (decoded) is one this configuration wants.
     */
    public boolean matches(String eventName, String key) {
      String full = "s3:" + eventName;
      boolean event =
          events.stream()
              .anyMatch(
                  e ->
                      e.equals(full)
                          || (e.endsWith(":*") && full.startsWith(e.substring(0, e.length() - 1))));
      return event && key.startsWith(prefix) && key.endsWith(suffix);
    }

    /** S3's overlap: a common event type and key ranges that share a key. */
    boolean overlaps(FunctionConfiguration other) {
      boolean commonEvent =
          events.stream()
              .anyMatch(e -> other.events.stream().anyMatch(o -> covers(e, o) || covers(o, e)));
      boolean prefixes = prefix.startsWith(other.prefix) || other.prefix.startsWith(prefix);
      boolean suffixes = suffix.endsWith(other.suffix) || other.suffix.endsWith(suffix);
      return commonEvent && prefixes && suffixes;
    }

    private static boolean covers(String wide, String narrow) {
      return wide.equals(narrow)
          || (wide.endsWith(":*") && narrow.startsWith(wide.substring(0, wide.length() - 1)));
    }
  }

  public static NotificationConfiguration empty() {
    return new NotificationConfiguration(List.of(), false);
  }

  public boolean isEmpty() {
    return functions.isEmpty() && !eventBridge;
  }

  /**
   * Reads and validates a PutBucketNotificationConfiguration body.
   *
   * @throws S3Error MalformedXML or InvalidArgument, in S3's words
   */
  public static NotificationConfiguration parse(byte[] xml) {
    Element root = document(xml).getDocumentElement();
    if (!root.getLocalName().equals("NotificationConfiguration")) {
      throw S3Error.malformedXml();
    }
    List<FunctionConfiguration> functions = new ArrayList<>();
    boolean eventBridge = false;
    Set<String> ids = new LinkedHashSet<>();
    for (Element child : children(root)) {
      switch (child.getLocalName()) {
        case "CloudFunctionConfiguration" -> {
          FunctionConfiguration f = function(child);
          if (!ids.add(f.id())) {
            throw S3Error.invalidArgument("Configuration ID must be unique", "Id", f.id());
          }
          functions.add(f);
        }
        case "EventBridgeConfiguration" -> eventBridge = true;
        case "TopicConfiguration", "QueueConfiguration" -> {
          String arn =
              text(child, child.getLocalName().equals("TopicConfiguration") ? "Topic" : "Queue")
                  .orElse("");
          throw S3Error.invalidArgument(
              "Unable to validate the following destination configurations",
              arn,
              "Kiln delivers bucket notifications to Lambda functions and EventBridge only, not"
                  + " to SNS topics or SQS queues");
        }
        default -> throw S3Error.malformedXml();
      }
    }
    for (int i = 0; i < functions.size(); i++) {
      for (int j = i + 1; j < functions.size(); j++) {
        if (functions.get(i).overlaps(functions.get(j))) {
          throw S3Error.invalidArgument(
              "Configurations overlap. Configurations on the same bucket cannot share a common"
                  + " event type.",
              "Event",
              String.join(", ", functions.get(j).events()));
        }
      }
    }
    return new NotificationConfiguration(List.copyOf(functions), eventBridge);
  }

  private static FunctionConfiguration function(Element e) {
    String id = text(e, "Id").filter(s -> !s.isEmpty()).orElse(UUID.randomUUID().toString());
    String arn = text(e, "CloudFunction").orElseThrow(S3Error::malformedXml);
    List<String> events = new ArrayList<>();
    String prefix = "";
    String suffix = "";
    boolean hasPrefix = false;
    boolean hasSuffix = false;
    for (Element c : children(e)) {
      switch (c.getLocalName()) {
        case "Id", "CloudFunction", "InvocationRole" -> {}
        case "Event" -> {
          String event = c.getTextContent().trim();
          if (!EVENTS.contains(event)) {
            throw S3Error.invalidArgument(
                "The event is not supported for notifications", "Event", event);
          }
          events.add(event);
        }
        case "Filter" -> {
          for (Element key : children(c)) {
            if (!key.getLocalName().equals("S3Key")) {
              throw S3Error.malformedXml();
            }
            for (Element rule : children(key)) {
              if (!rule.getLocalName().equals("FilterRule")) {
                throw S3Error.malformedXml();
              }
              String name = text(rule, "Name").orElse("");
              String value = text(rule, "Value").orElse("");
              switch (name.toLowerCase(java.util.Locale.ROOT)) {
                case "prefix" -> {
                  if (hasPrefix) {
                    throw S3Error.invalidArgument(
                        "Cannot specify more than one prefix rule in a filter.",
                        "FilterRule",
                        name);
                  }
                  hasPrefix = true;
                  prefix = value;
                }
                case "suffix" -> {
                  if (hasSuffix) {
                    throw S3Error.invalidArgument(
                        "Cannot specify more than one suffix rule in a filter.",
                        "FilterRule",
                        name);
                  }
                  hasSuffix = true;
                  suffix = value;
                }
                default ->
                    throw S3Error.invalidArgument(
                        "filter rule name must be either prefix or suffix", "FilterRule", name);
              }
            }
          }
        }
        default -> throw S3Error.malformedXml();
      }
    }
    if (events.isEmpty()) {
      throw S3Error.malformedXml();
    }
    return new FunctionConfiguration(id, arn, List.copyOf(events), prefix, suffix);
  }

  /** GetBucketNotificationConfiguration's answer (and what the store keeps). */
  public String toXml() {
    try {
      StringWriter out = new StringWriter();
      XMLStreamWriter w = XMLOutputFactory.newFactory().createXMLStreamWriter(out);
      w.writeStartDocument("UTF-8", "1.0");
      w.writeStartElement("NotificationConfiguration");
      w.writeDefaultNamespace(NAMESPACE);
      for (FunctionConfiguration f : functions) {
        w.writeStartElement("CloudFunctionConfiguration");
        element(w, "Id", f.id());
        element(w, "CloudFunction", f.functionArn());
        for (String e : f.events()) {
          element(w, "Event", e);
        }
        if (!f.prefix().isEmpty() || !f.suffix().isEmpty()) {
          w.writeStartElement("Filter");
          w.writeStartElement("S3Key");
          if (!f.prefix().isEmpty()) {
            rule(w, "Prefix", f.prefix());
          }
          if (!f.suffix().isEmpty()) {
            rule(w, "Suffix", f.suffix());
          }
          w.writeEndElement();
          w.writeEndElement();
        }
        w.writeEndElement();
      }
      if (eventBridge) {
        w.writeEmptyElement("EventBridgeConfiguration");
      }
      w.writeEndElement();
      w.writeEndDocument();
      w.close();
      return out.toString();
    } catch (XMLStreamException e) {
      throw new IllegalStateException("cannot write a notification configuration", e);
    }
  }

  private static void rule(XMLStreamWriter w, String name, String value) throws XMLStreamException {
    w.writeStartElement("FilterRule");
    element(w, "Name", name);
    element(w, "Value", value);
    w.writeEndElement();
  }

  private static void element(XMLStreamWriter w, String name, String text)
      throws XMLStreamException {
    w.writeStartElement(name);
    w.writeCharacters(text);
    w.writeEndElement();
  }

  private static Document document(byte[] xml) {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setXIncludeAware(false);
      f.setExpandEntityReferences(false);
      DocumentBuilder b = f.newDocumentBuilder();
      b.setErrorHandler(null);
      return b.parse(new ByteArrayInputStream(xml));
    } catch (SAXException | IOException e) {
      throw S3Error.malformedXml();
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser cannot be configured", e);
    }
  }

  private static List<Element> children(Element e) {
    List<Element> out = new ArrayList<>();
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c) {
        out.add(c);
      }
    }
    return out;
  }

  private static Optional<String> text(Element e, String name) {
    return children(e).stream()
        .filter(c -> c.getLocalName().equals(name))
        .findFirst()
        .map(c -> c.getTextContent().trim());
  }
}
