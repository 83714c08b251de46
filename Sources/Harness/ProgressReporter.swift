import Foundation
import Synchronization

/// Progress of long work (the claims of a run, forward passes over a corpus) with counts, rate
/// and time left, written to stderr so it never mixes with `--json` on stdout.
///
/// Two levels: an outer task (e.g. the checks of a run, driven by ``begin(_:total:unit:)`` and
/// ``advance(to:)``) and an inner one reported by callbacks (``report(_:done:total:unit:)``).
/// On a terminal one bar line is redrawn in place; without one (CI, a pipe) the inner work
/// prints a plain line at each tenth crossed, only when it runs long enough to matter.
/// The reporter only observes counts, so it cannot change any number a run records.
public final class ProgressReporter: Sendable {
    public enum Style: String, Sendable {
        /// One line redrawn in place (a terminal).
        case bar
        /// Plain lines at a modest rate (CI logs).
        case lines
        /// Nothing (`--quiet`).
        case silent
    }

    struct Task {
        var label: String
        var total: Int
        var unit: String
        var done = 0
        var start: Double
        var lastTenth = 0
    }

    struct State {
        var outer: Task?
        var inner: Task?
        var lastDraw = -Double.infinity
        var barVisible = false
    }

    public let style: Style
    /// Inner work shorter than this (seconds) prints no plain lines.
    public let minimumLineDuration: Double
    private let write: @Sendable (String) -> Void
    private let now: @Sendable () -> Double
    private let state = Mutex(State())

    /// - Parameters:
    ///   - write: receives text exactly as it should appear (lines end in a newline; bar redraws start with a carriage return).
    ///   - now: seconds on a monotonic clock (tests pass a fake one).
    public init(style: Style, minimumLineDuration: Double = 1,
                write: @escaping @Sendable (String) -> Void = ProgressReporter.writeToStandardError,
                now: @escaping @Sendable () -> Double = ProgressReporter.monotonicSeconds) {
        self.style = style
        self.minimumLineDuration = minimumLineDuration
        self.write = write
        self.now = now
    }

    /// A bar when stderr is a terminal, plain lines otherwise, nothing when `quiet`.
    public static func automatic(quiet: Bool) -> ProgressReporter {
        ProgressReporter(style: quiet ? .silent : (isatty(STDERR_FILENO) != 0 ? .bar : .lines))
    }

    @Sendable public static func writeToStandardError(_ text: String) {
        StandardStreams.writeError(text)
    }

    @Sendable public static func monotonicSeconds() -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
    private static let start = ContinuousClock.now

    // MARK: Outer task

    /// Starts the outer task: `total` units of `unit` (e.g. 14 checks).
    public func begin(_ label: String, total: Int, unit: String) {
        let time = now()
        state.withLock { state in
            state.outer = Task(label: label, total: max(total, 0), unit: unit, start: time)
            draw(&state, time: time, force: true)
        }
    }

    /// Moves the outer task to `done` units and redraws the bar.
    public func advance(to done: Int, detail: String? = nil) {
        let time = now()
        state.withLock { state in
            guard state.outer != nil else { return }
            state.outer!.done = done
            if let detail { state.outer!.label = detail }
            draw(&state, time: time, force: true)
        }
    }

    /// Ends the outer task and clears the bar.
    public func end() {
        state.withLock { state in
            state.outer = nil
            state.inner = nil
            clearBar(&state)
        }
    }

    /// `done/total · rate · ETA` of the outer task, for lines the caller prints itself.
    public func outerStatus() -> String? {
        let time = now()
        return state.withLock { state in state.outer.map { Self.counts($0, time: time) } }
    }

    // MARK: Inner work

    /// Reports inner work (forward passes over a corpus, …): a new label or a count that went
    /// down starts a new task; reaching `total` finishes it.
    public func report(_ label: String, done: Int, total: Int, unit: String = "sequences") {
        guard style != .silent else { return }
        let time = now()
        state.withLock { state in
            if state.inner == nil || state.inner!.label != label || done < state.inner!.done || state.inner!.total != total {
                state.inner = Task(label: label, total: max(total, 0), unit: unit, start: time)
            }
            state.inner!.done = done
            let task = state.inner!
            switch style {
            case .lines:
                let tenth = task.total > 0 ? min(10, done * 10 / task.total) : 10
                if tenth > task.lastTenth {
                    state.inner!.lastTenth = tenth
                    if time - task.start >= minimumLineDuration {
                        write("  \(task.label): \(Self.counts(task, time: time))\n")
                    }
                }
            case .bar:
                draw(&state, time: time, force: done >= task.total)
            case .silent:
                break
            }
            if done >= task.total {
                state.inner = nil
                if style == .bar { draw(&state, time: time, force: true) }
            }
        }
    }

    /// A whole message line (clears the bar first, redraws it after).
    public func note(_ line: String) {
        guard style != .silent else { return }
        let time = now()
        state.withLock { state in
            clearBar(&state)
            write(line + "\n")
            draw(&state, time: time, force: true)
        }
    }

    // MARK: Drawing

    private func clearBar(_ state: inout State) {
        guard style == .bar, state.barVisible else { return }
        write("\r\u{1B}[K")
        state.barVisible = false
    }

    /// Redraws the bar line at most ten times a second unless `force`.
    private func draw(_ state: inout State, time: Double, force: Bool) {
        guard style == .bar else { return }
        guard force || time - state.lastDraw >= 0.1 else { return }
        guard let task = state.inner ?? state.outer else {
            clearBar(&state)
            return
        }
        var line = ""
        if let outer = state.outer, state.inner != nil {
            line += "[\(outer.done)/\(outer.total)] \(outer.label) · "
        }
        line += "\(task.label) \(Self.bar(task)) \(Self.counts(task, time: time))"
        write("\r\u{1B}[K" + line)
        state.barVisible = true
        state.lastDraw = time
    }

    static func bar(_ task: Task, width: Int = 20) -> String {
        let filled = task.total > 0 ? min(width, task.done * width / task.total) : width
        return "▕" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "▏"
    }

    /// `64/256 sequences (25%) · 41/s · ETA 5 s`, or `2/8 checks (25%) · 5.0 s each · ETA 30 s` when slow.
    static func counts(_ task: Task, time: Double) -> String {
        let percent = task.total > 0 ? task.done * 100 / task.total : 100
        var text = "\(task.done)/\(task.total) \(task.unit) (\(percent)%)"
        let elapsed = time - task.start
        if task.done > 0, elapsed > 0 {
            let rate = Double(task.done) / elapsed
            // Slow work reads better as time per unit (a check every 49 s) than as 0.02/s.
            text += " · " + (rate >= 10 ? String(format: "%.0f/s", rate) : rate >= 1 ? String(format: "%.1f/s", rate)
                : 1 / rate < 10 ? String(format: "%.1f s each", 1 / rate) : String(format: "%.0f s each", 1 / rate))
            if task.done < task.total { text += " · ETA " + duration(Double(task.total - task.done) / rate) }
        }
        return text
    }

    /// `<1 s`, `12 s`, `3 m 05 s`, `1 h 02 m`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        if seconds < 1 { return "<1 s" }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return String(format: "%d m %02d s", whole / 60, whole % 60) }
        return String(format: "%d h %02d m", whole / 3600, (whole % 3600) / 60)
    }
}
