import Foundation
import GGUF
import Testing
@testable import Tokenization

/// Where the real model files and the shared reference fixtures live, relative to this file.
enum ReferencePaths {
    /// `<package root>`, two levels above `Tests/TokenizationTests/`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func model(_ fileName: String) -> URL {
        packageRoot.appendingPathComponent(".models").appendingPathComponent(fileName)
    }

    static func reference(_ folder: String, _ fileName: String) -> URL {
        packageRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/reference").appendingPathComponent(folder).appendingPathComponent(fileName)
    }
}

/// One reference model: its GGUF and its fixture folder.
struct ReferenceModel: Sendable, CustomTestStringConvertible {
    let fileName: String
    let folder: String
    var testDescription: String { folder }

    static let smollm2 = ReferenceModel(fileName: "SmolLM2-135M-Instruct.Q4_1.gguf", folder: "smollm2-135m")
    static let gemma3 = ReferenceModel(fileName: "gemma-3-270m-q4_k_m.gguf", folder: "gemma3-270m")
    static let qwen05 = ReferenceModel(fileName: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", folder: "qwen2.5-coder-0.5b")

    var modelURL: URL { ReferencePaths.model(fileName) }
    var isAvailable: Bool {
        FileManager.default.fileExists(atPath: modelURL.path)
            && FileManager.default.fileExists(atPath: ReferencePaths.reference(folder, "tokenizer.jsonl").path)
    }

    /// `(text, ids)` for every line of `tokenizer.jsonl`.
    func tokenizerLines() throws -> [(text: String, ids: [Int])] {
        struct Line: Decodable { let text: String; let ids: [Int] }
        let data = try String(contentsOf: ReferencePaths.reference(folder, "tokenizer.jsonl"), encoding: .utf8)
        return try data.split(separator: "\n").map { line in
            let decoded = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            return (decoded.text, decoded.ids)
        }
    }

    struct Prompts: Decodable { let prompts: [String]; let tokens: [[Int]]; let add_bos: Bool }

    func prompts() throws -> Prompts {
        try JSONDecoder().decode(Prompts.self, from: Data(contentsOf: ReferencePaths.reference(folder, "tokens.json")))
    }
}

@Suite("Reference tokenization against llama.cpp's ids")
struct ReferenceTokenizationTests {
    @Test("every tokenizer.jsonl line encodes to its ids and decodes back", arguments: [ReferenceModel.smollm2, .gemma3, .qwen05])
    func corpusLines(model: ReferenceModel) throws {
        guard model.isAvailable else {
            print("skipping \(model.folder): \(model.modelURL.path) is absent; run `make model MODEL=\(model.folder)`")
            return
        }
        let tokenizer = try Tokenizers.load(contentsOf: model.modelURL)
        let lines = try model.tokenizerLines()
        var matching = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for (text, expected) in lines {
                let ids = tokenizer.encode(text, addSpecial: false)
                #expect(ids == expected, "\(model.folder): \(text.debugDescription)")
                #expect(tokenizer.decode(expected) == text, "\(model.folder) decode: \(text.debugDescription)")
                if ids == expected { matching += 1 }
            }
        }
        print("\(model.folder): \(matching)/\(lines.count) tokenizer.jsonl lines match (encode+decode in \(elapsed))")
        #expect(matching == lines.count)
        #expect(lines.count > 0)
    }

    @Test("the tokens.json prompts encode to their ids, BOS included when the model adds it", arguments: [ReferenceModel.smollm2, .gemma3, .qwen05])
    func prompts(model: ReferenceModel) throws {
        guard model.isAvailable else {
            print("skipping \(model.folder): \(model.modelURL.path) is absent; run `make model MODEL=\(model.folder)`")
            return
        }
        let tokenizer = try Tokenizers.load(contentsOf: model.modelURL)
        let reference = try model.prompts()
        #expect(tokenizer.addsBOS == reference.add_bos)
        for (prompt, expected) in zip(reference.prompts, reference.tokens) {
            #expect(tokenizer.encode(prompt, addSpecial: true) == expected, "\(model.folder): \(prompt.prefix(60).debugDescription)")
            #expect(tokenizer.decode(expected) == prompt)
        }
        #expect(reference.prompts.count == reference.tokens.count)
    }
}
