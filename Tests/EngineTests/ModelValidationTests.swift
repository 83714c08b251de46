import Foundation
import GGUF
import Testing
import TestSupport
@testable import Engine

/// Every model setting is checked before anything is sized by it (issue 13): each bad value is a
/// typed error naming the file, the key and the value, never a signal or a silently wrong number.
@Suite("Model settings are validated before allocation")
struct ModelValidationTests {
    static let llama = TinyModelSpec()
    static let gemma = TinyModelSpec(architecture: "gemma3", blocks: 2, slidingWindow: 4)

    /// A tiny model whose metadata `key` (without the architecture prefix) is replaced by `value`.
    func file(_ key: String, _ value: GGUFValue) throws -> URL {
        try file(Self.llama, [key: value])
    }

    func file(_ spec: TinyModelSpec, _ key: String, _ value: GGUFValue) throws -> URL {
        try file(spec, [key: value])
    }

    func file(_ spec: TinyModelSpec, _ values: [String: GGUFValue], named name: String = "bad-setting.gguf") throws -> URL {
        var writer = try TinyModelFixture.writer(spec)
        for (key, value) in values { writer.setValue(value, forKey: spec.architecture + "." + key) }
        return try GGUFFixture.write(writer, named: name)
    }

    /// Loading fails with ``EngineError/invalidSetting`` for `key`; returns the error's message.
    @discardableResult
    func expectRefused(_ url: URL, key: String, value: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let gguf = try GGUFFile(contentsOf: url)
        let error = try #require(throws: EngineError.self, sourceLocation: sourceLocation) { try ModelConfiguration(gguf: gguf) }
        guard case .invalidSetting(let file, let foundKey, let foundValue, _) = error else {
            Issue.record("expected invalidSetting, got \(error)", sourceLocation: sourceLocation)
            return ""
        }
        #expect(file == url.lastPathComponent, sourceLocation: sourceLocation)
        #expect(foundKey == key, "\(error)", sourceLocation: sourceLocation)
        if let value { #expect(foundValue == value, "\(error)", sourceLocation: sourceLocation) }
        #expect(error.description.contains(url.lastPathComponent) && error.description.contains(key), sourceLocation: sourceLocation)
        // The model loader goes through the same check.
        #expect(throws: EngineError.self, sourceLocation: sourceLocation) { try LanguageModel(gguf: gguf) }
        return error.description
    }

    @Test("head_count 0 is refused before the head width is derived from it (was SIGFPE)")
    func zeroHeads() throws {
        let message = try expectRefused(file("attention.head_count", .uint32(0)), key: "llama.attention.head_count", value: "0")
        #expect(message.contains("bad-setting.gguf: invalid model setting llama.attention.head_count = 0"))
        try expectRefused(file("attention.head_count_kv", .uint32(0)), key: "llama.attention.head_count_kv", value: "0")
        try expectRefused(file("attention.head_count_kv", .uint32(3)), key: "llama.attention.head_count_kv", value: "3")
    }

    @Test("counts of 2³²−1 are refused without allocating (were allocation aborts)",
          arguments: ["block_count", "rope.dimension_count", "embedding_length", "vocab_size", "feed_forward_length", "attention.head_count"])
    func hugeCounts(key: String) throws {
        try expectRefused(file(key, .uint32(.max)), key: "llama." + key, value: "4294967295")
    }

    @Test("a block count that differs from the blk.N tensors present is refused")
    func blockCountAgainstTensors() throws {
        let message = try expectRefused(file("block_count", .uint32(3)), key: "llama.block_count", value: "3")
        #expect(message.contains("2 block(s), indices 0…1"))
        try expectRefused(file("block_count", .uint32(1)), key: "llama.block_count", value: "1")
        try expectRefused(file("block_count", .int32(-1)), key: "llama.block_count", value: "-1")
    }

    @Test("RoPE dimensions beyond the head, odd, or (for llama) not the head width are refused (were out-of-bounds writes)",
          arguments: [2_000_000, 1000, 65, 10, 7, 4])
    func ropeDimensions(count: Int) throws {
        // The tiny head width is 8: 10 and 65…1000 would rotate pairs past it, 7 is odd, 4 a partial llama rotation.
        let message = try expectRefused(file("rope.dimension_count", .uint32(UInt32(count))), key: "llama.rope.dimension_count", value: "\(count)")
        #expect(message.contains("head width 8"))
    }

    @Test("gemma3 may rotate a prefix of the head, but never more than the head")
    func partialRotationForGemma() throws {
        let partial = try LanguageModel(contentsOf: file(Self.gemma, "rope.dimension_count", .uint32(4)))
        #expect(partial.configuration.ropeDimensions == 4)
        let capture = try partial.capture([[1, 2, 3, 4, 5]], plan: .residuals(blockCount: 2))
        #expect(capture.values.allSatisfy { $0.isFinite })
        try expectRefused(file(Self.gemma, "rope.dimension_count", .uint32(12)), key: "gemma3.rope.dimension_count", value: "12")
    }

    @Test("an RMS ε that is NaN, infinite, zero or negative is refused (NaN gave NaN logits and exit 0)",
          arguments: [Float.nan, .infinity, 0, -1e-5])
    func normEpsilon(value: Float) throws {
        try expectRefused(file("attention.layer_norm_rms_epsilon", .float32(value)), key: "llama.attention.layer_norm_rms_epsilon")
    }

    @Test("an ε that underflows to 0 as Float32 is refused too")
    func epsilonUnderflow() throws {
        try expectRefused(file("attention.layer_norm_rms_epsilon", .float64(1e-60)), key: "llama.attention.layer_norm_rms_epsilon")
    }

    @Test("a RoPE base that is 0, negative or not finite is refused", arguments: [Float(0), -10_000, .nan, .infinity])
    func ropeBase(value: Float) throws {
        try expectRefused(file("rope.freq_base", .float32(value)), key: "llama.rope.freq_base")
        try expectRefused(file(Self.gemma, "rope.freq_base_swa", .float32(value)), key: "gemma3.rope.freq_base_swa")
    }

    @Test("an attention scale or sliding window that cannot work is refused")
    func scaleAndWindow() throws {
        try expectRefused(file(Self.gemma, "attention.scale", .float32(-1)), key: "gemma3.attention.scale")
        try expectRefused(file(Self.gemma, "attention.sliding_window", .uint32(0)), key: "gemma3.attention.sliding_window", value: "0")
    }

    @Test("settings that disagree with the tensors are refused, naming key and tensor")
    func settingsAgainstTensors() throws {
        var message = try expectRefused(file("embedding_length", .uint32(64)), key: "llama.embedding_length", value: "64")
        #expect(message.contains("token_embd.weight"))
        message = try expectRefused(file("vocab_size", .uint32(49)), key: "llama.vocab_size", value: "49")
        #expect(message.contains("token_embd.weight, whose shape is [32, 50]"))
        // 3 heads of 32 / 3 = 10 give 30 query rows, not the 32 of attn_q.
        message = try expectRefused(file(Self.llama, ["attention.head_count": .uint32(3), "attention.head_count_kv": .uint32(1)]),
                                    key: "llama.attention.head_count", value: "3")
        #expect(message.contains("blk.0.attn_q.weight"))
        try expectRefused(file("attention.head_count_kv", .uint32(4)), key: "llama.attention.head_count_kv", value: "4")
        try expectRefused(file("feed_forward_length", .uint32(32)), key: "llama.feed_forward_length", value: "32")
        try expectRefused(file(Self.gemma, "attention.key_length", .uint32(16)), key: "gemma3.attention.key_length")
        try expectRefused(file(Self.gemma, "attention.value_length", .uint32(16)), key: "gemma3.attention.value_length", value: "16")
    }

    @Test("the random-init control validates the configuration it is built from, before allocating")
    func randomInitValidates() throws {
        let valid = try ModelConfiguration(gguf: GGUFFile(contentsOf: TinyModelFixture.write(Self.llama)))
        let model = try LanguageModel.randomlyInitialized(like: valid, origin: "random-init") { $0 = $0.map { _ in 0.01 } }
        #expect(model.configuration == valid)

        let mutations: [(String, (inout ModelConfiguration) -> Void)] = [
            ("llama.block_count", { $0.blockCount = Int(UInt32.max) }),
            ("llama.embedding_length", { $0.modelWidth = Int(UInt32.max) }),
            ("llama.vocab_size", { $0.vocabularySize = Int(UInt32.max) }),
            ("llama.rope.dimension_count", { $0.ropeDimensions = 1000 }),
            ("llama.attention.head_count", { $0.headCount = 0 }),
            ("llama.attention.layer_norm_rms_epsilon", { $0.normEpsilon = .nan }),
            ("llama.rope.freq_base", { $0.layouts[1].ropeBase = 0 }),
            ("llama.block_count", { $0.blockCount = -1 }),
        ]
        for (key, mutate) in mutations {
            var broken = valid
            mutate(&broken)
            let error = #expect(throws: EngineError.self, "\(key)") {
                _ = try LanguageModel.randomlyInitialized(like: broken, origin: "random-init(test)") { _ in Issue.record("allocated for \(key)") }
            }
            guard case .invalidSetting(let source, let foundKey, _, _)? = error else {
                Issue.record("expected invalidSetting for \(key), got \(String(describing: error))")
                continue
            }
            #expect(source == "random-init(test)" && foundKey == key)
        }
    }

    @Test("RoPE touches only the first ropeDimensions values of each head", arguments: [RoPEPairing.adjacent, .halves])
    func ropeStaysInsideTheHead(pairing: RoPEPairing) {
        let heads = 2, headWidth = 8, dimensions = 4
        let table = RoPETable(positions: 3, dimensions: dimensions, base: 10_000)
        // One guard value past the last head.
        var row = (0..<(heads * headWidth + 1)).map { Float($0 + 1) }
        let original = row
        row.withUnsafeMutableBufferPointer { v in
            table.cos.withUnsafeBufferPointer { c in
                table.sin.withUnsafeBufferPointer { s in
                    applyRoPE(v.baseAddress!, heads: heads, headWidth: headWidth, position: 2, table: c.baseAddress!,
                              sinTable: s.baseAddress!, pairs: table.pairs, pairing: pairing)
                }
            }
        }
        for h in 0..<heads {
            let rotated = h * headWidth ..< h * headWidth + dimensions
            #expect(rotated.contains { row[$0] != original[$0] }, "head \(h) was rotated")
            for i in rotated.upperBound ..< (h + 1) * headWidth { #expect(row[i] == original[i], "head \(h) value \(i) untouched") }
        }
        #expect(row.last == original.last)
    }
}
