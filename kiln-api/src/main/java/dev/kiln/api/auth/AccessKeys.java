package dev.kiln.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The access keys that may call Kiln, kept in {@code <data>/credentials.json} (mode 0600).
 *
 * <p>On first start Kiln makes one {@code admin} key; {@code kiln credentials} prints it as {@code
 * export} lines and adds, lists and revokes others. A key's role says what it may do: {@code admin}
 * everything, {@code invoke} only invoke functions. The server reads the file again when it
 * changes, so a key revoked from the command line stops working at once.
 *
 * <p>Signature Version 4 is an HMAC keyed with (a key derived from) the secret itself, so the
 * verifier needs the secret in clear: it cannot be stored as a hash, as a password would be. It is
 * stored as AWS stores it, readable by Kiln's user only, and never written to a log.
 */
public final class AccessKeys {

  /**
   * What a key may do: {@code admin} everything; {@code invoke} invoke any function; {@code policy}
   * only what functions' resource-based policies grant it (AddPermission with the key's ARN, {@code
   * arn:aws:iam::<account>:user/<access key id>}, or {@code *} as principal).
   */
  public enum Role {
    ADMIN,
    INVOKE,
    POLICY;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Role parse(String value) {
      for (Role r : values()) {
        if (r.wire().equalsIgnoreCase(value)) {
          return r;
        }
      }
      throw new IllegalArgumentException(
          "role must be admin, invoke or policy, got '" + value + "'");
    }
  }

  /**
   * One key: an IAM user of its own (named by its id), whose permissions are its role's managed
   * policy ({@link #rolePolicyArn}) and the policies attached to it ({@code policyArns}: AWS's
   * managed ones or this account's customer managed ones, by ARN) or written into it ({@code
   * inlinePolicies}, name to document).
   */
  public record Key(
      String accessKeyId,
      String secretAccessKey,
      Role role,
      Instant created,
      String description,
      List<String> policyArns,
      java.util.Map<String, String> inlinePolicies) {

    public Key {
      policyArns = List.copyOf(policyArns);
      inlinePolicies =
          java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(inlinePolicies));
    }

    public Key(
        String accessKeyId,
        String secretAccessKey,
        Role role,
        Instant created,
        String description) {
      this(accessKeyId, secretAccessKey, role, created, description, List.of(), java.util.Map.of());
    }

    /**
     * The managed policy that gives the key's role its meaning: {@code admin} is AWS's
     * AdministratorAccess, {@code invoke} Kiln's KilnInvokeAccess; a {@code policy} key has none,
     * and may only do what resource-based policies grant it.
     */
    public Optional<String> rolePolicyArn() {
      return switch (role) {
        case ADMIN -> Optional.of("arn:aws:iam::aws:policy/AdministratorAccess");
        case INVOKE -> Optional.of("arn:aws:iam::aws:policy/kiln/KilnInvokeAccess");
        case POLICY -> Optional.empty();
      };
    }

