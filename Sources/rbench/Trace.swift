import ArgumentParser
import Engine
import Foundation
import NPY

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run prompts and write the residual stream at every layer as NumPy files.",
        discussion: """
        Writes to DIR:
          residual.npy   float32 [prompts, layers+1, d_model] (--positions last), or
                         residual_<i>.npy float32 [tokens, layers+1, d_model] per prompt (--positions all)
          logits.npy     float32 [prompts, vocab] at the last position
          tokens.json    {"prompts": [...], "tokens": [[...]], "add_bos": bool}
          meta.json      model, shapes, hook names
        Index 0 is the embedding fed to block 0, index l the output of block l, the last index \
        the last block's output before the final norm.

        Examples:
          rbench trace --prompts prompts.txt --out traces/
          rbench trace --tokens ../shared/reference/smollm2-135m/tokens.json --out traces/ --positions all
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("A tokens.json file (the format of shared/reference).", valueName: "file"))
    var tokens: String?
    @Option(help: ArgumentHelp("Text file, one prompt per line.", valueName: "file")) var prompts: String?
    @Option(help: ArgumentHelp("Output folder.", valueName: "dir")) var out: String
    @Option(help: "last or all.") var positions: PositionSelection = .last

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
    }

    func validate() throws {
        guard (tokens == nil) != (prompts == nil) else {
            throw ValidationError("Give exactly one of --tokens FILE.json or --prompts FILE.txt.")
        }
    }

    func run() throws {
        let (_, languageModel, tokenizer) = try model.load()
        let input: TokensFile
        if let tokens {
            do {
                input = try JSONDecoder().decode(TokensFile.self, from: Data(contentsOf: URL(fileURLWithPath: tokens)))
            } catch {
                throw ValidationError("\(tokens): not a tokens.json file ({\"prompts\", \"tokens\", \"add_bos\"}): \(error)")
            }
        } else {
            let lines = try readPromptLines(prompts!)
            input = TokensFile(prompts: lines, tokens: lines.map { tokenizer.encode($0, addSpecial: true) },
                               add_bos: tokenizer.addsBOS)
        }
        let c = languageModel.configuration
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var hooks = (0...c.blockCount).map(HookPoint.residual)
        hooks.append(.finalNorm)
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
        let lastNormalized = input.tokens.indices.flatMap { p in
            Array(capture.vector(prompt: p, row: positions == .last ? 0 : input.tokens[p].count - 1, hook: .finalNorm))
        }
        let logits = languageModel.logits(fromNormalized: lastNormalized, rows: input.tokens.count)
        try NPYArray(shape: [input.tokens.count, c.vocabularySize], float32: logits)
            .write(to: directory.appendingPathComponent("logits.npy"))
        try writeJSON(input, to: directory.appendingPathComponent("tokens.json"))
        try writeJSON(Meta(model: languageModel.origin, architecture: c.architecture.rawValue, prompts: input.tokens.count,
                           tokens_per_prompt: input.tokens.map(\.count), n_layers_plus_1: states, d_model: d,
                           vocab: c.vocabularySize, positions: positions.rawValue,
                           hooks: (0...c.blockCount).map { HookPoint.residual($0).name(blockCount: c.blockCount) }),
                      to: directory.appendingPathComponent("meta.json"))
        print("wrote \(directory.path)")
    }
}

extension PositionSelection: ExpressibleByArgument {}
