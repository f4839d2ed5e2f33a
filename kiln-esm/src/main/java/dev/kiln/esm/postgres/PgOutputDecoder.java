package dev.kiln.esm.postgres;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Decodes the messages of PostgreSQL's {@code pgoutput} logical decoding plugin, protocol version
 * 1, as the PostgreSQL manual's "Logical Replication Message Formats" chapter defines them: one
 * message per call, from the payload of a CopyData/XLogData frame (pgjdbc's replication stream
 * hands out exactly that payload).
 *
 * <p>Model: a transaction arrives as {@link Begin}, then its changes ({@link Insert}, {@link
 * Update}, {@link Delete}, {@link Truncate}), then {@link Commit}; with protocol version 1 (no
 * streaming of in-progress transactions) the server sends a transaction only once it committed,
 * whole, in commit order. A {@link Relation} message describing a table's columns precedes the
 * first change of that table in a session and every change of its definition, and a {@link Type}
 * message names a non-built-in column type; the decoder is stateless, so the caller keeps the
 * relations it was told of. Tuple values are the text format (the decoder does not ask for the
 * binary one), kept as bytes with their kind: null, unchanged TOAST (the value was not sent because
 * it did not change), text or binary.
 *
 * <p>Numbers are big-endian; strings are NUL-terminated UTF-8; timestamps are microseconds since
 * 2000-01-01 00:00:00 UTC; LSNs are unsigned 64-bit WAL positions.
 *
 * <p>Stateless and thread-safe.
 */
public final class PgOutputDecoder {

  /** 2000-01-01T00:00:00Z, PostgreSQL's epoch. */
  static final Instant PG_EPOCH = Instant.parse("2000-01-01T00:00:00Z");

  private PgOutputDecoder() {}

  /** One decoded message. */
  public sealed interface Message
      permits Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate, Other {}

  /**
   * A transaction begins. {@code finalLsn} is the LSN of its commit record; {@code commitTime} when
   * it committed.
   */
  public record Begin(long finalLsn, Instant commitTime, int xid) implements Message {}

  /**
   * A transaction ends. {@code commitLsn} is the LSN of its commit record, {@code endLsn} the end
   * of it: the position a client confirms to say the transaction is done with.
   */
  public record Commit(int flags, long commitLsn, long endLsn, Instant commitTime)
      implements Message {}

  /** The transaction came from another node (replication origin); informative only. */
  public record Origin(long lsn, String name) implements Message {}

  /** A table's description; {@code replicaIdentity} is d (default), n (nothing), f (full), i. */
  public record Relation(
      int oid, String namespace, String name, char replicaIdentity, List<Column> columns)
      implements Message {
    public Relation {
      columns = List.copyOf(columns);
    }
  }

  /** A column of a {@link Relation}; {@code key} when it is part of the replica identity. */
  public record Column(boolean key, String name, int typeOid, int typeModifier) {}

  /** A data type's name, sent before a relation that uses a non-built-in type. */
  public record Type(int oid, String namespace, String name) implements Message {}

  /** A row was inserted into relation {@code relationOid}. */
  public record Insert(int relationOid, TupleData newTuple) implements Message {}

  /**
   * A row was updated. {@code oldTuple} is present when the relation's replica identity is FULL
   * ({@code oldKind} 'O', the whole old row) or the key changed ({@code oldKind} 'K', the old key
   * columns, the others null); {@code oldKind} is 0 without one.
   */
  public record Update(
      int relationOid, char oldKind, Optional<TupleData> oldTuple, TupleData newTuple)
      implements Message {}

  /** A row was deleted; {@code oldKind} 'K' (key columns only) or 'O' (the whole row). */
  public record Delete(int relationOid, char oldKind, TupleData oldTuple) implements Message {}

  /** Tables were truncated; {@code options} bit 1 is CASCADE, bit 2 RESTART IDENTITY. */
  public record Truncate(int options, List<Integer> relationOids) implements Message {
    public Truncate {
      relationOids = List.copyOf(relationOids);
    }
  }

  /** A message this decoder does not interpret (a logical decoding message, streaming). */
  public record Other(char type) implements Message {}

  /** A row's column values, in the relation's column order. */
  public record TupleData(List<Value> values) {
    public TupleData {
      values = List.copyOf(values);
    }

    /** The total size of the values' bytes. */
    public int sizeBytes() {
      int size = 0;
      for (Value v : values) {
        size += v.bytes().length;
      }
      return size;
    }
  }

  /** How a column's value was sent. */
  public enum ValueKind {
    NULL,
    /** An unchanged TOASTed value: not sent; the row has it, the message does not. */
    UNCHANGED_TOAST,
    TEXT,
    BINARY
  }

  /** One column value; {@code bytes} empty unless TEXT or BINARY. */
  public record Value(ValueKind kind, byte[] bytes) {
    public Value {
      bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
      return bytes.clone();
    }

    public String text() {
      return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Value v && v.kind == kind && Arrays.equals(v.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return kind.hashCode() * 31 + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      return kind == ValueKind.TEXT ? "Value[" + text() + "]" : "Value[" + kind + "]";
    }
  }

