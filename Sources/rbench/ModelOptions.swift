import ArgumentParser
import Engine
import Foundation
import GGUF
import Tokenization

/// `--model PATH`, shared by the commands that load a GGUF.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("GGUF model file.", valueName: "path"))
    var model: String = ".models/SmolLM2-135M-Instruct.Q4_1.gguf"

    var url: URL { URL(fileURLWithPath: model) }

    func checkExists() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("\(model): no such file. Fetch the default model with `rbench fetch smollm2-135m` (`rbench models` lists the known ones), or pass --model PATH.")
        }
    }

    /// The model file and its tokenizer, loaded from one mapping.
    func load() throws -> (GGUFFile, LanguageModel, any Tokenizer) {
        try checkExists()
        let file = try GGUFFile(contentsOf: url)
        return (file, try LanguageModel(gguf: file), try Tokenizers.load(from: file))
    }

    func loadTokenizer() throws -> any Tokenizer {
        try checkExists()
        return try Tokenizers.load(contentsOf: url)
    }
}

/// Reads non-empty lines of a text file (one prompt per line).
func readPromptLines(_ path: String) throws -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw ValidationError("\(path): cannot be read as UTF-8 text.")
    }
    return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
}

func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    try encoder.encode(value).write(to: url, options: .atomic)
}
