import Foundation
import GGUF
import Testing
import TestSupport
import Tokenization
@testable import Engine

/// Seeded, bounded fuzzing of the whole model-file path: mutated tiny GGUF models (llama and
/// gemma3, with a tokenizer) go through the reader, the configuration checks, the weight loader,
/// the tokenizer and a forward pass. Each must succeed or throw a typed error; a crash fails the run.
@Suite("Model file fuzzing (seeded)")
struct ModelFileFuzzTests {
    static let iterations = 600

    /// Where the mutable fields of a well-formed file are, found by walking its header.
    struct FieldMap {
        enum Width { case u32, u64 }
        struct Field {
            var offset: Int
            var width: Width
            var isFloat: Bool
        }
        /// Scalar metadata values (counts, ε, bases, token ids, flags).
        var values: [Field] = []
        /// String lengths, array lengths and element types.
        var lengths: [Field] = []
        /// Tensor infos: dimension counts, extents, type ids, offsets.
        var tensorFields: [Field] = []
        var dataOffset = 0

        init(_ bytes: [UInt8]) {
            var position = 24
            func u32() -> UInt32 { defer { position += 4 }; return bytes[position..<position + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
            func u64() -> UInt64 { defer { position += 8 }; return bytes[position..<position + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
            func skipString() {
                lengths.append(Field(offset: position, width: .u64, isFloat: false))
                position += Int(u64())
            }
            func value(_ type: UInt32, inArray: Bool) {
                let sizes: [UInt32: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
                switch type {
                case 8: skipString()
                case 9:
                    lengths.append(Field(offset: position, width: .u32, isFloat: false))
                    let elementType = u32()
                    lengths.append(Field(offset: position, width: .u64, isFloat: false))
                    for _ in 0..<u64() { value(elementType, inArray: true) }
                default:
                    if !inArray, type == 4 || type == 5 || type == 6 {
                        values.append(Field(offset: position, width: .u32, isFloat: type == 6))
                    }
                    position += sizes[type] ?? 0
                }
            }
            let tensorCount = bytes[8..<16].reversed().reduce(0) { $0 << 8 | Int($1) }
            let keyCount = bytes[16..<24].reversed().reduce(0) { $0 << 8 | Int($1) }
            for _ in 0..<keyCount {
                skipString()
                value(u32(), inArray: false)
            }
            for _ in 0..<tensorCount {
                skipString()
                tensorFields.append(Field(offset: position, width: .u32, isFloat: false))
                let dimensions = u32()
                for _ in 0..<dimensions {
                    tensorFields.append(Field(offset: position, width: .u64, isFloat: false))
                    position += 8
                }
                tensorFields.append(Field(offset: position, width: .u32, isFloat: false))
                position += 4
                tensorFields.append(Field(offset: position, width: .u64, isFloat: false))
                position += 8
            }
            dataOffset = (position + 31) / 32 * 32
        }
    }

    static let interestingIntegers: [UInt64] = [0, 1, 2, 3, 4, 7, 8, 9, 16, 31, 32, 33, 63, 64, 65, 255, 256, 1000, 65_535,
                                               2_000_000, 1 << 24, (1 << 24) + 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF,
                                               1 << 32, 1 << 62, 0x7FFF_FFFF_FFFF_FFFF, .max]
    static let interestingFloats: [Float] = [.nan, -.nan, .infinity, -.infinity, 0, -0.0, -1, 1, .leastNonzeroMagnitude, 1e-38, 1e38, .greatestFiniteMagnitude, 1e-5, 10_000]

    static func write(_ value: UInt64, width: FieldMap.Width, at offset: Int, in bytes: inout [UInt8]) {
        let count = width == .u32 ? 4 : 8
        guard offset + count <= bytes.count else { return }
        for i in 0..<count { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    /// One mutation of `bytes`, chosen by `rng`.
    static func mutate(_ bytes: inout [UInt8], map: FieldMap, rng: inout SplitMix64) {
        func interesting(_ field: FieldMap.Field) -> UInt64 {
            if field.isFloat, rng.next(below: 4) != 0 {
                return UInt64(interestingFloats[rng.next(below: interestingFloats.count)].bitPattern)
            }
            return rng.next(below: 5) == 0 ? rng.next() : interestingIntegers[rng.next(below: interestingIntegers.count)]
        }
        switch rng.next(below: 10) {
        case 0...2:
            let field = map.values[rng.next(below: map.values.count)]
            write(interesting(field), width: field.width, at: field.offset, in: &bytes)
        case 3...4:
            let field = map.tensorFields[rng.next(below: map.tensorFields.count)]
            // Type ids near the real ones, offsets moved by a few alignments, or anything interesting.
            let value = rng.next(below: 2) == 0 ? UInt64(rng.next(below: 42)) &* (field.width == .u64 ? 32 : 1) : interesting(field)
            write(value, width: field.width, at: field.offset, in: &bytes)
        case 5:
            let field = map.lengths[rng.next(below: map.lengths.count)]
            write(interesting(field), width: field.width, at: field.offset, in: &bytes)
        case 6...7:
            for _ in 0..<(1 + rng.next(below: 8)) {
                bytes[rng.next(below: map.dataOffset)] ^= UInt8(1 << rng.next(below: 8))
            }
        case 8:
            bytes.removeLast(1 + rng.next(below: bytes.count - 1))
        default:
            write(rng.next(), width: .u64, at: rng.next(below: map.dataOffset - 8), in: &bytes)
        }
    }

    static func baseFile(architecture: String) throws -> [UInt8] {
        let spec = TinyModelSpec(architecture: architecture, blocks: 2, width: 16, heads: 2, keyValueHeads: 1, feedForwardWidth: 32,
                                 vocabularySize: TinyVocabulary.tokens.count, slidingWindow: 3)
        var writer = try TinyModelFixture.writer(spec)
        writer.setValue(.uint32(UInt32(spec.headWidth)), forKey: architecture + ".rope.dimension_count")
        writer.setValue(.uint32(UInt32(spec.vocabularySize)), forKey: architecture + ".vocab_size")
        TinyVocabulary.add(to: &writer)
        return try writer.encoded()
    }

    enum Outcome: Hashable { case readerRefused, settingsRefused, weightsRefused, ran }

    /// Everything a command does with a model file; returns how far it got.
    static func exercise(_ url: URL) throws -> Outcome {
        let gguf: GGUFFile
        do { gguf = try GGUFFile(contentsOf: url) } catch is GGUFError { return .readerRefused }
        do {
            let tokenizer = try Tokenizers.load(from: gguf)
            for text in ["hello ab", "", "<|im_start|>a\u{1F600}"] {
                let ids = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
                #expect(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) })
                _ = tokenizer.decode(ids)
            }
        } catch is TokenizerError {
        } catch is GGUFError {
        }
        let configuration: ModelConfiguration
        do { configuration = try ModelConfiguration(gguf: gguf) } catch is EngineError { return .settingsRefused } catch is GGUFError { return .settingsRefused }
        _ = try LanguageModel.randomlyInitialized(like: configuration, origin: "fuzz") { $0 = $0.map { _ in 0.01 } }
        let model: LanguageModel
        do { model = try LanguageModel(gguf: gguf) } catch is EngineError { return .weightsRefused } catch is GGUFError { return .weightsRefused }
        let prompt = [1, 2, 3, 4].map { $0 % configuration.vocabularySize }
        let capture = try model.capture([prompt], plan: CapturePlan(hooks: [.residual(configuration.blockCount), .finalNorm]))
        _ = model.logits(fromNormalized: Array(capture.vector(prompt: 0, hook: .finalNorm)), rows: 1)
        return .ran
    }

    @Test("mutated model files are refused with typed errors or run; none crashes", arguments: ["llama", "gemma3"])
    func mutatedModelFiles(architecture: String) throws {
        let base = try Self.baseFile(architecture: architecture)
        let map = FieldMap(base)
        #expect(map.values.count > 10 && map.tensorFields.count > 40 && map.dataOffset < base.count)
        let directory = try TemporaryDirectory(prefix: "rbench-fuzz")
        defer { directory.remove() }
        #expect(try Self.exercise(GGUFFixture.write(bytes: base, named: "base.gguf")) == .ran)

        var outcomes: [Outcome: Int] = [:]
        for iteration in 0..<Self.iterations / 2 {
            var rng = SplitMix64(seed: UInt64(iteration) &* 0x9E37_79B9 &+ (architecture == "llama" ? 1 : 2))
            var bytes = base
            for _ in 0..<(1 + rng.next(below: 3)) where bytes.count > map.dataOffset {
                Self.mutate(&bytes, map: map, rng: &rng)
            }
            let url = directory.path("mutant-\(iteration).gguf")
            try Data(bytes).write(to: url)
            do {
                outcomes[try Self.exercise(url), default: 0] += 1
            } catch is EngineError {
                outcomes[.weightsRefused, default: 0] += 1  // e.g. a run-time check of the forward pass
            } catch {
                Issue.record("iteration \(iteration): an untyped failure: \(error)")
            }
            try? FileManager.default.removeItem(at: url)
        }
        // The mutations reached every stage, so each layer of checks was exercised.
        #expect(outcomes[.readerRefused, default: 0] > 0 && outcomes[.settingsRefused, default: 0] > 0 && outcomes[.ran, default: 0] > 0,
                "\(outcomes)")
    }
}