  /** A message that does not follow the format. */
  public static final class MalformedMessageException extends RuntimeException {
    MalformedMessageException(String message) {
      super(message);
    }
  }

  /** Decodes the message at {@code buffer}'s position, consuming it. */
  public static Message decode(ByteBuffer buffer) {
    try {
      char type = (char) buffer.get();
      return switch (type) {
        case 'B' -> new Begin(buffer.getLong(), timestamp(buffer.getLong()), buffer.getInt());
        case 'C' ->
            new Commit(
                buffer.get() & 0xff,
                buffer.getLong(),
                buffer.getLong(),
                timestamp(buffer.getLong()));
        case 'O' -> new Origin(buffer.getLong(), string(buffer));
        case 'R' -> relation(buffer);
        case 'Y' -> new Type(buffer.getInt(), string(buffer), string(buffer));
        case 'I' -> {
          int oid = buffer.getInt();
          expect(buffer, 'N', "Insert");
          yield new Insert(oid, tuple(buffer));
        }
        case 'U' -> update(buffer);
        case 'D' -> {
          int oid = buffer.getInt();
          char kind = (char) buffer.get();
          if (kind != 'K' && kind != 'O') {
            throw new MalformedMessageException("Delete: expected K or O, got " + printable(kind));
          }
          yield new Delete(oid, kind, tuple(buffer));
        }
        case 'T' -> {
          int n = buffer.getInt();
          int options = buffer.get() & 0xff;
          List<Integer> oids = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            oids.add(buffer.getInt());
          }
          yield new Truncate(options, oids);
        }
        default -> {
          buffer.position(buffer.limit());
          yield new Other(type);
        }
      };
    } catch (BufferUnderflowException e) {
      throw new MalformedMessageException("message ends early");
    }
  }

  private static Relation relation(ByteBuffer buffer) {
    int oid = buffer.getInt();
    String namespace = string(buffer);
    String name = string(buffer);
    char identity = (char) buffer.get();
    int n = buffer.getShort() & 0xffff;
    List<Column> columns = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int flags = buffer.get() & 0xff;
      columns.add(new Column((flags & 1) != 0, string(buffer), buffer.getInt(), buffer.getInt()));
    }
    return new Relation(oid, namespace, name, identity, columns);
  }

  private static Update update(ByteBuffer buffer) {
    int oid = buffer.getInt();
    char kind = (char) buffer.get();
    Optional<TupleData> old = Optional.empty();
    char oldKind = 0;
    if (kind == 'K' || kind == 'O') {
      oldKind = kind;
      old = Optional.of(tuple(buffer));
      kind = (char) buffer.get();
    }
    if (kind != 'N') {
      throw new MalformedMessageException("Update: expected N, got " + printable(kind));
    }
    return new Update(oid, oldKind, old, tuple(buffer));
  }

  private static TupleData tuple(ByteBuffer buffer) {
    int n = buffer.getShort() & 0xffff;
    List<Value> values = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      char kind = (char) buffer.get();
      values.add(
          switch (kind) {
            case 'n' -> new Value(ValueKind.NULL, new byte[0]);
            case 'u' -> new Value(ValueKind.UNCHANGED_TOAST, new byte[0]);
            case 't', 'b' -> {
              int length = buffer.getInt();
              if (length < 0 || length > buffer.remaining()) {
                throw new MalformedMessageException(
                    "a column value of " + length + " bytes in " + buffer.remaining() + " left");
              }
              byte[] bytes = new byte[length];
              buffer.get(bytes);
              yield new Value(kind == 't' ? ValueKind.TEXT : ValueKind.BINARY, bytes);
            }
            default ->
                throw new MalformedMessageException(
                    "TupleData: unknown column kind " + printable(kind));
          });
    }
    return new TupleData(values);
  }

  private static void expect(ByteBuffer buffer, char expected, String message) {
    char got = (char) buffer.get();
    if (got != expected) {
      throw new MalformedMessageException(
          message + ": expected " + expected + ", got " + printable(got));
    }
  }

  private static String string(ByteBuffer buffer) {
    int start = buffer.position();
    int end = start;
    while (end < buffer.limit() && buffer.get(end) != 0) {
      end++;
    }
    if (end == buffer.limit()) {
      throw new MalformedMessageException("a string without its NUL terminator");
    }
    byte[] bytes = new byte[end - start];
    buffer.get(bytes);
    buffer.get(); // the NUL
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** A pgoutput timestamp (microseconds since 2000-01-01 UTC) as an instant. */
  static Instant timestamp(long micros) {
    return PG_EPOCH
        .plus(Duration.ofSeconds(Math.floorDiv(micros, 1_000_000L)))
        .plusNanos(Math.floorMod(micros, 1_000_000L) * 1000L);
  }

  private static String printable(char c) {
    return c >= 32 && c < 127 ? "'" + c + "'" : "0x" + Integer.toHexString(c);
  }

  /** An LSN in PostgreSQL's text form, e.g. {@code 0/16B3748}. */
  public static String lsnText(long lsn) {
    return Long.toHexString(lsn >>> 32).toUpperCase()
        + "/"
        + Long.toHexString(lsn & 0xffffffffL).toUpperCase();
  }
}
