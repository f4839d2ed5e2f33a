package dev.kiln.invoke;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.IdGenerator;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Tracing of invocations: the X-Ray trace header every invocation runs under (see {@link
 * TraceHeader}) and, when an OTLP endpoint is configured, an OpenTelemetry span per invocation with
 * its phases, exported over OTLP/HTTP.
 *
 * <p>The span {@code <function> invoke} covers the invocation as the platform ran it, and its
 * children are the phases: {@code queue} (an asynchronous event, from its acceptance to this
 * attempt), {@code sandbox} (a cold start: creating the instance's sandbox and starting its
 * process), {@code init} (the runtime and the function's static code, until it asked for its first
 * event) and {@code invoke} (from the runtime taking the event to its answer). Attributes follow
 * OpenTelemetry's FaaS conventions ({@code faas.invocation_id}, {@code faas.coldstart}, …).
 *
 * <p>The two views of a request line up: the span's trace id is the X-Ray root's 32 hex digits, a
 * caller's {@code X-Amzn-Trace-Id} parent is the span's parent, and the {@code Parent} the runtime
 * receives is the span itself, so spans a function makes (with the X-Ray or OpenTelemetry
 * libraries) are its children. Trace ids Kiln starts carry the time in their first 8 digits, as
 * X-Ray requires. With tracing on, every invocation is exported, whatever the caller's sampling
 * decision.
 *
 * <p>Spans are built after the fact with their real start and end times and handed to a batch
 * processor: the invocation path pays for a few objects, never for the export.
 */
public final class InvocationTracer implements AutoCloseable {

  /** Trace headers only, no spans. */
  public static final InvocationTracer NONE = new InvocationTracer(null, null);

  private static final AttributeKey<String> INVOCATION_ID =
      AttributeKey.stringKey("faas.invocation_id");
  private static final AttributeKey<String> NAME = AttributeKey.stringKey("faas.name");
  private static final AttributeKey<String> VERSION = AttributeKey.stringKey("faas.version");
  private static final AttributeKey<Boolean> COLD = AttributeKey.booleanKey("faas.coldstart");
  private static final AttributeKey<String> TRIGGER = AttributeKey.stringKey("faas.trigger");
  private static final AttributeKey<String> ARN = AttributeKey.stringKey("cloud.resource_id");
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private final SdkTracerProvider provider;
  private final Tracer tracer;

  private InvocationTracer(SdkTracerProvider provider, Tracer tracer) {
    this.provider = provider;
    this.tracer = tracer;
  }

