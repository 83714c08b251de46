import Foundation
import GGUF
import Testing

/// The real SmolLM2 file, if `make model` has put it in `<package root>/.models`.
enum SmolLM2 {
    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf")
    static var isPresent: Bool { FileManager.default.fileExists(atPath: url.path) }
}

/// Facts read off the file (shared/design/engine.md §A1.4); reference values come from
/// the `gguf` Python package's dequantizer, run once by hand.
@Suite("SmolLM2-135M-Instruct.Q4_1.gguf",
       .enabled(if: SmolLM2.isPresent, "model file absent: run `make model` to fetch .models/SmolLM2-135M-Instruct.Q4_1.gguf"))
struct SmolLM2FileTests {
    let file: GGUFFile

    init() throws {
        file = try GGUFFile(contentsOf: SmolLM2.url)
    }

    @Test func headerAndLayout() throws {
        #expect(file.version == 3)
        #expect(file.tensors.count == 272)
        #expect(file.metadata.keys.count == 33)
        #expect(file.alignment == 32)
        #expect(file.dataOffset == 1_785_664)
        let counts = Dictionary(grouping: file.tensors, by: \.type).mapValues(\.count)
        #expect(counts == [.q4_1: 210, .q8_0: 1, .f32: 61])
        #expect(file.tensorInfoIfPresent(named: "output.weight") == nil)
    }

    @Test func metadata() throws {
        let metadata = file.metadata
        #expect(try metadata.string("general.architecture") == "llama")
        #expect(try metadata.int("llama.block_count") == 30)
        #expect(try metadata.int("llama.embedding_length") == 576)
        #expect(try metadata.float("llama.attention.layer_norm_rms_epsilon") == Double(Float(1e-5)))
        #expect(try metadata.string("tokenizer.ggml.model") == "gpt2")
        let tokens = try metadata.strings("tokenizer.ggml.tokens")
        #expect(tokens.count == 49152)
        #expect(tokens[100] == "t")
        #expect(try metadata.ints("tokenizer.ggml.token_type").count == 49152)
        #expect(try metadata.boolIfPresent("tokenizer.ggml.add_bos_token") != nil)
    }

    @Test func tokenEmbeddingDequantizesToTheReferenceValues() throws {
        let info = try file.requireShape("token_embd.weight", [576, 49152])
        #expect(info.type == .q8_0)
        #expect(info.offset == 1_785_664 && info.byteCount == 30_081_024)
        let values = try file.dequantize(info)
        #expect(values.count == 576 * 49152)
        #expect(values.allSatisfy { $0.isFinite })
        #expect(values[0] == -0x1.b468p-4)
        #expect(values[1] == 0x1.0e28p-5)
        #expect(values[575] == 0x1.e78p-6)
        #expect(values[576 * 100 + 7] == -0x1.0b9p-5)
        #expect(values[576 * 49151 + 575] == -0x1.55ap-5)
        let sum = values.reduce(0.0) { $0 + Double($1) }
        #expect(abs(sum - -15353.04449415207) < 1e-6)

        // Single rows, as an embedding lookup reads them.
        var row = [Float](repeating: 0, count: 576)
        try row.withUnsafeMutableBufferPointer { try file.dequantizeRows(info, rows: 100 ..< 101, into: $0) }
        #expect(row == Array(values[576 * 100 ..< 576 * 101]))
    }

    @Test func q4_1AndF32TensorsMatchTheReference() throws {
        let attnQ = try file.requireShape("blk.0.attn_q.weight", [576, 576])
        #expect(attnQ.type == .q4_1 && attnQ.offset == 33_806_656 && attnQ.byteCount == 207_360)
        let q = try file.dequantize(attnQ)
        #expect([q[0], q[1], q[16], q[17], q[576 * 576 - 1]] == [-0x1.8a8p-4, 0x1.424p-3, -0x1.c9p-3, 0x1.23p-2, -0x1.06p-2])
        #expect(abs(q.reduce(0.0) { $0 + Double($1) } - 59.22322082519531) < 1e-6)

        let down = try file.requireShape("blk.29.ffn_down.weight", [1536, 576])
        let d = try file.dequantize(down)
        #expect([d[0], d[1535], d[1536 * 576 - 1]] == [-0x1.17ep-2, -0x1.bdcp-5, 0x1.dp-5])

        let norm = try file.dequantize(file.requireShape("output_norm.weight", [576]))
        #expect([norm[0], norm[1], norm[575]] == [1.7578125, 1.8203125, 1.984375])
    }

    @Test func openingAndDequantizingAreFast() throws {
        let clock = ContinuousClock()
        let opening = clock.measure { _ = try? GGUFFile(contentsOf: SmolLM2.url) }
        #expect(opening < .milliseconds(500), "opening took \(opening)")
        let info = try file.tensorInfo(named: "token_embd.weight")
        let dequantizing = try clock.measure { _ = try file.dequantize(info) }
        #expect(dequantizing < .seconds(1), "dequantizing 28M Q8_0 elements took \(dequantizing)")
    }
}
