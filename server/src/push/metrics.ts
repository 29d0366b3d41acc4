// What the push API reports to metrics: structurally the observability module's PushMetrics, so
// this module needs neither prom-client nor a particular metrics implementation.
export interface PushMetricsSink {
  /** Starts timing one push; call the result with how many deliveries failed. */
  startPush(api: 'http' | 'grpc'): (result: { failed?: number }) => void;
  /** Starts timing one gRPC call; call the result with its status name (`OK`, `UNAVAILABLE`). */
  startGrpc(method: string): (status: string) => void;
}

/** Times a push: a failure counts every user of the request as failed. */
export async function timedPush<T>(
  metrics: PushMetricsSink | undefined,
  api: 'http' | 'grpc',
  users: number,
  push: () => Promise<T>,
): Promise<T> {
  const done = metrics?.startPush(api);
  try {
    const result = await push();
    done?.({});
    return result;
  } catch (err) {
    done?.({ failed: users });
    throw err;
  }
}
