package dev.kiln.esm.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a column's value, in PostgreSQL's text output format, becomes a plain JSON value in a row
 * image, by the column's type OID (the built-in OIDs are fixed in PostgreSQL's catalog):
 *
 * <ul>
 *   <li>smallint, integer, bigint, oid: JSON numbers (a bigint beyond 2^53 is still exact in the
 *       JSON text, but JavaScript's JSON.parse rounds it);
 *   <li>real, double precision: JSON numbers; NaN and ±Infinity, which JSON cannot write, as the
 *       strings "NaN", "Infinity", "-Infinity";
 *   <li>numeric: a string, e.g. "12.50", so that no digit and no trailing zero is lost;
 *   <li>boolean: true or false;
 *   <li>json, jsonb: the parsed JSON value;
 *   <li>timestamp: ISO-8601 local date-time, e.g. "2024-05-01T10:15:30.5"; timestamptz: the UTC
 *       instant, e.g. "2024-05-01T08:15:30.500Z"; date, time: ISO-8601; timetz with its offset;
 *       interval: ISO-8601 duration (the reader sets IntervalStyle=iso_8601); infinity and BC
 *       values as PostgreSQL writes them;
 *   <li>bytea: base64 of the bytes;
 *   <li>one- or more-dimensional arrays of the types above: JSON arrays of the mapped elements;
 *   <li>everything else (text, varchar, char, uuid, enums, domains, inet, money, ranges, composite
 *       types, geometric types...): the text PostgreSQL outputs, as a string.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class PgTypes {

  static final int BOOL = 16;
  static final int BYTEA = 17;
  static final int INT8 = 20;
  static final int INT2 = 21;
  static final int INT4 = 23;
  static final int TEXT = 25;
  static final int OID = 26;
  static final int JSON = 114;
  static final int FLOAT4 = 700;
  static final int FLOAT8 = 701;
  static final int VARCHAR = 1043;
  static final int DATE = 1082;
  static final int TIME = 1083;
  static final int TIMESTAMP = 1114;
  static final int TIMESTAMPTZ = 1184;
  static final int INTERVAL = 1186;
  static final int TIMETZ = 1266;
  static final int NUMERIC = 1700;
  static final int UUID = 2950;
  static final int JSONB = 3802;

  /** Array type OID → element type OID, for the element types mapped above. */
  static final Map<Integer, Integer> ARRAY_ELEMENTS =
      Map.ofEntries(
          Map.entry(1000, BOOL),
          Map.entry(1001, BYTEA),
          Map.entry(1005, INT2),
          Map.entry(1007, INT4),
          Map.entry(1016, INT8),
          Map.entry(1028, OID),
          Map.entry(1009, TEXT),
          Map.entry(1014, 1042),
          Map.entry(1015, VARCHAR),
          Map.entry(1021, FLOAT4),
          Map.entry(1022, FLOAT8),
          Map.entry(1231, NUMERIC),
          Map.entry(199, JSON),
          Map.entry(3807, JSONB),
          Map.entry(1182, DATE),
          Map.entry(1183, TIME),
          Map.entry(1115, TIMESTAMP),
          Map.entry(1185, TIMESTAMPTZ),
          Map.entry(1187, INTERVAL),
          Map.entry(1270, TIMETZ),
          Map.entry(2951, UUID));

  private static final ObjectMapper JSON_MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Pattern OFFSET =
      Pattern.compile("([+-]\\d{2})(?::?(\\d{2}))?(?::?(\\d{2}))?$");
  private static final DateTimeFormatter UTC_INSTANT = DateTimeFormatter.ISO_INSTANT;

  private PgTypes() {}

  /** The JSON value of {@code text}, a value of type {@code typeOid} in text format. */
  public static JsonNode toJson(int typeOid, String text) {
    Integer element = ARRAY_ELEMENTS.get(typeOid);
    if (element != null) {
      try {
        return array(element, text);
      } catch (IllegalArgumentException e) {
        return NODES.textNode(text);
      }
    }
    return scalar(typeOid, text);
  }

  private static JsonNode scalar(int typeOid, String text) {
    try {
      return switch (typeOid) {
        case BOOL -> NODES.booleanNode(text.equals("t") || text.equals("true"));
        case INT2, INT4, INT8, OID -> integer(Long.parseLong(text));
        case FLOAT4, FLOAT8 -> floating(text);
        case NUMERIC -> NODES.textNode(text);
        case JSON, JSONB -> JSON_MAPPER.readTree(text);
        case BYTEA -> NODES.textNode(Base64.getEncoder().encodeToString(bytea(text)));
        case TIMESTAMP -> NODES.textNode(localDateTime(text));
        case TIMESTAMPTZ -> NODES.textNode(UTC_INSTANT.format(offsetDateTime(text)));
        case TIMETZ -> NODES.textNode(offsetTime(text));
        default -> NODES.textNode(text);
      };
    } catch (NumberFormatException | DateTimeParseException | JsonProcessingException e) {
      // infinity, BC dates, years past 9999, output we did not foresee: PostgreSQL's own text
      return NODES.textNode(text);
    }
  }

  /** An int node when it fits, as Jackson reads JSON, so that images compare with parsed JSON. */
  private static JsonNode integer(long v) {
    return v == (int) v ? NODES.numberNode((int) v) : NODES.numberNode(v);
  }

  private static JsonNode floating(String text) {
    return switch (text) {
      case "NaN", "Infinity", "-Infinity" -> NODES.textNode(text);
      default -> NODES.numberNode(Double.parseDouble(text));
    };
  }

  /** PostgreSQL's ISO output with a T for the space: it keeps the value's own precision. */
  private static String localDateTime(String text) {
    String iso = text.replace(' ', 'T');
    LocalDateTime.parse(iso); // or DateTimeParseException: infinity, BC, years past 9999
    return iso;
  }

  private static String offsetTime(String text) {
    String iso = withFullOffset(text);
    OffsetTime.parse(iso);
    return iso;
  }

  private static OffsetDateTime offsetDateTime(String text) {
    return OffsetDateTime.parse(withFullOffset(text.replace(' ', 'T')))
        .withOffsetSameInstant(ZoneOffset.UTC);
  }

  /** PostgreSQL writes offsets as +HH, +HH:MM or +HH:MM:SS; java.time wants +HH:MM[:SS]. */
  private static String withFullOffset(String text) {
    Matcher m = OFFSET.matcher(text);
    if (!m.find()) {
      return text;
    }
    String offset =
        m.group(1)
            + ":"
            + (m.group(2) == null ? "00" : m.group(2))
            + (m.group(3) == null ? "" : ":" + m.group(3));
    return text.substring(0, m.start()) + offset;
  }

  /** bytea's hex output ({@code \x0a0b}), or the old escape output as a fallback. */
  static byte[] bytea(String text) {
    if (text.startsWith("\\x")) {
      return HexFormat.of().parseHex(text.substring(2));
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' && i + 1 < text.length() && text.charAt(i + 1) == '\\') {
        out.write('\\');
        i++;
      } else if (c == '\\' && i + 3 < text.length()) {
        out.write(Integer.parseInt(text.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.write(c);
      }
    }
    return out.toByteArray();
  }

  /**
   * An array literal: {@code {1,2,NULL}}, {@code {"a b",c}}, {@code {{1,2},{3,4}}}, optionally
   * preceded by dimension bounds ({@code [0:1]={...}}), which are dropped.
   */
  static JsonNode array(int elementOid, String text) {
    int start = text.indexOf('{');
    if (start < 0 || (start > 0 && !text.startsWith("["))) {
      throw new IllegalArgumentException("not an array literal");
    }
    int[] pos = {start};
    JsonNode result = parseArray(elementOid, text, pos);
    if (pos[0] != text.length()) {
      throw new IllegalArgumentException("text after the array");
    }
    return result;
  }

  private static ArrayNode parseArray(int elementOid, String text, int[] pos) {
    ArrayNode array = NODES.arrayNode();
    expect(text, pos, '{');
    if (peek(text, pos) == '}') {
      pos[0]++;
      return array;
    }
    while (true) {
      char c = peek(text, pos);
      if (c == '{') {
        array.add(parseArray(elementOid, text, pos));
      } else if (c == '"') {
        array.add(scalar(elementOid, quoted(text, pos)));
      } else {
        String raw = unquoted(text, pos);
        array.add(raw.equalsIgnoreCase("NULL") ? NODES.nullNode() : scalar(elementOid, raw));
      }
      char next = peek(text, pos);
      pos[0]++;
      if (next == '}') {
        return array;
      }
      if (next != ',') {
        throw new IllegalArgumentException("expected , or } in an array");
      }
    }
  }

  private static String quoted(String text, int[] pos) {
    StringBuilder out = new StringBuilder();
    pos[0]++; // the opening quote
    while (pos[0] < text.length()) {
      char c = text.charAt(pos[0]++);
      if (c == '\\' && pos[0] < text.length()) {
        out.append(text.charAt(pos[0]++));
      } else if (c == '"') {
        return out.toString();
      } else {
        out.append(c);
      }
    }
    throw new IllegalArgumentException("an unterminated quoted array element");
  }

  private static String unquoted(String text, int[] pos) {
    int start = pos[0];
    while (pos[0] < text.length() && text.charAt(pos[0]) != ',' && text.charAt(pos[0]) != '}') {
      pos[0]++;
    }
    return text.substring(start, pos[0]).trim();
  }

  private static char peek(String text, int[] pos) {
    if (pos[0] >= text.length()) {
      throw new IllegalArgumentException("the array ends early");
    }
    return text.charAt(pos[0]);
  }

  private static void expect(String text, int[] pos, char c) {
    if (peek(text, pos) != c) {
      throw new IllegalArgumentException("expected " + c);
    }
    pos[0]++;
  }
}
