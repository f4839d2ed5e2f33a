package dev.kiln.iam;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WildcardsTest {

  @Test
  void globs() {
    assertThat(Wildcards.matches("*", "", false)).isTrue();
    assertThat(Wildcards.matches("a*c", "abbbc", false)).isTrue();
    assertThat(Wildcards.matches("a*c", "abbb", false)).isFalse();
    assertThat(Wildcards.matches("a?c", "abc", false)).isTrue();
    assertThat(Wildcards.matches("a?c", "ac", false)).isFalse();
    assertThat(Wildcards.matches("*b*b*", "abab", false)).isTrue();
    assertThat(Wildcards.matches("A*", "abc", false)).isFalse();
    assertThat(Wildcards.matches("A*", "abc", true)).isTrue();
    // no exponential backtracking on a hostile pattern
    assertThat(Wildcards.matches("*a*a*a*a*a*a*a*a*b", "a".repeat(5000), false)).isFalse();
  }

  @Test
  void arnsMatchPartByPart() {
    assertThat(
            Wildcards.arnMatches(
                "arn:aws:lambda:*:1:function:*", "arn:aws:lambda:us-east-1:1:function:f:prod"))
        .isTrue();
    // a star in the region part does not reach into the account
    assertThat(
            Wildcards.arnMatches(
                "arn:aws:lambda:*:function:f", "arn:aws:lambda:us-east-1:1:function:f"))
        .isFalse();
    assertThat(
            Wildcards.arnMatches(
                "arn:aws:lambda:us-east-1:1:function:f", "arn:aws:lambda:us-east-1:1:function:f:1"))
        .isFalse();
    assertThat(Wildcards.arnMatches("*", "anything")).isTrue();
  }
}
