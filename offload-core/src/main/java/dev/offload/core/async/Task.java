package dev.offload.core.async;

/**
 * The work a {@link TaskPool} runs: the user's own code, given the accepted request, returning
 * the response to replay. Runs on one of the pool's workers, never on a request thread.
 *
 * <pre>{@code
 * Task resize = request -> TaskResult.of(200, "image/png", Thumbnails.resize(request.body()));
 * }</pre>
 *
 * <p>A long task may report progress with {@link TaskRequest#progress(double)} and should stop
 * early when {@link TaskRequest#cancelRequested()} turns true. Implementations are shared by the
 * pool's workers and must be thread-safe.
 */
@FunctionalInterface
public interface Task {
  /**
   * Runs the work.
   *
   * @param request the accepted request, with its body read into memory
   * @return the response to replay to whoever fetches the result; never null
   * @throws Exception when the work fails: the task ends {@link TaskState#FAILED} (the exception
   *     is logged, its message is not shown to clients)
   */
  TaskResult run(TaskRequest request) throws Exception;
}
