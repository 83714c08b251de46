import ArgumentParser
import Foundation
import Harness
import Recording

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Judge a recorded run against the baselines (default: the latest complete run).",
        discussion: """
        The table lists what needs attention first (changed, stale, claim flips); --full lists \
        every metric. Its last line names the regime that applied: bitwise (the baseline of the \
        run's own determinism class) or cross-class tolerance (another class's file, per-line \
        tolerances) — the same rule `compare` uses.

        A suite with no baseline compares nothing: the table ends with "no baseline: nothing \
        was compared; `rbench baseline init --suite NAME` …", and the exit code is 0 unless \
        --strict (then 4).

        The database is only read (a read-only file is fine); the verdicts are also stored when \
        it is writable. A run recorded complete whose verdicts were never stored (killed after \
        recording) is flagged and judged now.

        Examples:
          rbench check
          rbench check 3f2a --strict --junit results/junit.xml --markdown results/summary.md
          rbench check --json | jq '.exitCode'

        \(ExitCodes.help)
        """)

    @Argument(help: "A run id (or prefix) or a commit sha (prefix).")
    var runReference: String?

    @Flag(help: "Count a missing baseline (4) and inconclusive timings (8) as findings; without it \"no baseline: nothing was compared\" exits 0.")
    var strict = false

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        var code: Int32 = 0
        try withExitCodes {
            let results = try store.openForReading()
            let id = try results.resolveRun(runReference)
            let summary = try results.summary(ofRun: id)
            let record = try results.loadRun(id: id)
            guard record.status == .complete else {
                throw RecordingError.refused(notJudgeable(id: id, summary: summary, status: record.status))
            }
            if summary?.verdictsMissing == true {
                printNote("run \(id) was recorded complete but its verdicts were never stored (the process died after recording, its baseline could not be read, or it was imported from a run file); judging it now")
            }
            let baseline = try Comparator.baseline(for: record, in: store.baselinesURL)
            let regime = ComparisonRegime.of(run: record, baseline: baseline)
            let verdicts = Comparator.compare(run: record, baseline: baseline)
            store.saveVerdictsIfWritable(verdicts, runID: id)
            code = ExitCodes.findings(verdicts, strict: strict)
            try output.emit(run: record, verdicts: verdicts, exitCode: code, regime: regime)
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// Why a run cannot be judged or compared, saying whether a `running` one is still alive.
func notJudgeable(id: String, summary: RunSummary?, status: RunStatus) -> String {
    if summary?.isStale == true {
        return "run \(id) is stale: recorded as running, but its process (\(summary?.leaseOwner ?? "unknown")) is gone, so it will never complete; the next `rbench run` marks it aborted. Only complete runs are judged"
    }
    return "run \(id) is \(status.rawValue), not complete; only complete runs are judged"
}
