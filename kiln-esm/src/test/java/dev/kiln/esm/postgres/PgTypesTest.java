package dev.kiln.esm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class PgTypesTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static String json(int oid, String text) throws Exception {
    return JSON.writeValueAsString(PgTypes.toJson(oid, text));
  }

  @Test
  void numbersBooleansAndNumericAsText() throws Exception {
    assertThat(json(PgTypes.INT2, "-7")).isEqualTo("-7");
    assertThat(json(PgTypes.INT4, "2147483647")).isEqualTo("2147483647");
    assertThat(json(PgTypes.INT8, "9223372036854775807")).isEqualTo("9223372036854775807");
    assertThat(json(PgTypes.FLOAT8, "1.5e-07")).isEqualTo("1.5E-7");
    assertThat(json(PgTypes.FLOAT4, "NaN")).isEqualTo("\"NaN\"");
    assertThat(json(PgTypes.FLOAT8, "-Infinity")).isEqualTo("\"-Infinity\"");
    assertThat(json(PgTypes.NUMERIC, "12.50")).isEqualTo("\"12.50\"");
    assertThat(json(PgTypes.BOOL, "t")).isEqualTo("true");
    assertThat(json(PgTypes.BOOL, "f")).isEqualTo("false");
  }

  @Test
  void jsonIsParsedAndByteaIsBase64() throws Exception {
    assertThat(json(PgTypes.JSONB, "{\"a\": [1, \"x\", null]}"))
        .isEqualTo("{\"a\":[1,\"x\",null]}");
    assertThat(json(PgTypes.JSON, "not json")).isEqualTo("\"not json\"");
    assertThat(json(PgTypes.BYTEA, "\\x00ff10")).isEqualTo("\"AP8Q\"");
    assertThat(json(PgTypes.BYTEA, "a\\\\b\\001")).isEqualTo("\"YVxiAQ==\"");
  }

  @Test
  void datesAndTimesAreIso8601() throws Exception {
    assertThat(json(PgTypes.TIMESTAMP, "2024-05-01 10:15:30.5"))
        .isEqualTo("\"2024-05-01T10:15:30.5\"");
    assertThat(json(PgTypes.TIMESTAMP, "2024-05-01 10:15:00")).isEqualTo("\"2024-05-01T10:15:00\"");
    assertThat(json(PgTypes.TIMESTAMPTZ, "2024-05-01 10:15:30.25+02"))
        .isEqualTo("\"2024-05-01T08:15:30.250Z\"");
    assertThat(json(PgTypes.TIMESTAMPTZ, "2024-05-01 10:15:30+05:30"))
        .isEqualTo("\"2024-05-01T04:45:30Z\"");
    assertThat(json(PgTypes.TIMESTAMPTZ, "infinity")).isEqualTo("\"infinity\"");
    assertThat(json(PgTypes.TIMESTAMP, "0044-03-15 12:00:00 BC"))
        .isEqualTo("\"0044-03-15 12:00:00 BC\"");
    assertThat(json(PgTypes.DATE, "2024-05-01")).isEqualTo("\"2024-05-01\"");
    assertThat(json(PgTypes.TIMETZ, "10:15:30-07")).isEqualTo("\"10:15:30-07:00\"");
    assertThat(json(PgTypes.INTERVAL, "P1Y2M3DT4H")).isEqualTo("\"P1Y2M3DT4H\"");
  }

  @Test
  void textLikeTypesStayStrings() throws Exception {
    assertThat(json(PgTypes.TEXT, "héllo")).isEqualTo("\"héllo\"");
    assertThat(json(PgTypes.UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        .isEqualTo("\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    assertThat(json(16390, "happy")).as("an enum").isEqualTo("\"happy\"");
  }

  @Test
  void arraysOfMappedTypesAreJsonArrays() throws Exception {
    assertThat(json(1007, "{1,2,NULL}")).isEqualTo("[1,2,null]");
    assertThat(json(1009, "{\"a b\",c,\"say \\\"hi\\\"\",\"NULL\"}"))
        .isEqualTo("[\"a b\",\"c\",\"say \\\"hi\\\"\",\"NULL\"]");
    assertThat(json(1007, "{{1,2},{3,4}}")).isEqualTo("[[1,2],[3,4]]");
    assertThat(json(1000, "{t,f}")).isEqualTo("[true,false]");
    assertThat(json(1231, "{1.10,2}")).isEqualTo("[\"1.10\",\"2\"]");
    assertThat(json(1007, "{}")).isEqualTo("[]");
    assertThat(json(1007, "[0:1]={5,6}")).isEqualTo("[5,6]");
    JsonNode broken = PgTypes.toJson(1007, "{1,2");
    assertThat(broken.isTextual()).as("an array it cannot read stays text").isTrue();
  }
}
