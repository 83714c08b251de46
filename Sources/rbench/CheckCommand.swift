import ArgumentParser
import Foundation
import Harness
import Recording

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Judge a recorded run against the baselines (default: the latest complete run).",
        discussion: """
        The table lists what needs attention first (changed, stale, claim flips); --full lists \
        every metric. A missing baseline is not a failure unless --strict.

        Examples:
          rbench check
          rbench check 3f2a --strict --junit results/junit.xml --markdown results/summary.md
          rbench check --json | jq '.exitCode'

        \(ExitCodes.help)
        """)

    @Argument(help: "A run id (or prefix) or a commit sha (prefix).")
    var runReference: String?

    @Flag(help: "Count missing baselines (4) and inconclusive timings (8) as findings.")
    var strict = false

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        var code: Int32 = 0
        try withExitCodes {
            let results = try store.openStore()
            let id = try results.resolveRun(runReference)
            let record = try results.loadRun(id: id)
            guard record.status == .complete else {
                throw RecordingError.refused("run \(id) is \(record.status.rawValue), not complete; only complete runs are judged")
            }
            let verdicts = try Comparator.compare(run: record, baselinesDirectory: store.baselinesURL)
            try results.saveVerdicts(verdicts, runID: id)
            code = ExitCodes.findings(verdicts, strict: strict)
            try output.emit(run: record, verdicts: verdicts, exitCode: code)
        }
        if code != 0 { throw ExitCode(code) }
    }
}
