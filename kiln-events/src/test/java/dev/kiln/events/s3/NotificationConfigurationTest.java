package dev.kiln.events.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class NotificationConfigurationTest {

  private static final String FN = "arn:aws:lambda:us-east-1:000000000000:function:thumbs";

  static NotificationConfiguration parse(String xml) {
    return NotificationConfiguration.parse(xml.getBytes(StandardCharsets.UTF_8));
  }

  static String function(String id, String events, String filter) {
    return "<CloudFunctionConfiguration>"
        + (id.isEmpty() ? "" : "<Id>" + id + "</Id>")
        + "<CloudFunction>"
        + FN
        + "</CloudFunction>"
        + events
        + filter
        + "</CloudFunctionConfiguration>";
  }

  static String config(String... parts) {
    return "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + String.join("", parts)
        + "</NotificationConfiguration>";
  }

  static String filter(String prefix, String suffix) {
    return "<Filter><S3Key><FilterRule><Name>prefix</Name><Value>"
        + prefix
        + "</Value></FilterRule><FilterRule><Name>suffix</Name><Value>"
        + suffix
        + "</Value></FilterRule></S3Key></Filter>";
  }

  @Test
  void aConfiguration_isRead_andWrittenBackAsS3AnswersIt() {
    NotificationConfiguration c =
        parse(
            config(
                function("thumbs", "<Event>s3:ObjectCreated:*</Event>", filter("uploads/", ".jpg")),
                "<EventBridgeConfiguration/>"));
    assertThat(c.eventBridge()).isTrue();
    assertThat(c.functions()).hasSize(1);
    NotificationConfiguration.FunctionConfiguration f = c.functions().get(0);
    assertThat(f.id()).isEqualTo("thumbs");
    assertThat(f.functionArn()).isEqualTo(FN);
    assertThat(f.events()).containsExactly("s3:ObjectCreated:*");
    assertThat(f.prefix()).isEqualTo("uploads/");
    assertThat(f.suffix()).isEqualTo(".jpg");
    String xml = c.toXml();
    assertThat(xml)
        .contains("<CloudFunctionConfiguration><Id>thumbs</Id><CloudFunction>" + FN)
        .contains("<FilterRule><Name>Prefix</Name><Value>uploads/</Value></FilterRule>")
        .contains("<EventBridgeConfiguration/>");
    assertThat(NotificationConfiguration.parse(xml.getBytes(StandardCharsets.UTF_8))).isEqualTo(c);
  }

  @Test
  void aConfigurationWithoutId_getsOne() {
    NotificationConfiguration c =
        parse(config(function("", "<Event>s3:ObjectRemoved:*</Event>", "")));
    assertThat(c.functions().get(0).id()).isNotBlank();
  }

  @Test
  void events_matchExactly_orByWildcard_andKeysByPrefixAndSuffix() {
    NotificationConfiguration.FunctionConfiguration f =
        parse(
                config(
                    function(
                        "t",
                        "<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:Delete</Event>",
                        filter("uploads/", ".jpg"))))
            .functions()
            .get(0);
    assertThat(f.matches("ObjectCreated:Put", "uploads/cat.jpg")).isTrue();
    assertThat(f.matches("ObjectCreated:CompleteMultipartUpload", "uploads/a/b.jpg")).isTrue();
    assertThat(f.matches("ObjectRemoved:Delete", "uploads/cat.jpg")).isTrue();
    assertThat(f.matches("ObjectRemoved:DeleteMarkerCreated", "uploads/cat.jpg")).isFalse();
    assertThat(f.matches("ObjectCreated:Put", "other/cat.jpg")).isFalse();
    assertThat(f.matches("ObjectCreated:Put", "uploads/cat.png")).isFalse();
    assertThat(f.matches("ObjectRestore:Completed", "uploads/cat.jpg")).isFalse();
  }

  @Test
  void anEmptyConfiguration_isEmpty() {
    assertThat(parse(config()).isEmpty()).isTrue();
    assertThat(parse("<NotificationConfiguration/>").isEmpty()).isTrue();
  }

  @Test
  void badConfigurations_getS3sErrors() {
    assertS3Error("<NotificationConfiguration>", "MalformedXML", "not well-formed");
    assertS3Error("<Other/>", "MalformedXML", "not well-formed");
    assertS3Error(
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><NotificationConfiguration/>",
        "MalformedXML",
        "not well-formed");
    assertS3Error(config(function("a", "", "")), "MalformedXML", "not well-formed");
    assertS3Error(
        config(function("a", "<Event>s3:ObjectCreated:Everything</Event>", "")),
        "InvalidArgument",
        "The event is not supported for notifications");
    assertS3Error(
        config(
            function(
                "a",
                "<Event>s3:ObjectCreated:*</Event>",
                "<Filter><S3Key><FilterRule><Name>middle</Name><Value>x</Value></FilterRule></S3Key></Filter>")),
        "InvalidArgument",
        "filter rule name must be either prefix or suffix");
    assertS3Error(
        config(
            function("a", "<Event>s3:ObjectCreated:*</Event>", filter("uploads/", "")),
            function("b", "<Event>s3:ObjectCreated:Put</Event>", filter("uploads/raw/", ""))),
        "InvalidArgument",
        "Configurations overlap");
    assertS3Error(
        config(
            function("a", "<Event>s3:ObjectCreated:*</Event>", ""),
            function("a", "<Event>s3:ObjectRemoved:*</Event>", "")),
        "InvalidArgument",
        "Configuration ID must be unique");
    assertS3Error(
        config(
            "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"),
        "InvalidArgument",
        "Unable to validate the following destination configurations");
  }

  @Test
  void distinctPrefixes_doNotOverlap() {
    NotificationConfiguration c =
        parse(
            config(
                function("a", "<Event>s3:ObjectCreated:*</Event>", filter("images/", "")),
                function("b", "<Event>s3:ObjectCreated:*</Event>", filter("videos/", ""))));
    assertThat(c.functions()).hasSize(2);
  }

  private static void assertS3Error(String xml, String code, String message) {
    assertThatThrownBy(() -> parse(xml))
        .isInstanceOfSatisfying(
            S3Error.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.code()).isEqualTo(code);
              assertThat(e.getMessage()).contains(message);
            });
  }
}
