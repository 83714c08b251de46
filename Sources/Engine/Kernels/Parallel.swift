import BLASThreading
import Dispatch
import Foundation

/// How the forward pass uses the cores: the engine splits every block's rows (and its
/// attention work) across its own workers and runs each GEMM single-threaded inside them.
///
/// Why not OpenBLAS threads: between GEMMs its workers spin while the elementwise kernels
/// and the many small attention GEMMs run on one core; splitting whole phases keeps both
/// cores busy. Each output row is computed by exactly one worker in a fixed order, so
/// results do not depend on timing.
enum EngineThreads {
    /// Runs `body` with the configured worker count (``BLAS/setThreadCount(_:)``) while OpenBLAS
    /// itself runs single-threaded, in a section shared with the numerics' bit-sensitive code.
    static func run<T>(_ body: (_ workers: Int) throws -> T) rethrows -> T {
        let workers = max(1, min(BLAS.threadCount, ProcessInfo.processInfo.activeProcessorCount))
        return try BLASThreads.withSingleThread { try body(workers) }
    }
}

/// Calls `body(worker)` for `0..<workers`, concurrently when `workers > 1`.
@inline(__always)
func forEachWorker(_ workers: Int, _ body: (Int) -> Void) {
    if workers <= 1 {
        body(0)
        return
    }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: workers) { work($0) }
    }
}

/// The contiguous share of `0..<count` that `worker` of `workers` owns (shares differ by at most one).
@inline(__always)
func share(of count: Int, worker: Int, workers: Int) -> Range<Int> {
    let base = count / workers, extra = count % workers
    let start = worker * base + min(worker, extra)
    return start ..< start + base + (worker < extra ? 1 : 0)
}

/// Splits items with the given costs into `workers` contiguous ranges of about equal total cost.
func balancedShares(costs: [Int], workers: Int) -> [Range<Int>] {
    let total = costs.reduce(0, +)
    var shares: [Range<Int>] = []
    var start = 0, accumulated = 0
    for w in 0..<workers {
        let target = total * (w + 1) / workers
        var end = start
        while end < costs.count, w == workers - 1 || accumulated + costs[end] / 2 < target {
            accumulated += costs[end]
            end += 1
        }
        shares.append(start ..< end)
        start = end
    }
    return shares
}
