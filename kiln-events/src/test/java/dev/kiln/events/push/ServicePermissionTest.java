package dev.kiln.events.push;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ServicePermissionTest {

  @Test
  void arnLike_matchesWildcards_andNothingElse() {
    String arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:DiskFull";
    assertThat(ServicePermission.arnLike(arn, arn)).isTrue();
    assertThat(ServicePermission.arnLike("arn:aws:cloudwatch:*:*:alarm:Disk*", arn)).isTrue();
    assertThat(
            ServicePermission.arnLike(
                "arn:aws:cloudwatch:us-east-1:000000000000:alarm:Disk?ull", arn))
        .isTrue();
    assertThat(ServicePermission.arnLike("arn:aws:cloudwatch:*:*:alarm:Cpu*", arn)).isFalse();
    assertThat(ServicePermission.arnLike("arn:aws:s3:::photos", "arn:aws:s3:::photos2")).isFalse();
    assertThat(ServicePermission.arnLike("arn:aws:s3:::ph.tos", "arn:aws:s3:::photos"))
        .as("a dot is no wildcard")
        .isFalse();
  }
}
