import ArgumentParser
import Foundation
import Harness
import Recording

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Compare two complete runs (run ids or commit shas): numbers bitwise, timings A/B.",
        discussion: """
        Deterministic metrics must be bitwise equal (within one determinism class); timings are \
        compared with Hodges–Lehmann / Mann–Whitney against the --margin.

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

    func run() throws {
        var code: Int32 = 0
        try withExitCodes {
            let results = try store.openStore()
            let base = try results.loadRun(id: try results.resolveRun(revA))
            let head = try results.loadRun(id: try results.resolveRun(revB))
            let verdicts = Comparator.compare(head: head, base: base, policy: ComparisonPolicy(timingMargin: margin))
            code = ExitCodes.findings(verdicts, strict: false)
            try output.emit(run: head, verdicts: verdicts, exitCode: code)
        }
        if gate, code != 0 { throw ExitCode(code) }
    }
}
