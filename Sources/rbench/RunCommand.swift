import ArgumentParser
import Engine
import Foundation
import Harness
import Recording

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a suite, record it, and compare it with the baselines.",
        discussion: """
        Runs every claim of the suite on its model and on each listed control, records the \
        metrics with the git revision and the model, corpus and suite hashes (results/rbench.sqlite \
        and results/runs/<id>.json), then judges them against Baselines/. Progress (checks done, \
        rate, time left, forward passes) goes to stderr: a redrawn bar on a terminal, plain lines \
        otherwise, nothing with --quiet.

        A suite with no baseline file for any determinism class compares nothing: the output \
        ends with "no baseline: nothing was compared; `rbench baseline init --suite NAME` …" and \
        the exit code is 0 unless --strict (then 4, so CI cannot pass without a baseline).

        Examples:
          rbench run --suite smoke
          rbench run --suite smoke --strict   # no baseline: exit 4, not 0
          rbench run --suite paper --markdown results/summary.md
          rbench run --suite new-model --model my.gguf      # validate the claims on another GGUF
          rbench run --suite /tmp/mine.yaml --db /tmp/mine.sqlite --json --quiet > verdicts.json
          rbench run --suite smoke --save-states /tmp/states   # .npy + manifest.json of every state a check read
          rbench run --suite smoke --states /tmp/states        # capture-only checks from those files, no model

        --states runs the checks that only read last-position states (TD-1…TD-6, LoT-1, LoT-3…) from a \
        states folder written by --save-states or by another tool in that format (docs/states.md); checks \
        that run a model come out "needs an engine", neither an error nor a verdict.

        \(ExitCodes.help)
        """)

    @Option(help: "Suite name (Suites/<name>.yaml) or path to a suite file.")
    var suite: String

    @Option(help: "Use this model file instead of the suite's (its hash is recorded).")
    var model: String?

    @Option(help: "Where the suite's model file is looked up.")
    var modelsDir: String = ".models"

    @Option(help: "Folders relative corpus paths are looked up in (repeatable).")
    var corpora: [String] = ["../shared/corpora", "corpora"]

    @Flag(help: "Count a missing baseline (4) and inconclusive timings (8) as findings. Without it a suite with no baseline exits 0 and says \"no baseline: nothing was compared\".")
    var strict = false

    @Flag(help: "No progress on stderr (errors are still printed).")
    var quiet = false

    @Flag(help: "Print where each check's time went: forward passes (tokens, tok/s), resumes, readouts, resampling, statistics.")
    var profile = false

    @Option(help: "Where the block matrices live: auto (dense up to 1 GiB of Float32 matrices), dense or quantized. Same bits either way.")
    var weights = "auto"

    @Option(help: "The engine that runs the models: native (this build's) or transformers (HF transformers in a worker; `make engines` builds its venv).")
    var engine = "native"

    @Option(help: "With --engine transformers: the torch device (default: cuda when present, else cpu).")
    var device: String?

    @Option(help: "Write every state each check × subject read (.npy, TransformerLens hook names, manifest.json) to this new folder.")
    var saveStates: String?

    @Flag(help: "With --save-states: also one .safetensors file per state set.")
    var safetensors = false

    @Option(help: "Read the states from this folder (written by --save-states or another tool) instead of running the model.")
    var states: String?

    func validate() throws {
        guard ResidencyPolicy(name: weights) != nil else {
            throw ValidationError("--weights must be auto, dense or quantized, not '\(weights)'.")
        }
        if states != nil, saveStates != nil {
            throw ValidationError("--states reads recorded states and --save-states writes the states a model run makes: give one of them.")
        }
        guard ["native", "transformers"].contains(engine) else {
            throw ValidationError("--engine must be native or transformers, not '\(engine)'.")
        }
        if engine != "native", states != nil { throw ValidationError("--states runs no engine; drop --engine.") }
        if device != nil, engine == "native" { throw ValidationError("--device is for --engine transformers.") }
        if safetensors, saveStates == nil { throw ValidationError("--safetensors needs --save-states DIR.") }
        if states != nil, model != nil { throw ValidationError("--states replaces the model; --model has nothing to do with it.") }
    }

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        var code: Int32 = 0
        let reporter = ProgressReporter.automatic(quiet: quiet)
        try withExitCodes {
            let invocation = SuiteInvocation(suite: suite, model: model, modelsDir: modelsDir, corpora: corpora, weights: weights,
                                             engine: engine, device: device, states: states, saveStates: saveStates,
                                             safetensors: safetensors)
            let prepared = try invocation.load()
            let parsed = prepared.suite
            let results = try store.openStore()
            let report = try invocation.run(prepared, store: results, runsDirectory: store.runsDirectory,
                                            baselinesDirectory: store.baselinesURL, strict: strict, reporter: reporter)
            try output.emit(run: report.run, verdicts: report.verdicts, exitCode: report.exitCode, regime: report.regime)
            if !output.json {
                print("\nClaims (\(parsed.name), model \(report.run.modelSHA256.prefix(8))):")
                print(ClaimSummary(run: report.run).table(), terminator: "")
                if profile {
                    print("\nWhere the time went (seconds; statistics is the rest of each check's wall time):")
                    print(ProfileReport.table(report.run), terminator: "")
                }
                for entry in VerdictMatrix.corpusDependence(report.run) {
                    print("corpus-dependent: \(entry.check): " + entry.verdicts.map { "\($0.claim) \($0.verdict.rawValue)" }.joined(separator: ", "))
                }
                let runs = try VerdictMatrix.latestRunsPerModel(store: results, suite: parsed.name)
                if runs.count > 1 || model != nil {
                    print("\nClaim × model (latest complete run of suite \(parsed.name) per model and engine):")
                    print(VerdictMatrix.table(runs), terminator: "")
                    // The matrix pushed the table's closing line out of sight: repeat that nothing was compared.
                    if report.regime.kind == .none { print("\n\(report.regime.summary)") }
                }
            }
            code = report.exitCode
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// `smoke` → `Suites/smoke.yaml`; anything that looks like a path is taken as is.
func suitePath(_ name: String) -> URL {
    if name.contains("/") || name.hasSuffix(".yaml") || name.hasSuffix(".yml") { return URL(fileURLWithPath: name) }
    return URL(fileURLWithPath: "Suites/\(name).yaml")
}
