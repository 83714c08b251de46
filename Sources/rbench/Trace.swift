import ArgumentParser
import Engine
import Foundation
import Harness
import NPY

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run prompts and write the residual stream at every layer as NumPy files.",
        discussion: """
        Writes to DIR:
          residual.npy   float32 [prompts, layers+1, d_model] (--positions last), or
                         residual_<i>.npy float32 [tokens, layers+1, d_model] per prompt (--positions all)
          logits.npy     float32 [prompts, vocab] at the last position (not with --no-logits)
          tokens.json    {"prompts": [...], "tokens": [[...]], "add_bos": bool}
          meta.json      model, shapes, hook names
        Index 0 is the embedding fed to block 0, index l the output of block l, the last index \
        the last block's output before the final norm.

        A prompt file has one prompt per line (LF or CRLF); an empty line is an error naming it. \
        A tokens.json needs as many token lists as prompts, each non-empty and inside the vocabulary.

        Examples:
          rbench trace --prompts prompts.txt --out traces/
          rbench trace --prompts chat.txt --special --no-bos --no-logits --out traces/
          rbench trace --tokens ../shared/reference/smollm2-135m/tokens.json --out traces/ --positions all

        Exit codes: 0 done, 64 usage error, 65 missing or malformed model, prompt or tokens file, 70 internal error.
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("A tokens.json file (the format of shared/reference).", valueName: "file"))
    var tokens: String?
    @Option(help: ArgumentHelp("Text file, one prompt per line.", valueName: "file")) var prompts: String?
    @Option(help: ArgumentHelp("Output folder.", valueName: "dir")) var out: String
    @Option(help: "last or all.") var positions: PositionSelection = .last
    @OptionGroup var tokenization: TokenizationOptions
    @Flag(help: "Write no logits.npy (saves a [prompts, vocab] array and the unembedding).") var noLogits = false

    struct TokensFile: Codable {
        var prompts: [String]
        var tokens: [[Int]]
        var add_bos: Bool
    }

    struct Meta: Codable {
        var model: String
        var architecture: String
        var prompts: Int
        var tokens_per_prompt: [Int]
        var n_layers_plus_1: Int
        var d_model: Int
        var vocab: Int
        var positions: String
        var hooks: [String]
        var logits: Bool
    }

    func validate() throws {
        guard (tokens == nil) != (prompts == nil) else {
            throw ValidationError("Give exactly one of --tokens FILE.json or --prompts FILE.txt.")
        }
        if tokens != nil, tokenization.noBOS || tokenization.special {
            throw ValidationError("--no-bos and --special apply to --prompts; a tokens.json already holds its ids.")
        }
    }

    func run() throws {
        try withExitCodes { try writeTrace() }
    }

    private func writeTrace() throws {
        // The input files are checked before the model is loaded, so a bad one fails at once.
        let given = try tokens.map(Self.readTokensFile)
        let lines = try prompts.map { path in
            let lines = try readPromptLines(path)
            try requireNonEmptyPrompts(lines, in: path)
            return lines
        }
        let (_, languageModel, tokenizer) = try model.load()
        let input: TokensFile
        if let given, let tokens {
            try Self.checkVocabulary(given, of: tokens, size: languageModel.configuration.vocabularySize)
            input = given
        } else {
            let lines = lines!
            input = TokensFile(prompts: lines, tokens: lines.map { tokenization.encode($0, tokenizer) },
                               add_bos: tokenization.addsBOS(tokenizer))
            if let index = input.tokens.firstIndex(where: \.isEmpty) {
                throw HarnessError.badInput("\(prompts!):\(index + 1): the line gives no tokens")
            }
        }
        let c = languageModel.configuration
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var hooks = (0...c.blockCount).map(HookPoint.residual)
        if !noLogits { hooks.append(.finalNorm) }
        let capture = try languageModel.capture(input.tokens, plan: CapturePlan(hooks: hooks, positions: positions))
        let d = c.modelWidth, states = c.residualCount
        func residualRows(prompt: Int, rows: Range<Int>) -> [Float] {
            rows.flatMap { row in (0..<states).flatMap { Array(capture.vector(prompt: prompt, row: row, hook: .residual($0))) } }
        }
        switch positions {
        case .last:
            let values = input.tokens.indices.flatMap { residualRows(prompt: $0, rows: 0..<1) }
            try NPYArray(shape: [input.tokens.count, states, d], float32: values).write(to: directory.appendingPathComponent("residual.npy"))
        case .all:
            for (i, prompt) in input.tokens.enumerated() {
                try NPYArray(shape: [prompt.count, states, d], float32: residualRows(prompt: i, rows: 0..<prompt.count))
                    .write(to: directory.appendingPathComponent("residual_\(i).npy"))
            }
        }
        if !noLogits {
            let lastNormalized = input.tokens.indices.flatMap { p in
                Array(capture.vector(prompt: p, row: positions == .last ? 0 : input.tokens[p].count - 1, hook: .finalNorm))
            }
            let logits = languageModel.logits(fromNormalized: lastNormalized, rows: input.tokens.count)
            try NPYArray(shape: [input.tokens.count, c.vocabularySize], float32: logits)
                .write(to: directory.appendingPathComponent("logits.npy"))
        }
        try writeJSON(input, to: directory.appendingPathComponent("tokens.json"))
        try writeJSON(Meta(model: languageModel.origin, architecture: c.architecture.rawValue, prompts: input.tokens.count,
                           tokens_per_prompt: input.tokens.map(\.count), n_layers_plus_1: states, d_model: d,
                           vocab: c.vocabularySize, positions: positions.rawValue,
                           hooks: (0...c.blockCount).map { HookPoint.residual($0).name(blockCount: c.blockCount) },
                           logits: !noLogits),
                      to: directory.appendingPathComponent("meta.json"))
        print("wrote \(directory.path)")
    }

    /// Reads and checks a tokens.json: as many token lists as prompts, at least one, each
    /// non-empty. Throws ``HarnessError/badInput(_:)`` naming the file.
    static func readTokensFile(_ path: String) throws -> TokensFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarnessError.badInput("\(path): cannot be read (no such file, or no permission)")
        }
        let input: TokensFile
        do {
            input = try JSONDecoder().decode(TokensFile.self, from: data)
        } catch {
            throw HarnessError.badInput("\(path): not a tokens.json file ({\"prompts\": [...], \"tokens\": [[...]], \"add_bos\": bool}): \(error)")
        }
        guard input.prompts.count == input.tokens.count else {
            throw HarnessError.badInput("\(path): \"prompts\" has \(input.prompts.count) entries but \"tokens\" has \(input.tokens.count); they must pair up")
        }
        guard !input.tokens.isEmpty else { throw HarnessError.badInput("\(path): has no prompts") }
        if let index = input.tokens.firstIndex(where: \.isEmpty) {
            throw HarnessError.badInput("\(path): tokens[\(index)] is empty")
        }
        return input
    }

    /// Throws ``HarnessError/badInput(_:)`` naming `path` and the first id outside `0..<size`.
    static func checkVocabulary(_ input: TokensFile, of path: String, size: Int) throws {
        for (index, ids) in input.tokens.enumerated() {
            if let bad = ids.first(where: { !(0..<size).contains($0) }) {
                throw HarnessError.badInput("\(path): tokens[\(index)] holds id \(bad), outside the model's vocabulary 0..<\(size)")
            }
        }
    }
}

extension PositionSelection: ExpressibleByArgument {}
