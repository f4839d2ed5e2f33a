package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.store.IamStore.Policy;
import dev.kiln.store.IamStore.PolicyVersion;
import dev.kiln.store.IamStore.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What only the SQLite IAM store has to show: what it stored is there when the file is opened
 * again, down to the order of tags and attachments and the next version id to issue. What every IAM
 * store promises is {@code IamStoreContract}, run against this store in kiln-testing.
 */
class SqliteIamStoreTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00.123Z");
  private static final Instant T1 = Instant.parse("2026-01-02T00:00:00.456Z");
  private static final String ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess";
  private static final String MINE = "arn:aws:iam::000000000000:policy/Durable";

  @Test
  void everythingSurvivesReopening() throws Exception {
    Path file = Files.createTempDirectory("kiln-store-").resolve("iam.db");
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("z", "last letter");
    tags.put("a", "first letter");
    Role role = new Role("Durable", "AROADURABLE", "/svc/", "{\"trust\":1}", null, 7200, T0, tags);
    Policy policy = new Policy("Durable", "ANPADURABLE", "/svc/", "kept", "v1", T0, T0, tags);
    PolicyVersion v2;
    try (SqliteIamStore store = SqliteIamStore.open(file, InstantSource.fixed(T1))) {
      store.createRole(role);
      store.putRolePolicy("Durable", "inline", "{\"inline\":1}");
      store.attachRolePolicy("Durable", MINE);
      store.attachRolePolicy("Durable", ARN);
      store.createPolicy(policy, "{\"v\":1}");
      v2 = store.createPolicyVersion("Durable", "{\"v\":2}", true);
      store.createPolicyVersion("Durable", "{\"v\":3}", false);
      store.deletePolicyVersion("Durable", "v3");
    }
    try (SqliteIamStore store = SqliteIamStore.open(file, InstantSource.fixed(T1))) {
      assertThat(store.role("durable")).hasValue(role);
      assertThat(store.role("durable").orElseThrow().tags().keySet()).containsExactly("z", "a");
      assertThat(store.rolePolicy("DURABLE", "inline")).hasValue("{\"inline\":1}");
      assertThat(store.attachedRolePolicies("Durable")).containsExactly(MINE, ARN);
      assertThat(store.attachmentCount(ARN)).isEqualTo(1);
      assertThat(store.policy("durable"))
          .hasValue(new Policy("Durable", "ANPADURABLE", "/svc/", "kept", "v2", T0, T1, tags));
      assertThat(store.policyVersions("Durable"))
          .containsExactly(new PolicyVersion("v1", "{\"v\":1}", false, T0), v2);
      assertThat(store.createPolicyVersion("Durable", "{}", false).versionId())
          .as("v3 was issued before the reopening, and is not issued again")
          .isEqualTo("v4");
      store.check();
    }
  }

  @Test
  void storageOpensTheIamStoreAsIamDb_besideTheOthers() throws Exception {
    Path dir = Files.createTempDirectory("kiln-store-");
    try (Storage storage = Storage.open(Storage.DEFAULT, dir, InstantSource.fixed(T1))) {
      storage.iam().createRole(new Role("r", "AROAR", "/", "{}", null, 3600, T0, Map.of()));
    }
    assertThat(dir.resolve("iam.db")).exists();
    try (Storage storage =
        Storage.open("sqlite:" + dir, dir.resolve("unused"), InstantSource.fixed(T1))) {
      assertThat(storage.iam().role("R")).isPresent();
    }
  }
}
