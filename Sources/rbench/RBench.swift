import ArgumentParser
import Recording

@main
struct RBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rbench",
        abstract: "Reproducibility harness for claims about the residual stream of transformer language models.",
        discussion: ExitCodes.help,
        subcommands: [RunCommand.self, CheckCommand.self, RunsCommand.self, HistoryCommand.self, CompareCommand.self,
                      BaselineCommand.self, ImportCommand.self, ReportCommand.self, ClaimsCommand.self, ExplainCommand.self,
                      Trace.self, Tokenize.self, Generate.self, Bench.self, TestHoldRunCommand.self]
    )
}