  /**
   * Exports spans to an OTLP/HTTP collector at {@code endpoint} (its {@code /v1/traces}); trace ids
   * carry the time by {@code clock}, as X-Ray's do.
   */
  public static InvocationTracer otlp(URI endpoint, java.time.InstantSource clock) {
    String base = endpoint.toString().replaceAll("/+$", "");
    String url = base.endsWith("/v1/traces") ? base : base + "/v1/traces";
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.create(
                            Attributes.of(
                                AttributeKey.stringKey("service.name"),
                                "kiln",
                                AttributeKey.stringKey("cloud.provider"),
                                "kiln"))))
            .setSampler(Sampler.alwaysOn())
            .setIdGenerator(new XrayIds(clock))
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpHttpSpanExporter.builder()
                            .setEndpoint(url)
                            .setTimeout(Duration.ofSeconds(10))
                            .build())
                    .setScheduleDelay(Duration.ofMillis(500))
                    .build())
            .build();
    return new InvocationTracer(provider, provider.get("dev.kiln.invoke"));
  }

  public boolean exporting() {
    return tracer != null;
  }

  /**
   * One invocation's trace, begun at {@code startNanos} (a reading of {@code ticker}).
   *
   * @param queuedSince when an asynchronous event was accepted
   */
  Trace begin(
      Optional<String> callerHeader,
      FunctionVersion version,
      String invokedArn,
      String requestId,
      Optional<Instant> queuedSince,
      boolean cold,
      long startNanos,
      java.time.InstantSource clock,
      dev.kiln.time.Ticker ticker) {
    TraceHeader caller = TraceHeader.joinOrStart(callerHeader, clock.instant());
    if (tracer == null) {
      return new Trace(caller, null, 0);
    }
    long toEpoch = epochOffset(clock, ticker);
    long start = queuedSince.map(InvocationTracer::epochNanos).orElse(startNanos + toEpoch);
    var builder =
        tracer
            .spanBuilder(version.name() + " invoke")
            .setSpanKind(SpanKind.SERVER)
            .setStartTimestamp(start, TimeUnit.NANOSECONDS)
            .setAttribute(INVOCATION_ID, requestId)
            .setAttribute(NAME, version.name())
            .setAttribute(VERSION, version.version())
            .setAttribute(COLD, cold)
            .setAttribute(TRIGGER, queuedSince.isPresent() ? "pubsub" : "http")
            .setAttribute(ARN, invokedArn);
    if (callerHeader.isPresent() && caller.joined()) {
      builder.setParent(
          Context.root()
              .with(
                  Span.wrap(
                      SpanContext.createFromRemoteParent(
                          caller.otelTraceId(),
                          caller.parent(),
                          TraceFlags.getSampled(),
                          TraceState.getDefault()))));
    } else {
      builder.setNoParent();
    }
    Span span = builder.startSpan();
    String traceId = span.getSpanContext().getTraceId();
    TraceHeader header =
        new TraceHeader(
            "1-" + traceId.substring(0, 8) + "-" + traceId.substring(8),
            span.getSpanContext().getSpanId(),
            !caller.joined() || caller.sampled(),
            caller.joined());
    Trace trace = new Trace(header, span, toEpoch);
    queuedSince.ifPresent(q -> trace.phaseAt("queue", start, startNanos + toEpoch));
    return trace;
  }

  /** The trace of one invocation: its header and, when exporting, its span. */
  final class Trace {
    private final TraceHeader header;
    private final Span span;
    private final long toEpoch;

    private Trace(TraceHeader header, Span span, long toEpoch) {
      this.header = header;
      this.span = span;
      this.toEpoch = toEpoch;
    }

    /** What the runtime receives in {@code Lambda-Runtime-Trace-Id}. */
    String header() {
      return header.header();
    }

    /** A phase of the invocation, between two readings of the instance's ticker. */
    void phase(String name, long fromNanos, long toNanos) {
      if (span != null && toNanos >= fromNanos) {
        phaseAt(name, fromNanos + toEpoch, toNanos + toEpoch);
      }
    }

    private void phaseAt(String name, long fromEpochNanos, long toEpochNanos) {
      tracer
          .spanBuilder(name)
          .setParent(Context.root().with(span))
          .setStartTimestamp(fromEpochNanos, TimeUnit.NANOSECONDS)
          .startSpan()
          .end(toEpochNanos, TimeUnit.NANOSECONDS);
    }

    /** The invocation ended at {@code endNanos}, with {@code errorType} when it failed. */
    void end(long endNanos, Optional<String> errorType) {
      if (span == null) {
        return;
      }
      errorType.ifPresent(
          t -> {
            span.setAttribute(ERROR_TYPE, t);
            span.setStatus(StatusCode.ERROR, t);
          });
      span.end(endNanos + toEpoch, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * What turns a {@code ticker} reading into nanoseconds since the epoch by {@code clock}, now: one
   * reading of both clocks for a whole trace, so that its spans nest exactly.
   */
  static long epochOffset(java.time.InstantSource clock, dev.kiln.time.Ticker ticker) {
    return epochNanos(clock.instant()) - ticker.read();
  }

  private static long epochNanos(Instant instant) {
    return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
  }

  /** Trace ids X-Ray accepts: the time in seconds in the first 8 hex digits, then 24 random. */
  private static final class XrayIds implements IdGenerator {
    private final java.time.InstantSource clock;

    XrayIds(java.time.InstantSource clock) {
      this.clock = clock;
    }

    @Override
    public String generateSpanId() {
      return IdGenerator.random().generateSpanId();
    }

    @Override
    public String generateTraceId() {
      byte[] random = new byte[12];
      ThreadLocalRandom.current().nextBytes(random);
      return String.format("%08x", clock.instant().getEpochSecond())
          + HexFormat.of().formatHex(random);
    }
  }

  /** Exports what is still buffered, then stops. */
  @Override
  public void close() {
    if (provider != null) {
      provider.shutdown().join(10, TimeUnit.SECONDS);
    }
  }
}