    @Override
    public String toString() {
      // never the secret
      return accessKeyId + " (" + role.wire() + ")";
    }
  }

  public static final String FILE = "credentials.json";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  private static final String SECRET_ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  private final Path file;
  private volatile List<Key> keys;
  private volatile FileTime readAt;
  private volatile long checkedAtNanos;

  private AccessKeys(Path file, List<Key> keys, FileTime readAt) {
    this.file = file;
    this.keys = keys;
    this.readAt = readAt;
    this.checkedAtNanos = System.nanoTime();
  }

  /** The keys of the data directory {@code dataDir}, with a first admin key made if it has none. */
  public static synchronized AccessKeys openOrCreate(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    try {
      Files.createDirectories(dataDir);
      if (!Files.exists(file)) {
        write(file, List.of(newKey(Role.ADMIN, "made at first start")));
      }
      return new AccessKeys(file, read(file), Files.getLastModifiedTime(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or write " + file, e);
    }
  }

  /** The keys of {@code dataDir} as they are, for the command line; none if it has no file. */
  public static AccessKeys open(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    if (!Files.exists(file)) {
      throw new IllegalStateException(
          "no " + FILE + " in " + dataDir + ": start Kiln once with this --data-dir to make one");
    }
    try {
      return new AccessKeys(file, read(file), Files.getLastModifiedTime(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  public Path file() {
    return file;
  }

  /** The key with this id, if it exists (re-reading the file when it changed, at most 1/s). */
  public Optional<Key> find(String accessKeyId) {
    refresh(false);
    Optional<Key> found = lookup(accessKeyId);
    if (found.isEmpty()) {
      // a key added a moment ago works at once: an unknown key costs a look at the file's time
      refresh(true);
      found = lookup(accessKeyId);
    }
    return found;
  }

  private Optional<Key> lookup(String accessKeyId) {
    for (Key k : keys) {
      if (k.accessKeyId().equals(accessKeyId)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  public List<Key> list() {
    refresh(true);
    return List.copyOf(keys);
  }

  /** The first admin key: what {@code kiln credentials} prints. */
  public Optional<Key> admin() {
    return list().stream().filter(k -> k.role() == Role.ADMIN).findFirst();
  }

  /** Makes and stores a new key. */
  public synchronized Key add(Role role, String description) {
    return add(role, description, List.of(), java.util.Map.of());
  }

  /** Makes and stores a new key with policies of its own (documents checked by the caller). */
  public synchronized Key add(
      Role role,
      String description,
      List<String> policyArns,
      java.util.Map<String, String> inlinePolicies) {
    Key made = newKey(role, description);
    Key key =
        new Key(
            made.accessKeyId(),
            made.secretAccessKey(),
            role,
            made.created(),
            made.description(),
            policyArns,
            inlinePolicies);
    List<Key> next = new ArrayList<>(read());
    next.add(key);
    save(next);
    return key;
  }

  /** Removes a key; false if there was none with this id. */
  public synchronized boolean revoke(String accessKeyId) {
    List<Key> next = new ArrayList<>(read());
    boolean removed = next.removeIf(k -> k.accessKeyId().equals(accessKeyId));
    if (removed) {
      save(next);
    }
    return removed;
  }

  /** Reads the file again if it changed; unless {@code now}, at most once a second. */
  private void refresh(boolean now) {
    long at = System.nanoTime();
    if (!now && at - checkedAtNanos < 1_000_000_000L) {
      return;
    }
    checkedAtNanos = at;
    try {
      FileTime modified = Files.getLastModifiedTime(file);
      if (!modified.equals(readAt)) {
        keys = read(file);
        readAt = modified;
      }
    } catch (IOException e) {
      // keep the keys already read
    }
  }

  private List<Key> read() {
    try {
      return read(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private void save(List<Key> next) {
    try {
      write(file, next);
      keys = next;
      readAt = Files.getLastModifiedTime(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private static List<Key> read(Path file) throws IOException {
    List<Key> out = new ArrayList<>();
    for (JsonNode k : JSON.readTree(file.toFile()).path("keys")) {
      List<String> arns = new ArrayList<>();
      k.path("policyArns").forEach(a -> arns.add(a.asText()));
      java.util.Map<String, String> inline = new java.util.LinkedHashMap<>();
      k.path("inlinePolicies")
          .properties()
          .forEach(e -> inline.put(e.getKey(), e.getValue().asText()));
      out.add(
          new Key(
              k.path("accessKeyId").asText(),
              k.path("secretAccessKey").asText(),
              Role.parse(k.path("role").asText("admin")),
              Instant.parse(k.path("created").asText("1970-01-01T00:00:00Z")),
              k.path("description").asText(""),
              arns,
              inline));
    }
    return out;
  }

  private static void write(Path file, List<Key> keys) throws IOException {
    ObjectNode doc = JSON.createObjectNode();
    ArrayNode array = doc.putArray("keys");
    for (Key k : keys) {
      array
          .addObject()
          .put("accessKeyId", k.accessKeyId())
          .put("secretAccessKey", k.secretAccessKey())
          .put("role", k.role().wire())
          .put("created", k.created().toString())
          .put("description", k.description());
      ObjectNode last = (ObjectNode) array.get(array.size() - 1);
      if (!k.policyArns().isEmpty()) {
        ArrayNode arns = last.putArray("policyArns");
        k.policyArns().forEach(arns::add);
      }
      if (!k.inlinePolicies().isEmpty()) {
        ObjectNode inline = last.putObject("inlinePolicies");
        k.inlinePolicies().forEach(inline::put);
      }
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(doc));
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** A key shaped as AWS's: {@code AKIA} and 16 of base32's letters, a 40-character secret. */
  static Key newKey(Role role, String description) {
    return newKey("AKIA", role, description);
  }

  /** The same with another prefix, such as {@code ASIA} for temporary keys. */
  static Key newKey(String prefix, Role role, String description) {
    return new Key(
        prefix + random(ID_ALPHABET, 16),
        random(SECRET_ALPHABET, 40),
        role,
        Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
        description == null ? "" : description);
  }

  private static String random(String alphabet, int length) {
    StringBuilder s = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      s.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    }
    return s.toString();
  }
}
