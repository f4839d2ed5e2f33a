package dev.kiln.runtimeapi;

import dev.kiln.time.Ticker;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.buffers.DataWriter;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.common.socket.PeerInfo;
import io.helidon.common.task.InterruptableTask;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderValues;
import io.helidon.http.Headers;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ListenerConfig;
import io.helidon.webserver.ListenerContext;
import io.helidon.webserver.ProxyProtocolData;
import io.helidon.webserver.Router;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.helidon.webserver.http1.Http1ConnectionSelector;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Cuts off a client that stalls in the middle of a request (slowloris: part of a request line or of
 * the headers, or a body announced and then sent slowly or not at all), so that it does not hold a
 * connection and its thread forever.
 *
 * <p><b>Why not Helidon's settings.</b> Helidon 4.5's server has no read timeout: the listener's
 * {@code connectionOptions().readTimeout()} is a client setting (the server never applies it to an
 * accepted socket, which it reads through a blocking {@code SocketChannel} anyway), and the idle
 * connection timeout (5 minutes, checked every 2) interrupts only a connection that is waiting for
 * a request line: one that stalls in the headers or the body is never closed.
 *
 * <p><b>How.</b> The listener serves HTTP/1.1 through Helidon's own connection, handed a data
 * reader whose reads are timed (Kiln serves nothing but HTTP/1.1; {@link #apply} turns off the
 * discovery of other protocols, so that this is the only one and the connection is never read
 * before it is handed over):
 *
 * <ul>
 *   <li>the request line and the headers must have arrived within the timeout of the request's
 *       first byte; a connection's first request, within the timeout of its accepting, which also
 *       bounds a TLS handshake;
 *   <li>a body may pause for at most the timeout between two reads (as nginx's {@code
 *       client_body_timeout}: a body that keeps coming, however slowly, is read to its end);
 *   <li>between requests, a kept-alive connection waits as before, until Helidon's idle timeout.
 * </ul>
 *
 * A client that stalls after sending part of a request gets {@code 408 Request Timeout} (through
 * the listener's direct handlers, so in AWS's error shape on the Lambda API) and the connection is
 * closed; one that sent nothing is disconnected without an answer. Neither is logged above DEBUG. A
 * client that hangs up in the middle of a request is disconnected quietly too (Helidon would
 * otherwise answer a 500 and log it), and after a response that says {@code Connection: close} the
 * connection is closed rather than read for another request (Helidon 4.5 leaves that to the
 * client). A timed read is made on a virtual thread of its own, which the caller waits for; the
 * socket itself has no timeout to set.
 */
public final class ClientTimeout {

  /** As nginx's {@code client_header_timeout} and {@code client_body_timeout}. */
  public static final Duration DEFAULT = Duration.ofSeconds(60);

