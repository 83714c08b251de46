import ArgumentParser
import Engine
import Foundation
import GGUF
import Harness
import Tokenization

/// `--model PATH`, shared by the commands that load a GGUF.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("GGUF model file.", valueName: "path"))
    var model: String = ".models/SmolLM2-135M-Instruct.Q4_1.gguf"

    var url: URL { URL(fileURLWithPath: model) }

    func checkExists() throws {
        try checkModelExists(model)
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

/// A missing model file is missing input (65), with the way to get one.
func checkModelExists(_ path: String) throws {
    guard FileManager.default.fileExists(atPath: path) else {
        throw HarnessError.badInput("\(path): no such file. Fetch the default model with `rbench fetch smollm2-135m` (`rbench models` lists the known ones), or pass --model PATH.")
    }
}

/// How text becomes token ids, as llama.cpp's tokenizer options: BOS (and EOS) as the model's
/// metadata asks unless `--no-bos`; control tokens written in the text parsed only with `--special`.
struct TokenizationOptions: ParsableArguments {
    @Flag(name: .customLong("no-bos"), help: "Add no BOS (nor EOS) token, even if the model's metadata asks for one.")
    var noBOS = false

    @Flag(name: [.customLong("special"), .customLong("parse-special")],
          help: "Parse special tokens written in the text (e.g. <|im_start|>) as single tokens.")
    var special = false

    func encode(_ text: String, _ tokenizer: any Tokenizer) -> [Int] {
        tokenizer.encode(text, addSpecial: !noBOS, parseSpecial: special)
    }

    /// Whether ``encode(_:_:)`` prepends BOS.
    func addsBOS(_ tokenizer: any Tokenizer) -> Bool { !noBOS && tokenizer.addsBOS }
}

/// The lines of a prompt file, one prompt per line: LF or CRLF endings, the last newline
/// optional, a leading byte-order mark ignored, and empty lines kept so every line keeps its
/// number. Throws ``HarnessError/badInput(_:)`` (65) for a file that is missing, not UTF-8, or empty.
func readPromptLines(_ path: String) throws -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw HarnessError.badInput("\(path): cannot be read (no such file, or no permission)")
    }
    guard String(validating: data, as: UTF8.self) != nil else {
        throw HarnessError.badInput("\(path): is not UTF-8 text")
    }
    var bytes = data[...]
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
    // Split on the LF byte: Swift's Character view treats CRLF as one character, so a
    // character split would leave a CRLF file as a single line.
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
        String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
    }
    if bytes.last == UInt8(ascii: "\n") || bytes.isEmpty { lines.removeLast() }
    guard !lines.isEmpty else {
        throw HarnessError.badInput("\(path): has no lines; write one prompt per line")
    }
    return lines
}

/// Throws ``HarnessError/badInput(_:)`` naming the first empty line of `path`: a prompt needs text.
func requireNonEmptyPrompts(_ lines: [String], in path: String) throws {
    if let index = lines.firstIndex(where: \.isEmpty) {
        throw HarnessError.badInput("\(path):\(index + 1): empty line; every line is one prompt, so write one there or remove the line")
    }
}

func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    try encoder.encode(value).write(to: url, options: .atomic)
}
