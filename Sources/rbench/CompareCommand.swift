import ArgumentParser
import Foundation
import Harness
import Recording

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Compare two complete runs (run ids or commit shas) with the rule `check` uses; timings A/B.",
        discussion: """
        Deterministic metrics follow the regime `check` applies: bitwise within one determinism \
        class; across classes (other threads, BLAS kernel, CPU) within the tolerance of the \
        metric's line in the suite's baseline file (abs 1e-06, rel 0.0001 — the default of new \
        baseline lines — when there is none). The output's last line names the regime. Timings \
        are compared with Hodges–Lehmann / Mann–Whitney against the --margin.

        Examples:
          rbench compare main-run-id head-run-id
          rbench compare a1b2c3 d4e5f6 --gate --margin 0.10
          rbench compare a1b2c3 d4e5f6 --json > comparison.json

        \(ExitCodes.help)
        """)

    @Argument(help: "The base: a run id or commit sha (prefix).")
    var revA: String

    @Argument(help: "The head: a run id or commit sha (prefix).")
    var revB: String

    @Flag(help: "Exit with the findings bitmask (otherwise 0 whatever the verdicts).")
    var gate = false

    @Option(help: "Practical margin δ for timings (0.05 = 5%).")
    var margin = 0.05

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard margin.isFinite, margin >= 0 else { throw ValidationError("--margin must be a finite number ≥ 0, not \(margin)") }
    }

    func run() throws {
        var code: Int32 = 0
        try withExitCodes {
            let results = try store.openForReading()
            func completeRun(_ reference: String) throws -> RunRecord {
                let id = try results.resolveRun(reference)
                let record = try results.loadRun(id: id)
                guard record.status == .complete else {
                    throw RecordingError.refused(notJudgeable(id: id, summary: try results.summary(ofRun: id), status: record.status))
                }
                return record
            }
            let base = try completeRun(revA)
            let head = try completeRun(revB)
            // Cross-class tolerances come from the suite's baseline lines, exactly as `check` reads them.
            let tolerances = try Comparator.baseline(for: base, in: store.baselinesURL).map { (file: $0.file, path: $0.path) }
            let verdicts = Comparator.compare(head: head, base: base, tolerances: tolerances?.file,
                                              policy: ComparisonPolicy(timingMargin: margin))
            code = ExitCodes.findings(verdicts, strict: false)
            try output.emit(run: head, verdicts: verdicts, exitCode: code,
                            regime: ComparisonRegime.of(head: head, base: base, tolerances: tolerances))
        }
        if gate, code != 0 { throw ExitCode(code) }
    }
}