  private static final ExecutorService READS =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("kiln-client-read-", 0).factory());

  /**
   * Tells a connection's reads that its request line and headers are in, and whether the request
   * asked for the connection to be closed after it.
   */
  private static final Http1ConnectionListener HEADERS_READ =
      new Http1ConnectionListener() {
        @Override
        public void headers(ConnectionContext ctx, Headers headers) {
          if (ctx instanceof TimedReads reads) {
            reads.headersRead();
            if (headers.containsToken(HeaderValues.CONNECTION_CLOSE)) {
              reads.closing = true;
            }
          }
        }
      };

  /** Tells a connection's reads that a route's response set {@code Connection: close}. */
  private static final Http1ConnectionListener CLOSE_SENT =
      new Http1ConnectionListener() {
        @Override
        public void headers(ConnectionContext ctx, Headers headers) {
          if (ctx instanceof TimedReads reads
              && headers.containsToken(HeaderValues.CONNECTION_CLOSE)) {
            reads.closing = true;
          }
        }
      };

  private ClientTimeout() {}

  /**
   * Serves HTTP/1.1 on {@code listener} with reads that time out after {@code timeout}, as {@code
   * ticker} measures it; no other protocol is served there.
   */
  public static void apply(
      ListenerConfig.BuilderBase<?, ?> listener, Duration timeout, Ticker ticker) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("the client timeout must be positive, got " + timeout);
    }
    listener.protocolsDiscoverServices(false);
    listener.addConnectionSelector(new Selector(timeout, ticker));
  }

  /** Helidon's HTTP/1.1 selector, whose connections read through {@link TimedReads}. */
  private static final class Selector implements ServerConnectionSelector {

    private final ServerConnectionSelector http1;
    private final long timeoutNanos;
    private final Ticker ticker;

    Selector(Duration timeout, Ticker ticker) {
      this.timeoutNanos = timeout.toNanos();
      this.ticker = ticker;
      this.http1 =
          Http1ConnectionSelector.builder()
              .config(
                  Http1Config.builder()
                      .addReceiveListener(HEADERS_READ)
                      .addSendListener(CLOSE_SENT)
                      .build())
              .build();
    }

    @Override
    public int bytesToIdentifyConnection() {
      return http1.bytesToIdentifyConnection();
    }

    @Override
    public Support supports(io.helidon.common.buffers.BufferData request) {
      return http1.supports(request);
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
      return http1.supportedApplicationProtocols();
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
      TimedReads reads = new TimedReads(ctx, timeoutNanos, ticker);
      ServerConnection connection = http1.connection(reads);
      reads.connection = connection;
      return connection;
    }
  }

  /**
   * The connection's context, but for its data reader. Everything here runs on the connection's own
   * thread (Helidon reads a connection's requests one after the other on one thread, and the
   * listener above is called there too).
   */
  private static final class TimedReads implements ConnectionContext {

    private final ConnectionContext ctx;
    private final HelidonSocket socket;
    private final DataReader reader;
    private final long timeoutNanos;
    private ServerConnection connection;

    /** When the current request's first byte arrived (or the connection was accepted); 0 after. */
    private long headersSince;

    /** Whether any byte of the current request has arrived. */
    private boolean started;

    private final Ticker ticker;

    private boolean timedOut;

    /** Whether the request or its response said {@code Connection: close}: no more requests. */
    private volatile boolean closing;

    TimedReads(ConnectionContext ctx, long timeoutNanos, Ticker ticker) {
      this.ticker = ticker;
      this.ctx = ctx;
      this.socket = ctx.serverSocket();
      this.timeoutNanos = timeoutNanos;
      this.headersSince = ticker.read();
      this.reader = DataReader.create(this::read);
    }

    void headersRead() {
      headersSince = 0;
      started = false;
    }

    private byte[] read() {
      if (timedOut) {
        throw new CloseConnectionException("The client timed out; the connection is closing");
      }
      boolean prologue = connection instanceof InterruptableTask<?> t && t.canInterrupt();
      if (prologue && closing) {
        // Helidon 4.5 would wait for another request, until its idle timeout, if the client
        // did not close; HTTP/1.1 has the server close after such a response
        throw new CloseConnectionException("The response said Connection: close");
      }
      if (prologue && headersSince == 0) {
        if (reader.available() == 0) {
          // between requests: the connection waits, as kept-alive, until Helidon's idle timeout
          byte[] bytes = untimed();
          if (bytes != null) {
            headersSince = ticker.read();
            started = true;
            RecentBytes.record(bytes);
          }
          return bytes;
        }
        // a request sent right behind the previous one, its start already read
        headersSince = ticker.read();
        started = true;
      }
      boolean headers = headersSince != 0;
      long wait = headers ? headersSince + timeoutNanos - ticker.read() : timeoutNanos;
      byte[] bytes = timed(wait, headers);
      if (bytes == null) {
        if (headers && !started) {
          return null; // closed before sending anything: Helidon closes the connection quietly
        }
        throw new CloseConnectionException("The client closed the connection mid-request");
      }
      started = true;
      RecentBytes.record(bytes);
      return bytes;
    }

    private byte[] untimed() {
      try {
        return socket.get();
      } catch (UncheckedIOException e) {
        throw new ServerConnectionException("Failed to get data from socket", e);
      }
    }

    private byte[] timed(long waitNanos, boolean headers) {
      if (waitNanos <= 0) {
        throw timeout(headers);
      }
      Future<byte[]> read;
      try {
        read = READS.submit(socket::get);
      } catch (RejectedExecutionException e) {
        throw new CloseConnectionException("The server is stopping", e);
      }
      try {
        return read.get(waitNanos, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        // the read stays blocked until the connection closes its socket, after the answer
        throw timeout(headers);
      } catch (InterruptedException e) {
        // Helidon stopping the connection: it closes the socket, which ends the read too
        read.cancel(true);
        Thread.currentThread().interrupt();
        throw new CloseConnectionException("Interrupted while reading the request", e);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof UncheckedIOException io) {
          throw new ServerConnectionException("Failed to get data from socket", io);
        }
        if (cause instanceof RuntimeException r) {
          throw r;
        }
        throw new ServerConnectionException("Failed to get data from socket", cause);
      }
    }

    private RuntimeException timeout(boolean headers) {
      timedOut = true;
      if (headers && !started) {
        // nothing of a request: nothing to answer
        return new CloseConnectionException("The client sent nothing in time");
      }
      long seconds = TimeUnit.NANOSECONDS.toSeconds(timeoutNanos);
      return RequestException.builder()
          .type(DirectHandler.EventType.BAD_REQUEST)
          .status(Status.REQUEST_TIMEOUT_408)
          .setKeepAlive(false)
          .header(HeaderValues.CONNECTION_CLOSE)
          .message(
              headers
                  ? "The request line and headers did not arrive within " + seconds + " seconds"
                  : "The request body stalled for " + seconds + " seconds")
          .build();
    }

    @Override
    public DataReader dataReader() {
      return reader;
    }

    @Override
    public ListenerContext listenerContext() {
      return ctx.listenerContext();
    }

    @Override
    public ExecutorService executor() {
      return ctx.executor();
    }

    @Override
    public DataWriter dataWriter() {
      return ctx.dataWriter();
    }

    @Override
    public Router router() {
      return ctx.router();
    }

    @Override
    public Optional<ProxyProtocolData> proxyProtocolData() {
      return ctx.proxyProtocolData();
    }

    @Override
    public HelidonSocket serverSocket() {
      return socket;
    }

    @Override
    public PeerInfo remotePeer() {
      return ctx.remotePeer();
    }

    @Override
    public PeerInfo localPeer() {
      return ctx.localPeer();
    }

    @Override
    public boolean isSecure() {
      return ctx.isSecure();
    }

    @Override
    public String socketId() {
      return ctx.socketId();
    }

    @Override
    public String childSocketId() {
      return ctx.childSocketId();
    }
  }
}
