package dev.kiln.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The small JDBC layer every SQL store is written on: a query is its SQL, a row mapper and its
 * parameters, in one call. Each call is a transaction of its own unless it runs inside {@link
 * #inTransaction}, which it then joins; the outermost transaction commits when its work returns and
 * rolls back if it throws, so a method that fails changes nothing.
 *
 * <p>One connection, used by one thread at a time: every method holds this object's monitor, which
 * guards the connection and the depth of the transaction in progress. A transaction's work runs
 * under the monitor too, so the calls it makes (re-entrant on the same thread) see its uncommitted
 * rows and no other thread's. Control-plane traffic is light and the embedded databases take one
 * writer at a time anyway; a pooled PostgreSQL store would hand each transaction its own
 * connection.
 *
 * <p>Parameters are bound by position with {@code setObject}; an {@link Optional} binds its value
 * or NULL. The {@link SqlDialect} supplies the pieces of SQL that differ between databases.
 */
public final class Jdbc implements AutoCloseable {

  /** Work that may throw {@link SQLException}. */
  public interface Work<T> {
    T run() throws SQLException;
  }

  /** Reads one row of a result. */
  public interface Row<T> {
    T map(ResultSet rs) throws SQLException;
  }

  private final Connection db;
  private final SqlDialect dialect;
  private final String what;

  /** Transactions in progress on this thread's call stack; 0 when none. Guarded by this. */
  private int depth;

  /**
   * @param db a connection with auto-commit off, which this object owns from now on
   * @param what what the database is, for error messages
   */
  public Jdbc(Connection db, SqlDialect dialect, String what) {
    this.db = db;
    this.dialect = dialect;
    this.what = what;
  }

  public SqlDialect dialect() {
    return dialect;
  }

  /** Runs {@code work} as one transaction, or as part of the one already in progress. */
  public synchronized <T> T inTransaction(Work<T> work) {
    if (depth > 0) {
      depth++;
      try {
        return work.run();
      } catch (SQLException e) {
        throw failure(e);
      } finally {
        depth--;
      }
    }
    depth = 1;
    try {
      T result = work.run();
      db.commit();
      return result;
    } catch (SQLException e) {
      rollback();
      throw failure(e);
    } catch (RuntimeException | Error e) {
      rollback();
      throw e;
    } finally {
      depth = 0;
    }
  }

  /** The rows of a query. */
  public <T> List<T> list(String sql, Row<T> row, Object... params) {
    return inTransaction(
        () -> {
          try (PreparedStatement st = prepare(sql, params);
              ResultSet rs = st.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
              out.add(row.map(rs));
            }
            return out;
          }
        });
  }

  /** The first row of a query, if it has one. */
  public <T> Optional<T> first(String sql, Row<T> row, Object... params) {
    return inTransaction(
        () -> {
          try (PreparedStatement st = prepare(sql, params);
              ResultSet rs = st.executeQuery()) {
            return rs.next() ? Optional.ofNullable(row.map(rs)) : Optional.empty();
          }
        });
  }

  /** Whether a query has a row. */
  public boolean exists(String sql, Object... params) {
    return first(sql, rs -> Boolean.TRUE, params).isPresent();
  }

  /** Runs one insert, update or delete; returns how many rows it changed. */
  public int update(String sql, Object... params) {
    return inTransaction(
        () -> {
          try (PreparedStatement st = prepare(sql, params)) {
            return st.executeUpdate();
          }
        });
  }

  /** Runs one statement once per parameter row, as one batch. */
  public void batch(String sql, List<Object[]> rows) {
    if (rows.isEmpty()) {
      return;
    }
    inTransaction(
        () -> {
          try (PreparedStatement st = db.prepareStatement(sql)) {
            for (Object[] params : rows) {
              bind(st, params);
              st.addBatch();
            }
            st.executeBatch();
          }
          return null;
        });
  }

  /** Runs a cheap query, which answers at once on a healthy database: a health check. */
  public void check(String sql) {
    list(sql, rs -> 1);
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot close " + what, e);
    }
  }

  /** An optional nullable long column. */
  public static Optional<Long> optionalLong(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? Optional.empty() : Optional.of(v);
  }

  private PreparedStatement prepare(String sql, Object[] params) throws SQLException {
    PreparedStatement st = db.prepareStatement(sql);
    try {
      bind(st, params);
      return st;
    } catch (SQLException | RuntimeException e) {
      st.close();
      throw e;
    }
  }

  private static void bind(PreparedStatement st, Object[] params) throws SQLException {
    for (int i = 0; i < params.length; i++) {
      Object p = params[i];
      st.setObject(i + 1, p instanceof Optional<?> o ? o.orElse(null) : p);
    }
  }

  private IllegalStateException failure(SQLException e) {
    return new IllegalStateException(what + " failure: " + e.getMessage(), e);
  }

  private void rollback() {
    try {
      db.rollback();
    } catch (SQLException ignored) {
      // the original failure is the one worth reporting
    }
  }
}
