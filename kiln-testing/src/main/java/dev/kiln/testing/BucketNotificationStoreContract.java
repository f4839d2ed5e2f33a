package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.store.BucketNotificationStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link BucketNotificationStore} promises, as tests: extend this class with {@link
 * #newStore} returning an empty store of your implementation. A configuration is kept per bucket,
 * as given, replaced by the next put and gone after a delete.
 */
public abstract class BucketNotificationStoreContract {

  protected BucketNotificationStore store;

  /** A new, empty store. */
  protected abstract BucketNotificationStore newStore();

  @BeforeEach
  void openStore() {
    store = newStore();
  }

  @Test
  void aBucketWithoutConfiguration_hasNone() {
    assertThat(store.configuration("photos")).isEmpty();
    assertThat(store.delete("photos")).isFalse();
  }

  @Test
  void aConfiguration_isKeptAsGiven_perBucket_andReplacedByTheNextPut() {
    store.put("photos", "<NotificationConfiguration>one</NotificationConfiguration>");
    store.put("videos", "<NotificationConfiguration>two</NotificationConfiguration>");
    assertThat(store.configuration("photos"))
        .contains("<NotificationConfiguration>one</NotificationConfiguration>");
    store.put("photos", "<NotificationConfiguration>three</NotificationConfiguration>");
    assertThat(store.configuration("photos"))
        .contains("<NotificationConfiguration>three</NotificationConfiguration>");
    assertThat(store.configuration("videos"))
        .contains("<NotificationConfiguration>two</NotificationConfiguration>");
  }

  @Test
  void aDeletedConfiguration_isGone_andOthersStay() {
    store.put("photos", "a");
    store.put("videos", "b");
    assertThat(store.delete("photos")).isTrue();
    assertThat(store.configuration("photos")).isEmpty();
    assertThat(store.configuration("videos")).contains("b");
  }
}
