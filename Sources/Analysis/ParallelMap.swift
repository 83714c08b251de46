import Dispatch
import Foundation

/// Deterministic data parallelism for independent items.
public enum Parallel {
    /// `[body(0), …, body(count − 1)]`, computed on up to `workers` threads (default: the active cores).
    ///
    /// Each item is computed whole by one thread and stored at its index, so the result does not
    /// depend on the number of workers or on timing.
    public static func map<T: Sendable>(_ count: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                                        _ body: (Int) -> T) -> [T] {
        guard count > 0 else { return [] }
        let workers = max(1, min(workers, count))
        if workers == 1 { return (0..<count).map(body) }
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let output = slots
            withoutActuallyEscaping(body) { body in
                nonisolated(unsafe) let work = body
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    // Contiguous shares: worker w takes items [w·count/workers, (w+1)·count/workers).
                    for i in (worker * count / workers) ..< ((worker + 1) * count / workers) { output[i] = work(i) }
                }
            }
        }
        return results.map { $0! }
    }
}
