import ArgumentParser

@main
struct RBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rbench",
        abstract: "Reproducibility harness for claims about the residual stream of transformer language models.",
        subcommands: [Trace.self, Tokenize.self, Generate.self, Bench.self]
    )
}
