package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.store.IamStore;
import dev.kiln.store.IamStore.Policy;
import dev.kiln.store.IamStore.PolicyVersion;
import dev.kiln.store.IamStore.Role;
import dev.kiln.store.StorageException;
import dev.kiln.store.StorageException.Entity;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link IamStore} promises, as tests, on a {@link ManualTime} clock: extend this class
 * with {@link #newStore} returning an empty store of your implementation that stamps times by the
 * clock given, and it is checked method by method, outcomes included (already exists, not found,
 * the refusal to delete a default version): names that ignore case, tags that merge in order,
 * deleting a role with what goes with it, version ids never issued twice, and a generation that
 * moves on every write and on nothing else. The SQLite store and the in-memory one run it in
 * kiln-testing's own tests; a PostgreSQL store runs it from its module.
 */
public abstract class IamStoreContract {

  protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  protected static final String TRUST =
      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
          + "\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
  protected static final String DOC =
      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
          + "\"Action\":\"logs:*\",\"Resource\":\"*\"}]}";
  protected static final String ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess";
  protected static final String OTHER_ARN = "arn:aws:iam::000000000000:policy/mine";

  protected final ManualTime time = new ManualTime(Instant.parse("2026-02-01T00:00:00Z"));
  protected IamStore store;

  /** A new, empty store stamping times by {@code clock}; closed after each test. */
  protected abstract IamStore newStore(InstantSource clock);

  @BeforeEach
  void openStore() {
    store = newStore(time);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  protected static Role role(String name) {
    return role(name, "/");
  }

  protected static Role role(String name, String path) {
    return new Role(
        name, "AROA" + name.toUpperCase(), path, TRUST, "the " + name, 3600, T0, Map.of());
  }

  protected static Policy policy(String name) {
    return policy(name, "/");
  }

  protected static Policy policy(String name, String path) {
    return new Policy(
        name, "ANPA" + name.toUpperCase(), path, "about " + name, "v1", T0, T0, Map.of());
  }

  /** Tags in the order given: key, value, key, value, ... */
  protected static Map<String, String> tags(String... kv) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      out.put(kv[i], kv[i + 1]);
    }
    return out;
  }

  private static void assertRefused(
      ThrowingCallable call, Class<? extends StorageException> outcome, Entity entity, String key) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            outcome,
            e -> {
              assertThat(e.entity()).isEqualTo(entity);
              assertThat(e.key()).isEqualTo(key);
            });
  }

  private void assertNoRole(ThrowingCallable call) {
    assertRefused(call, StorageException.NotFound.class, Entity.ROLE, "nobody");
  }

  private void assertNoPolicy(ThrowingCallable call) {
    assertRefused(call, StorageException.NotFound.class, Entity.IAM_POLICY, "nothing");
  }

  // roles

  @Test
  void createRole_thenReadsBackTheWholeRole_byAnySpellingOfItsName() {
    Role r =
        new Role(
            "Deployer",
            "AROAEXAMPLE",
            "/ci/",
            TRUST,
            "deploys",
            7200,
            T0,
            tags("team", "a", "env", "prod"));
    store.createRole(r);
    assertThat(store.role("Deployer")).hasValue(r);
    assertThat(store.role("deployer")).hasValue(r);
    assertThat(store.role("DEPLOYER").orElseThrow().name())
        .as("the stored spelling")
        .isEqualTo("Deployer");
    assertThat(store.role("other")).isEmpty();
  }

  @Test
  void createRole_keepsANullDescription_andTheTagsInTheOrderGiven() {
    Map<String, String> tags = tags("z", "1", "a", "2", "m", "3");
    Role r = new Role("r", "AROAR", "/", TRUST, null, 3600, T0, tags);
    store.createRole(r);
    Role read = store.role("r").orElseThrow();
    assertThat(read.description()).isNull();
    assertThat(read.tags().keySet()).containsExactly("z", "a", "m");
    assertThat(read).isEqualTo(r);
  }

  @Test
  void createRole_whenTheNameIsTakenInAnySpelling_isAlreadyExistsAndKeepsTheFirst() {
    Role first = role("Admin");
    store.createRole(first);
    assertRefused(
        () -> store.createRole(role("ADMIN")),
        StorageException.AlreadyExists.class,
        Entity.ROLE,
        "ADMIN");
    assertThat(store.role("admin")).hasValue(first);
    assertThat(store.roles("/")).containsExactly(first);
  }

  @Test
  void timestamps_areKeptToTheMillisecond_andReadBackExactlyAsStored() {
    Instant precise = Instant.parse("2026-03-04T05:06:07.123456789Z");
    Instant millis = Instant.parse("2026-03-04T05:06:07.123Z");
    Role r = new Role("t", "AROAT", "/", TRUST, null, 3600, precise, Map.of());
    store.createRole(r);
    assertThat(store.role("t").orElseThrow().created()).isEqualTo(millis);
    assertThat(store.role("t").orElseThrow().created()).isEqualTo(millis);

    Policy p =
        new Policy("p", "ANPAP", "/", null, "v1", precise, precise.plusMillis(5), Map.of("k", "v"));
    store.createPolicy(p, DOC);
    Policy read = store.policy("p").orElseThrow();
    assertThat(read.created()).isEqualTo(millis);
    assertThat(read.updated()).isEqualTo(millis.plusMillis(5));
    assertThat(store.policyVersion("p", "v1").orElseThrow().created()).isEqualTo(millis);

    time.advance(Duration.ofMillis(42).plusNanos(999_999));
    PolicyVersion v2 = store.createPolicyVersion("p", DOC, false);
    Instant now = Instant.parse("2026-02-01T00:00:00.042Z");
    assertThat(v2.created()).isEqualTo(now);
    assertThat(store.policyVersion("p", "v2")).hasValue(v2);
    assertThat(store.policy("p").orElseThrow().updated()).isEqualTo(now);
  }

  @Test
  void roles_areThoseUnderThePathPrefix_byNameIgnoringCase() {
    Role b = role("b", "/");
    Role a = role("A", "/team/");
    Role c = role("c", "/team/x/");
    Role d = role("D", "/other/");
    store.createRole(c);
    store.createRole(b);
    store.createRole(d);
    store.createRole(a);
    assertThat(store.roles("/")).containsExactly(a, b, c, d);
    assertThat(store.roles("/team/")).containsExactly(a, c);
    assertThat(store.roles("/tea")).as("a prefix of the text").containsExactly(a, c);
    assertThat(store.roles("/team/x/")).containsExactly(c);
    assertThat(store.roles("/none/")).isEmpty();
  }

  @Test
  void updateAssumeRolePolicy_replacesTheTrustPolicyAlone() {
    Role r = role("r");
    store.createRole(r);
    store.updateAssumeRolePolicy("R", "{\"new\":true}");
    assertThat(store.role("r"))
        .hasValue(
            new Role("r", r.roleId(), "/", "{\"new\":true}", r.description(), 3600, T0, Map.of()));
    assertNoRole(() -> store.updateAssumeRolePolicy("nobody", TRUST));
  }

  @Test
  void updateRole_changesOnlyWhatIsPresent() {
    store.createRole(role("r"));
    store.updateRole("r", Optional.of("new words"), OptionalInt.empty());
    assertThat(store.role("r").orElseThrow().description()).isEqualTo("new words");
    assertThat(store.role("r").orElseThrow().maxSessionDuration()).isEqualTo(3600);

    store.updateRole("R", Optional.empty(), OptionalInt.of(43200));
    assertThat(store.role("r").orElseThrow().description()).isEqualTo("new words");
    assertThat(store.role("r").orElseThrow().maxSessionDuration()).isEqualTo(43200);

    store.updateRole("r", Optional.of(""), OptionalInt.of(3600));
    assertThat(store.role("r").orElseThrow().description()).isEmpty();
    assertThat(store.role("r").orElseThrow().maxSessionDuration()).isEqualTo(3600);

    Role before = store.role("r").orElseThrow();
    store.updateRole("r", Optional.empty(), OptionalInt.empty());
    assertThat(store.role("r")).hasValue(before);
    assertNoRole(() -> store.updateRole("nobody", Optional.of("x"), OptionalInt.empty()));
  }

  @Test
  void tagRole_merges_aKeyEqualIgnoringCaseReplacesItInPlace_newOnesFollowInOrder() {
    store.createRole(
        new Role("r", "AROAR", "/", TRUST, null, 3600, T0, tags("Team", "a", "env", "dev")));
    store.tagRole("R", tags("owner", "me", "TEAM", "b", "cost", "1"));
    assertThat(store.role("r").orElseThrow().tags())
        .containsExactly(
            Map.entry("TEAM", "b"),
            Map.entry("env", "dev"),
            Map.entry("owner", "me"),
            Map.entry("cost", "1"));
    store.tagRole("r", Map.of());
    assertThat(store.role("r").orElseThrow().tags()).hasSize(4);
    assertNoRole(() -> store.tagRole("nobody", Map.of("k", "v")));
  }

  @Test
  void untagRole_removesKeysIgnoringCase_andIgnoresAbsentOnes() {
    store.createRole(
        new Role("r", "AROAR", "/", TRUST, null, 3600, T0, tags("a", "1", "B", "2", "c", "3")));
    store.untagRole("r", List.of("b", "absent"));
    assertThat(store.role("r").orElseThrow().tags())
        .containsExactly(Map.entry("a", "1"), Map.entry("c", "3"));
    store.untagRole("R", Set.of("A", "C"));
    assertThat(store.role("r").orElseThrow().tags()).isEmpty();
    store.untagRole("r", List.of("gone"));
    assertNoRole(() -> store.untagRole("nobody", List.of("a")));
  }

  @Test
  void deleteRole_removesItWithItsInlinePoliciesAndAttachments() {
    store.createRole(role("r"));
    store.createRole(role("keep"));
    store.putRolePolicy("r", "inline", DOC);
    store.attachRolePolicy("r", ARN);
    store.attachRolePolicy("keep", ARN);
    assertThat(store.attachmentCount(ARN)).isEqualTo(2);

    store.deleteRole("R");
    assertThat(store.role("r")).isEmpty();
    assertThat(store.roles("/")).extracting(Role::name).containsExactly("keep");
    assertThat(store.rolePolicy("r", "inline")).isEmpty();
    assertThat(store.rolePolicyNames("r")).isEmpty();
    assertThat(store.attachedRolePolicies("r")).isEmpty();
    assertThat(store.attachmentCount(ARN)).isEqualTo(1);

    store.createRole(role("r"));
    assertThat(store.rolePolicyNames("r")).as("a new role of the name starts bare").isEmpty();
    assertThat(store.attachedRolePolicies("r")).isEmpty();
    assertNoRole(() -> store.deleteRole("nobody"));
  }

  // inline policies

  @Test
  void putRolePolicy_insertsOrReplaces_andNamesListSorted() {
    store.createRole(role("r"));
    store.putRolePolicy("r", "b", DOC);
    store.putRolePolicy("R", "a", "{\"a\":1}");
    store.putRolePolicy("r", "c", DOC);
    store.putRolePolicy("r", "a", "{\"a\":2}");
    assertThat(store.rolePolicy("r", "a")).hasValue("{\"a\":2}");
    assertThat(store.rolePolicy("R", "b")).hasValue(DOC);
    assertThat(store.rolePolicyNames("R")).containsExactly("a", "b", "c");
    assertThat(store.rolePolicy("r", "none")).isEmpty();
    assertThat(store.rolePolicy("nobody", "a")).isEmpty();
    assertThat(store.rolePolicyNames("nobody")).isEmpty();
    assertNoRole(() -> store.putRolePolicy("nobody", "a", DOC));
  }

  @Test
  void deleteRolePolicy_removesIt_orIsNotFound_asTheRolePolicyOrTheRole() {
    store.createRole(role("r"));
    store.putRolePolicy("r", "a", DOC);
    store.putRolePolicy("r", "b", DOC);
    store.deleteRolePolicy("R", "a");
    assertThat(store.rolePolicyNames("r")).containsExactly("b");
    assertThat(store.rolePolicy("r", "a")).isEmpty();
    assertRefused(
        () -> store.deleteRolePolicy("r", "a"),
        StorageException.NotFound.class,
        Entity.ROLE_POLICY,
        "r/a");
    assertNoRole(() -> store.deleteRolePolicy("nobody", "b"));
    assertThat(store.rolePolicyNames("r")).containsExactly("b");
  }

  // attachments

  @Test
  void attachRolePolicy_keepsTheOrderAttached_andAttachingAgainChangesNothing() {
    store.createRole(role("r"));
    store.attachRolePolicy("r", OTHER_ARN);
    store.attachRolePolicy("R", ARN);
    store.attachRolePolicy("r", OTHER_ARN);
    assertThat(store.attachedRolePolicies("R")).containsExactly(OTHER_ARN, ARN);
    assertThat(store.attachmentCount(OTHER_ARN)).isEqualTo(1);
    assertThat(store.attachedRolePolicies("nobody")).isEmpty();
    assertNoRole(() -> store.attachRolePolicy("nobody", ARN));
  }

  @Test
  void detachRolePolicy_removesIt_orIsNotFound_asTheAttachmentOrTheRole() {
    store.createRole(role("r"));
    store.attachRolePolicy("r", ARN);
    store.attachRolePolicy("r", OTHER_ARN);
    store.detachRolePolicy("R", ARN);
    assertThat(store.attachedRolePolicies("r")).containsExactly(OTHER_ARN);
    assertRefused(
        () -> store.detachRolePolicy("r", ARN),
        StorageException.NotFound.class,
        Entity.ROLE_POLICY_ATTACHMENT,
        ARN);
    assertNoRole(() -> store.detachRolePolicy("nobody", OTHER_ARN));
    store.attachRolePolicy("r", ARN);
    assertThat(store.attachedRolePolicies("r"))
        .as("attached again, it comes last")
        .containsExactly(OTHER_ARN, ARN);
  }

  @Test
  void attachmentCount_countsTheRolesWithExactlyThatArn() {
    store.createRole(role("a"));
    store.createRole(role("b"));
    store.createRole(role("c"));
    store.attachRolePolicy("a", ARN);
    store.attachRolePolicy("b", ARN);
    store.attachRolePolicy("c", OTHER_ARN);
    assertThat(store.attachmentCount(ARN)).isEqualTo(2);
    assertThat(store.attachmentCount(OTHER_ARN)).isEqualTo(1);
    assertThat(store.attachmentCount(ARN.toUpperCase())).isZero();
    assertThat(store.attachmentCount("arn:aws:iam::aws:policy/None")).isZero();
  }

  // customer managed policies

  @Test
  void createPolicy_storesVersion1AsTheDefault_andReadsBackByAnySpelling() {
    Policy p =
        new Policy(
            "Writers",
            "ANPAW",
            "/app/",
            "lets them write",
            "ignored",
            T0,
            T0.plusSeconds(1),
            tags("k", "v", "a", "b"));
    store.createPolicy(p, DOC);
    Policy expected =
        new Policy(
            "Writers",
            "ANPAW",
            "/app/",
            "lets them write",
            "v1",
            T0,
            T0.plusSeconds(1),
            tags("k", "v", "a", "b"));
    assertThat(store.policy("writers")).hasValue(expected);
    assertThat(store.policy("WRITERS").orElseThrow().tags().keySet()).containsExactly("k", "a");
    assertThat(store.policyVersions("Writers"))
        .containsExactly(new PolicyVersion("v1", DOC, true, T0));
    assertThat(store.policyVersion("wRiTeRs", "v1"))
        .hasValue(new PolicyVersion("v1", DOC, true, T0));
    assertThat(store.policy("other")).isEmpty();
  }

  @Test
  void createPolicy_whenTheNameIsTakenInAnySpelling_isAlreadyExistsAndKeepsTheFirst() {
    store.createPolicy(policy("p"), DOC);
    assertRefused(
        () -> store.createPolicy(policy("P", "/elsewhere/"), "{}"),
        StorageException.AlreadyExists.class,
        Entity.IAM_POLICY,
        "P");
    assertThat(store.policy("p").orElseThrow().path()).isEqualTo("/");
    assertThat(store.policyVersions("p")).extracting(PolicyVersion::document).containsExactly(DOC);
  }

  @Test
  void policies_areThoseUnderThePathPrefix_byNameIgnoringCase() {
    store.createPolicy(policy("c", "/x/y/"), DOC);
    store.createPolicy(policy("B", "/"), DOC);
    store.createPolicy(policy("a", "/x/"), DOC);
    assertThat(store.policies("/")).extracting(Policy::name).containsExactly("a", "B", "c");
    assertThat(store.policies("/x/")).extracting(Policy::name).containsExactly("a", "c");
    assertThat(store.policies("/x/y/")).extracting(Policy::name).containsExactly("c");
    assertThat(store.policies("/z/")).isEmpty();
  }

  @Test
  void tagPolicy_andUntagPolicy_workAsOnRoles() {
    store.createPolicy(
        new Policy("p", "ANPAP", "/", null, "v1", T0, T0, tags("One", "1", "two", "2")), DOC);
    store.tagPolicy("P", tags("three", "3", "ONE", "first"));
    assertThat(store.policy("p").orElseThrow().tags())
        .containsExactly(Map.entry("ONE", "first"), Map.entry("two", "2"), Map.entry("three", "3"));
    store.untagPolicy("p", List.of("TWO", "absent"));
    assertThat(store.policy("p").orElseThrow().tags())
        .containsExactly(Map.entry("ONE", "first"), Map.entry("three", "3"));
    assertThat(store.policy("p").orElseThrow().updated())
        .as("tags are not the document")
        .isEqualTo(T0);
    assertNoPolicy(() -> store.tagPolicy("nothing", Map.of("k", "v")));
    assertNoPolicy(() -> store.untagPolicy("nothing", List.of("k")));
  }

  @Test
  void createPolicyVersion_numbersOnFromTheHighest_andBecomesTheDefaultOnlyWhenAsked() {
    store.createPolicy(policy("p"), DOC);
    time.advance(Duration.ofSeconds(10));
    Instant t1 = time.instant();
    PolicyVersion v2 = store.createPolicyVersion("P", "{\"v\":2}", false);
    assertThat(v2).isEqualTo(new PolicyVersion("v2", "{\"v\":2}", false, t1));
    assertThat(store.policy("p").orElseThrow().defaultVersionId()).isEqualTo("v1");
    assertThat(store.policy("p").orElseThrow().updated()).isEqualTo(t1);

    time.advance(Duration.ofSeconds(10));
    Instant t2 = time.instant();
    PolicyVersion v3 = store.createPolicyVersion("p", "{\"v\":3}", true);
    assertThat(v3).isEqualTo(new PolicyVersion("v3", "{\"v\":3}", true, t2));
    Policy now = store.policy("p").orElseThrow();
    assertThat(now.defaultVersionId()).isEqualTo("v3");
    assertThat(now.updated()).isEqualTo(t2);
    assertThat(now.created()).isEqualTo(T0);
    assertThat(store.policyVersions("p"))
        .containsExactly(
            new PolicyVersion("v1", DOC, false, T0),
            new PolicyVersion("v2", "{\"v\":2}", false, t1),
            new PolicyVersion("v3", "{\"v\":3}", true, t2));
    assertNoPolicy(() -> store.createPolicyVersion("nothing", DOC, true));
  }

  @Test
  void versionIds_areNeverIssuedAgain_evenAfterTheHighestIsDeleted() {
    store.createPolicy(policy("p"), DOC);
    store.createPolicyVersion("p", DOC, false);
    store.createPolicyVersion("p", DOC, false);
    store.deletePolicyVersion("p", "v3");
    assertThat(store.createPolicyVersion("p", DOC, false).versionId()).isEqualTo("v4");
    store.deletePolicyVersion("p", "v4");
    store.deletePolicyVersion("p", "v2");
    assertThat(store.createPolicyVersion("p", DOC, false).versionId()).isEqualTo("v5");
    assertThat(store.policyVersions("p"))
        .extracting(PolicyVersion::versionId)
        .containsExactly("v1", "v5");
  }

  @Test
  void policyVersions_listsVersionsPastNine_inTheOrderCreated() {
    store.createPolicy(policy("p"), DOC);
    for (int i = 2; i <= 11; i++) {
      store.createPolicyVersion("p", DOC, false);
    }
    assertThat(store.policyVersions("p"))
        .extracting(PolicyVersion::versionId)
        .containsExactly("v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11");
  }

  @Test
  void policyVersion_isEmptyForAnUnknownPolicyOrVersion() {
    store.createPolicy(policy("p"), DOC);
    assertThat(store.policyVersion("p", "v2")).isEmpty();
    assertThat(store.policyVersion("p", "V1")).as("version ids compare exactly").isEmpty();
    assertThat(store.policyVersion("p", "v01")).isEmpty();
    assertThat(store.policyVersion("p", "1")).isEmpty();
    assertThat(store.policyVersion("p", "bogus")).isEmpty();
    assertThat(store.policyVersion("nothing", "v1")).isEmpty();
    assertThat(store.policyVersions("nothing")).isEmpty();
  }

  @Test
  void setDefaultPolicyVersion_movesTheDefault_andStampsUpdated() {
    store.createPolicy(policy("p"), DOC);
    store.createPolicyVersion("p", "{\"v\":2}", false);
    time.advance(Duration.ofMinutes(1));
    store.setDefaultPolicyVersion("P", "v2");
    Policy p = store.policy("p").orElseThrow();
    assertThat(p.defaultVersionId()).isEqualTo("v2");
    assertThat(p.updated()).isEqualTo(time.instant());
    assertThat(store.policyVersion("p", "v2").orElseThrow().isDefault()).isTrue();
    assertThat(store.policyVersion("p", "v1").orElseThrow().isDefault()).isFalse();
    assertThat(store.policyVersions("p")).filteredOn(PolicyVersion::isDefault).hasSize(1);

    assertRefused(
        () -> store.setDefaultPolicyVersion("p", "v9"),
        StorageException.NotFound.class,
        Entity.POLICY_VERSION,
        "p:v9");
    assertRefused(
        () -> store.setDefaultPolicyVersion("p", "bogus"),
        StorageException.NotFound.class,
        Entity.POLICY_VERSION,
        "p:bogus");
    assertNoPolicy(() -> store.setDefaultPolicyVersion("nothing", "v1"));
    assertThat(store.policy("p").orElseThrow().defaultVersionId()).isEqualTo("v2");
  }

  @Test
  void deletePolicyVersion_refusesTheDefault_andRemovesAnyOther() {
    store.createPolicy(policy("p"), DOC);
    store.createPolicyVersion("p", "{\"v\":2}", false);
    assertThatThrownBy(() -> store.deletePolicyVersion("p", "v1"))
        .isInstanceOfSatisfying(
            StorageException.Rejected.class,
            e -> {
              assertThat(e.entity()).isEqualTo(Entity.POLICY_VERSION);
              assertThat(e.key()).isEqualTo("p:v1");
              assertThat(e.reason()).isEqualTo("Cannot delete the default version of a policy.");
              assertThat(e.overSizeLimit()).isFalse();
            });
    assertThat(store.policyVersion("p", "v1")).isPresent();

    store.deletePolicyVersion("P", "v2");
    assertThat(store.policyVersion("p", "v2")).isEmpty();
    assertThat(store.policyVersions("p"))
        .extracting(PolicyVersion::versionId)
        .containsExactly("v1");
    assertRefused(
        () -> store.deletePolicyVersion("p", "v2"),
        StorageException.NotFound.class,
        Entity.POLICY_VERSION,
        "p:v2");
    assertNoPolicy(() -> store.deletePolicyVersion("nothing", "v2"));
  }

  @Test
  void deletePolicy_removesItWithItsVersions_andTheNameStartsAfreshAfter() {
    store.createPolicy(policy("p"), DOC);
    store.createPolicyVersion("p", "{\"v\":2}", true);
    store.createPolicy(policy("keep"), DOC);
    store.deletePolicy("P");
    assertThat(store.policy("p")).isEmpty();
    assertThat(store.policyVersions("p")).isEmpty();
    assertThat(store.policies("/")).extracting(Policy::name).containsExactly("keep");
    assertNoPolicy(() -> store.deletePolicy("nothing"));

    store.createPolicy(policy("p"), "{\"fresh\":true}");
    assertThat(store.policyVersions("p"))
        .containsExactly(new PolicyVersion("v1", "{\"fresh\":true}", true, T0));
    assertThat(store.createPolicyVersion("p", DOC, false).versionId()).isEqualTo("v2");
  }

  // generation

  @Test
  void generation_movesOnEveryWrite() {
    List<Runnable> writes =
        List.of(
            () -> store.createRole(role("r")),
            () -> store.updateAssumeRolePolicy("r", "{}"),
            () -> store.updateRole("r", Optional.of("d"), OptionalInt.of(7200)),
            () -> store.tagRole("r", Map.of("k", "v")),
            () -> store.untagRole("r", List.of("k")),
            () -> store.putRolePolicy("r", "inline", DOC),
            () -> store.deleteRolePolicy("r", "inline"),
            () -> store.attachRolePolicy("r", ARN),
            () -> store.detachRolePolicy("r", ARN),
            () -> store.createPolicy(policy("p"), DOC),
            () -> store.tagPolicy("p", Map.of("k", "v")),
            () -> store.untagPolicy("p", List.of("k")),
            () -> store.createPolicyVersion("p", DOC, false),
            () -> store.setDefaultPolicyVersion("p", "v2"),
            () -> store.deletePolicyVersion("p", "v1"),
            () -> store.deletePolicy("p"),
            () -> store.deleteRole("r"));
    for (Runnable write : writes) {
      long before = store.generation();
      write.run();
      assertThat(store.generation()).isNotEqualTo(before);
    }
  }

  @Test
  void generation_staysOnReads_andOnRefusedWrites() {
    store.createRole(role("r"));
    store.putRolePolicy("r", "inline", DOC);
    store.attachRolePolicy("r", ARN);
    store.createPolicy(policy("p"), DOC);
    long g = store.generation();

    store.role("r");
    store.roles("/");
    store.rolePolicy("r", "inline");
    store.rolePolicyNames("r");
    store.attachedRolePolicies("r");
    store.attachmentCount(ARN);
    store.policy("p");
    store.policies("/");
    store.policyVersion("p", "v1");
    store.policyVersions("p");
    store.check();
    assertThat(store.generation()).isEqualTo(g);

    List<ThrowingCallable> refused =
        List.of(
            () -> store.createRole(role("R")),
            () -> store.updateRole("nobody", Optional.of("d"), OptionalInt.empty()),
            () -> store.tagRole("nobody", Map.of("k", "v")),
            () -> store.deleteRolePolicy("r", "none"),
            () -> store.detachRolePolicy("r", OTHER_ARN),
            () -> store.createPolicy(policy("P"), DOC),
            () -> store.createPolicyVersion("nothing", DOC, true),
            () -> store.setDefaultPolicyVersion("p", "v7"),
            () -> store.deletePolicyVersion("p", "v1"),
            () -> store.deletePolicy("nothing"),
            () -> store.deleteRole("nobody"));
    for (ThrowingCallable write : refused) {
      assertThatThrownBy(write).isInstanceOf(StorageException.class);
    }
    assertThat(store.generation()).isEqualTo(g);
  }

  @Test
  void check_answersOnAHealthyStore() {
    store.check();
  }
}
