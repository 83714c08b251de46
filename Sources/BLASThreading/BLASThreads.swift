import COpenBLAS
import Synchronization

/// The one owner of OpenBLAS's process-wide thread count.
///
/// Two numbers are kept apart: the count the user *configured* (what the engine sizes its own
/// workers by, and what the determinism class records) and the count OpenBLAS *runs with* now.
/// OpenBLAS runs single-threaded while any single-thread section is open, anywhere in the process,
/// and with the configured count otherwise. The engine's forward pass and every analysis whose
/// bits must not depend on threading open such sections; because they all count in one place,
/// one section ending can never raise the count under another still running.
public enum BLASThreads {
    private struct State {
        /// `nil` until first read: then OpenBLAS's own start-up count (`OPENBLAS_NUM_THREADS` or the cores).
        var configured: Int32?
        var openSections = 0
    }

    private static let state = Mutex(State())

    /// The thread count the user configured (not lowered by open sections).
    public static var configured: Int {
        state.withLock { Int(configuredCount(&$0)) }
    }

    /// The count OpenBLAS runs with at this moment: 1 while a single-thread section is open.
    public static var running: Int { Int(openblas_get_num_threads()) }

    /// Sets the configured count; OpenBLAS takes it at once unless a single-thread section is open,
    /// in which case it takes it when the last section closes.
    public static func configure(_ threads: Int) {
        let n = Int32(max(1, min(threads, Int(Int32.max))))
        state.withLock { s in
            s.configured = n
            if s.openSections == 0 { openblas_set_num_threads(n) }
        }
    }

    /// Runs `body` with OpenBLAS single-threaded; the configured count comes back when no
    /// section is left open. Sections nest and may run concurrently on several threads.
    ///
    /// The count is process-wide: BLAS calls made meanwhile on other threads also run
    /// single-threaded (the harness runs claims one at a time; tests that compare bits run
    /// inside a section).
    public static func withSingleThread<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { s in
            let configured = configuredCount(&s)
            if s.openSections == 0, configured > 1 { openblas_set_num_threads(1) }
            s.openSections += 1
        }
        defer {
            state.withLock { s in
                s.openSections -= 1
                if s.openSections == 0, let configured = s.configured, configured > 1 {
                    openblas_set_num_threads(configured)
                }
            }
        }
        return try body()
    }

    private static func configuredCount(_ s: inout State) -> Int32 {
        if let configured = s.configured { return configured }
        // Read before any section lowers it, so this is OpenBLAS's start-up count.
        let startUp = max(1, openblas_get_num_threads())
        s.configured = startUp
        return startUp
    }
}
