package dev.kiln.invoke;

import dev.kiln.model.FunctionRef;

/**
 * The one way in to run an invocation now, for every caller: the Invoke API, the asynchronous
 * dispatcher, and every trigger (a function URL, a stream or queue poller, a schedule). A caller
 * names the function as its user did and says where the invocation came from ({@link
 * InvokeRequest}); the port resolves the name to a version (through an alias's weights when it
 * names one), admits it against the concurrency limits, and runs it on an instance.
 *
 * <p>Queuing an event for later is {@link AsyncInvocations}' job; the dispatcher then delivers it
 * through this port like any other caller, so admission, ARNs and the log are the same whatever the
 * origin.
 *
 * <p>Refusals are thrown as {@link dev.kiln.model.LambdaError}s, AWS-shaped so that the API layer
 * can send them as they are; a caller that acts on one tells them apart by type: {@link
 * dev.kiln.model.LambdaError.Throttled} (no room now: try again later) and {@link
 * dev.kiln.model.LambdaError.NotFound} (the function or qualifier is gone).
 */
public interface Invocations {

  /** Resolves, admits and runs {@code request}, and returns its answer. */
  InvocationResult run(InvokeRequest request);

  /**
   * Resolves, admits and runs {@code request} for a caller that passes the response on as it comes
   * (InvokeWithResponseStream, a function URL in {@code RESPONSE_STREAM} mode): returns as soon as
   * the runtime starts its answer. A runtime that streams ({@code
   * Lambda-Runtime-Function-Response-Mode: streaming}) is read chunk by chunk while it runs; a
   * buffered answer, or a function error, comes as a stream that is already complete.
   */
  default InvocationStream stream(InvokeRequest request) {
    // a port that cannot stream answers whole, as one chunk
    return InvocationStream.buffered(run(request));
  }

  /**
   * The version {@code function} would run now, without running it: what a DryRun and an event
   * about to be queued are checked against.
   */
  FunctionVersion resolve(FunctionRef function);

  /** The port of a running Kiln: names resolved by {@code functions}, run by {@code invoker}. */
  static Invocations of(Functions functions, Invoker invoker) {
    return new Invocations() {
      @Override
      public InvocationResult run(InvokeRequest request) {
        return invoker.invoke(functions.resolve(request.function()), request);
      }

      @Override
      public InvocationStream stream(InvokeRequest request) {
        return invoker.invokeStreaming(functions.resolve(request.function()), request);
      }

      @Override
      public FunctionVersion resolve(FunctionRef function) {
        return functions.resolve(function);
      }
    };
  }
}
