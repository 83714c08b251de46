import Foundation
import GGUF
import Testing
@testable import Tokenization

/// Writes a GGUF holding only tokenizer metadata to a temporary file and returns its URL.
private func writeGGUF(_ values: [String: GGUFValue], name: String) throws -> URL {
    var writer = GGUFWriter()
    for key in values.keys.sorted() { writer.setValue(values[key]!, forKey: key) }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("tokenization-\(name)-\(UUID().uuidString).gguf")
    try writer.write(to: url)
    return url
}

private func strings(_ values: [String]) -> GGUFValue { .array(values.map { .string($0) }) }

@Suite("Loading tokenizers from GGUF metadata")
struct GGUFLoadingTests {
    @Test("a gpt2 vocabulary loads as byte-level BPE with its merges and pre-tokenizer")
    func bytelevelFromGGUF() throws {
        let alphabet = (0...255).map { ByteAlphabet.gpt2.string(forByte: UInt8($0)) }
        let url = try writeGGUF([
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string("smollm"),
            "tokenizer.ggml.tokens": strings(alphabet + ["Ġh", "<|end|>"]),
            "tokenizer.ggml.token_type": .array([GGUFValue](repeating: .int32(1), count: 257) + [.int32(3)]),
            "tokenizer.ggml.merges": strings(["Ġ h"]),
            "tokenizer.ggml.eos_token_id": .uint32(257),
            "tokenizer.ggml.add_bos_token": .bool(false),
        ], name: "bpe")
        defer { try? FileManager.default.removeItem(at: url) }
        let tokenizer = try Tokenizers.load(contentsOf: url)
        #expect(tokenizer is ByteLevelBPETokenizer)
        #expect(tokenizer.vocabularySize == 258 && tokenizer.eosID == 257 && tokenizer.bosID == nil && !tokenizer.addsBOS)
        #expect(tokenizer.vocabulary.source == url.path)
        #expect(tokenizer.encode(" h1", addSpecial: true) == [256, 0x31])
        #expect(tokenizer.encode("<|end|>", addSpecial: false, parseSpecial: true) == [257])
    }

    @Test("a llama vocabulary loads as SentencePiece; missing add_bos/add_space_prefix take llama.cpp's defaults")
    func sentencePieceFromGGUF() throws {
        let url = try writeGGUF([
            "tokenizer.ggml.model": .string("llama"),
            "tokenizer.ggml.tokens": strings(["<unk>", "<s>", "</s>", "▁a", "a"]),
            "tokenizer.ggml.scores": .array([0, 0, 0, -1, -2].map { .float32($0) }),
            "tokenizer.ggml.token_type": .array([2, 3, 3, 1, 1].map { .int32($0) }),
            "tokenizer.ggml.bos_token_id": .uint32(1),
            "tokenizer.ggml.eos_token_id": .uint32(2),
            "tokenizer.ggml.unknown_token_id": .uint32(0),
        ], name: "spm")
        defer { try? FileManager.default.removeItem(at: url) }
        let tokenizer = try Tokenizers.load(contentsOf: url)
        #expect(tokenizer is SentencePieceTokenizer)
        #expect(tokenizer.addsBOS && tokenizer.vocabulary.addSpacePrefix)
        #expect(tokenizer.encode("a", addSpecial: true) == [1, 3])
        #expect(tokenizer.decode([1, 3]) == "a")
    }

    @Test("an unknown token type and an unknown model are tokenizer errors naming the file")
    func invalidMetadata() throws {
        let badType = try writeGGUF([
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string("gpt2"),
            "tokenizer.ggml.tokens": strings(["a"]),
            "tokenizer.ggml.token_type": .array([.int32(9)]),
        ], name: "badtype")
        defer { try? FileManager.default.removeItem(at: badType) }
        #expect(throws: TokenizerError.self) { try Tokenizers.load(contentsOf: badType) }

        let badModel = try writeGGUF([
            "tokenizer.ggml.model": .string("t5"),
            "tokenizer.ggml.tokens": strings(["a"]),
        ], name: "badmodel")
        defer { try? FileManager.default.removeItem(at: badModel) }
        #expect(throws: TokenizerError.unknownModel(name: "t5", source: badModel.path)) {
            try Tokenizers.load(contentsOf: badModel)
        }
    }
}
