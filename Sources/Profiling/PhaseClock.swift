import Dispatch
import Synchronization

/// Where a check's time goes: the phases `rbench run --profile` splits it into.
public enum Phase: String, Sendable, CaseIterable, Codable {
    /// Prompts run through the model (captures and prefills).
    case forward
    /// Single-position resumes from a cached prefix (TD-7, SR, LoT-2 variant A).
    case resume
    /// Final norms, logits and other readouts.
    case readout
    /// Recomputing statistics on resamples (bootstrap, jackknife) for the intervals.
    case resampling
}

/// Process-wide, thread-safe totals of the time spent in each ``Phase`` and of the work done
/// there (tokens for `forward`, rows for `resume` and `readout`, replicates for `resampling`).
///
/// The harness reads a snapshot before and after each check; the difference is that check's
/// split, and what is left of its wall time is statistics and bookkeeping. Nested sections of
/// the same phase count once (the outer one), so a phase's time is never counted twice.
public enum PhaseClock {
    /// One moment's totals.
    public struct Snapshot: Sendable, Equatable {
        public var nanoseconds: [Phase: UInt64] = [:]
        public var work: [Phase: Int] = [:]

        public static func - (later: Snapshot, earlier: Snapshot) -> Snapshot {
            var difference = Snapshot()
            for phase in Phase.allCases {
                difference.nanoseconds[phase] = (later.nanoseconds[phase] ?? 0) &- (earlier.nanoseconds[phase] ?? 0)
                difference.work[phase] = (later.work[phase] ?? 0) - (earlier.work[phase] ?? 0)
            }
            return difference
        }
    }

    private struct State {
        var totals = Snapshot()
        var depth: [Phase: Int] = [:]
    }
    private static let state = Mutex(State())

    /// The totals so far.
    public static func snapshot() -> Snapshot { state.withLock { $0.totals } }

    /// Runs `body`, adding its wall time to `phase` and `work` to the phase's work count.
    @discardableResult
    public static func time<T>(_ phase: Phase, work: Int = 0, _ body: () throws -> T) rethrows -> T {
        let outermost = state.withLock { s -> Bool in
            s.depth[phase, default: 0] += 1
            s.totals.work[phase, default: 0] += work
            return s.depth[phase] == 1
        }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let elapsed = DispatchTime.now().uptimeNanoseconds &- start
            state.withLock { s in
                s.depth[phase, default: 1] -= 1
                if outermost { s.totals.nanoseconds[phase, default: 0] &+= elapsed }
            }
        }
        return try body()
    }
}
