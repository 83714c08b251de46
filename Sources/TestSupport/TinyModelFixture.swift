import Foundation
import GGUF

/// Tiny random `llama`, `gemma3` and `qwen2` GGUF models written in code, for engine tests
/// that need no real model file.
///
/// ```swift
/// let spec = TinyModelSpec(architecture: "gemma3", blocks: 1, slidingWindow: 3)
/// let url = try TinyModelFixture.write(spec)
/// let model = try LanguageModel(contentsOf: url)
/// ```
public struct TinyModelSpec: Sendable, Hashable {
    /// `general.architecture`; anything else than `llama`/`gemma3`/`qwen2` gets llama's tensors
    /// (other families are tested on the fixtures `Scripts/families` writes, `FamilyFixtures`).
    /// `qwen2` adds Q/K/V biases and a separate `output.weight`.
    public var architecture: String
    public var blocks: Int
    public var width: Int
    public var heads: Int
    public var keyValueHeads: Int
    public var feedForwardWidth: Int
    public var vocabularySize: Int
    /// `gemma3` only: `attention.sliding_window`.
    public var slidingWindow: Int?
    public var ropeBase: Double
    public var normEpsilon: Float
    /// Seed of the portable generator that draws every weight.
    public var seed: UInt64
    /// Store matrices as F16 (values are rounded to F16 in ``TinyModelFixture/tensors(for:)`` too).
    public var halfPrecision: Bool
    /// Store the block matrices as Q8_0 (values are rounded through Q8_0 in ``TinyModelFixture/tensors(for:)`` too).
    public var quantized: Bool

    public init(architecture: String = "llama", blocks: Int = 2, width: Int = 32, heads: Int = 4,
                keyValueHeads: Int = 2, feedForwardWidth: Int = 64, vocabularySize: Int = 50,
                slidingWindow: Int? = nil, ropeBase: Double = 10_000, normEpsilon: Float = 1e-5,
                seed: UInt64 = 1, halfPrecision: Bool = false, quantized: Bool = false) {
        self.architecture = architecture
        self.blocks = blocks
        self.width = width
        self.heads = heads
        self.keyValueHeads = keyValueHeads
        self.feedForwardWidth = feedForwardWidth
        self.vocabularySize = vocabularySize
        self.slidingWindow = slidingWindow
        self.ropeBase = ropeBase
        self.normEpsilon = normEpsilon
        self.seed = seed
        self.halfPrecision = halfPrecision
        self.quantized = quantized
    }

    public var headWidth: Int { width / heads }
}

/// One tensor of a tiny model: GGUF dimensions (`ne0` first) and row-major values.
public struct TinyTensor: Sendable {
    public var name: String
    public var dimensions: [Int]
    public var values: [Float]
    /// Stored as F16 (only matrices of a ``TinyModelSpec/halfPrecision`` spec).
    public var half: Bool
    /// Stored as Q8_0 (only block matrices of a ``TinyModelSpec/quantized`` spec); `values` are
    /// already the dequantized ones.
    public var q8: Bool

    public init(name: String, dimensions: [Int], values: [Float], half: Bool = false, q8: Bool = false) {
        self.name = name
        self.dimensions = dimensions
        self.values = values
        self.half = half
        self.q8 = q8
    }
}

public enum TinyModelFixture {
    /// Every tensor of the model `spec` describes, in file order, with seeded random values:
    /// matrices uniform in ±0.5/√fan-in (embedding ±1), norm gains in 1 ± 0.2.
    public static func tensors(for spec: TinyModelSpec) -> [TinyTensor] {
        var random = SplitMix64(seed: spec.seed)
        let d = spec.width, hd = spec.headWidth, ff = spec.feedForwardWidth
        let qw = spec.heads * hd, kvw = spec.keyValueHeads * hd
        var out: [TinyTensor] = []
        func matrix(_ name: String, rows: Int, columns: Int, amplitude: Float) {
            var values = (0..<(rows * columns)).map { _ in amplitude * (2 * random.nextUnit() - 1) }
            if spec.halfPrecision { values = values.map { Float(Float16($0)) } }
            let q8 = spec.quantized && name.hasPrefix("blk.")
            if q8 { values = Q8_0.dequantize(Q8_0.quantize(values)) }
            out.append(TinyTensor(name: name, dimensions: [columns, rows], values: values,
                                  half: spec.halfPrecision && !q8, q8: q8))
        }
        func bias(_ name: String, _ count: Int) {
            out.append(TinyTensor(name: name, dimensions: [count], values: (0..<count).map { _ in 0.3 * (2 * random.nextUnit() - 1) }))
        }
        func gain(_ name: String, _ count: Int) {
            out.append(TinyTensor(name: name, dimensions: [count],
                                  values: (0..<count).map { _ in 1 + 0.2 * (2 * random.nextUnit() - 1) }))
        }
        let linear = { (fanIn: Int) in Float(0.5 / Double(fanIn).squareRoot()) }
        matrix("token_embd.weight", rows: spec.vocabularySize, columns: d, amplitude: 1)
        gain("output_norm.weight", d)
        let gemma = spec.architecture == "gemma3", qwen = spec.architecture == "qwen2"
        if qwen { matrix("output.weight", rows: spec.vocabularySize, columns: d, amplitude: 1) }
        for b in 0..<spec.blocks {
            let p = "blk.\(b)."
            gain(p + "attn_norm.weight", d)
            matrix(p + "attn_q.weight", rows: qw, columns: d, amplitude: linear(d))
            matrix(p + "attn_k.weight", rows: kvw, columns: d, amplitude: linear(d))
            matrix(p + "attn_v.weight", rows: kvw, columns: d, amplitude: linear(d))
            if qwen {
                bias(p + "attn_q.bias", qw)
                bias(p + "attn_k.bias", kvw)
                bias(p + "attn_v.bias", kvw)
            }
            matrix(p + "attn_output.weight", rows: d, columns: qw, amplitude: linear(qw))
            gain(p + "ffn_norm.weight", d)
            matrix(p + "ffn_gate.weight", rows: ff, columns: d, amplitude: linear(d))
            matrix(p + "ffn_up.weight", rows: ff, columns: d, amplitude: linear(d))
            matrix(p + "ffn_down.weight", rows: d, columns: ff, amplitude: linear(ff))
            if gemma {
                gain(p + "attn_q_norm.weight", hd)
                gain(p + "attn_k_norm.weight", hd)
                gain(p + "post_attention_norm.weight", d)
                gain(p + "post_ffw_norm.weight", d)
            }
        }
        return out
    }

    /// A writer holding the metadata of `spec` and `tensors` (by default the spec's own).
    public static func writer(_ spec: TinyModelSpec, tensors: [TinyTensor]? = nil) throws -> GGUFWriter {
        var writer = GGUFWriter()
        let a = spec.architecture
        writer.setValue(.string(a), forKey: "general.architecture")
        writer.setValue(.string("tiny-\(a)"), forKey: "general.name")
        writer.setValue(.uint32(UInt32(spec.width)), forKey: a + ".embedding_length")
        writer.setValue(.uint32(UInt32(spec.blocks)), forKey: a + ".block_count")
        writer.setValue(.uint32(UInt32(spec.feedForwardWidth)), forKey: a + ".feed_forward_length")
        writer.setValue(.uint32(UInt32(spec.heads)), forKey: a + ".attention.head_count")
        writer.setValue(.uint32(UInt32(spec.keyValueHeads)), forKey: a + ".attention.head_count_kv")
        writer.setValue(.float32(spec.normEpsilon), forKey: a + ".attention.layer_norm_rms_epsilon")
        writer.setValue(.float32(Float(spec.ropeBase)), forKey: a + ".rope.freq_base")
        writer.setValue(.uint32(256), forKey: a + ".context_length")
        if a == "gemma3" {
            writer.setValue(.uint32(UInt32(spec.headWidth)), forKey: a + ".attention.key_length")
            if let window = spec.slidingWindow {
                writer.setValue(.uint32(UInt32(window)), forKey: a + ".attention.sliding_window")
            }
        }
        for tensor in tensors ?? self.tensors(for: spec) {
            if tensor.q8 {
                try writer.addTensor(name: tensor.name, dimensions: tensor.dimensions, type: .q8_0,
                                     bytes: Q8_0.quantize(tensor.values))
            } else if tensor.half {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(2 * tensor.values.count)
                for value in tensor.values {
                    let bits = Float16(value).bitPattern
                    bytes.append(UInt8(bits & 0xFF))
                    bytes.append(UInt8(bits >> 8))
                }
                try writer.addTensor(name: tensor.name, dimensions: tensor.dimensions, type: .f16, bytes: bytes)
            } else {
                try writer.addTensor(name: tensor.name, dimensions: tensor.dimensions, type: .f32,
                                     bytes: GGUFWriter.bytes(of: tensor.values))
            }
        }
        return writer
    }

    /// Writes the model to `name` in a new temporary directory.
    public static func write(_ spec: TinyModelSpec, tensors: [TinyTensor]? = nil,
                             named name: String = "tiny.gguf") throws -> URL {
        try GGUFFixture.write(writer(spec, tensors: tensors), named: name)
    }
}

/// A SentencePiece-style (`llama`) vocabulary small enough for tiny models: `<unk>`, `<s>`,
/// `</s>`, the 256 byte-fallback tokens `<0x00>`…`<0xFF>`, a few pieces, and the control token
/// `<|im_start|>`, which is matched in text only when special tokens are parsed. BOS is added.
///
/// ```swift
/// let spec = TinyModelSpec(vocabularySize: TinyVocabulary.tokens.count)
/// var writer = try TinyModelFixture.writer(spec)
/// TinyVocabulary.add(to: &writer)
/// ```
public enum TinyVocabulary {
    public static let pieces = ["\u{2581}", "a", "b", "c", "\u{2581}a", "ab", "\u{2581}ab", "hello"]
    public static let tokens: [String] = ["<unk>", "<s>", "</s>"]
        + (0...255).map { String(format: "<0x%02X>", $0) }
        + pieces + ["<|im_start|>"]
    public static let bosID = 1
    public static let eosID = 2
    public static var controlID: Int { tokens.count - 1 }

    /// Writes the `tokenizer.ggml.*` keys.
    public static func add(to writer: inout GGUFWriter) {
        let types: [Int32] = [2, 3, 3] + Array(repeating: 6, count: 256) + pieces.map { _ in 1 } + [3]
        let scores: [Float] = [0, 0, 0] + Array(repeating: 0, count: 256) + pieces.indices.map { -Float($0) - 1 } + [0]
        writer.setValue(.string("llama"), forKey: "tokenizer.ggml.model")
        writer.setValue(.array(tokens.map { .string($0) }), forKey: "tokenizer.ggml.tokens")
        writer.setValue(.array(types.map { .int32($0) }), forKey: "tokenizer.ggml.token_type")
        writer.setValue(.array(scores.map { .float32($0) }), forKey: "tokenizer.ggml.scores")
        writer.setValue(.uint32(UInt32(bosID)), forKey: "tokenizer.ggml.bos_token_id")
        writer.setValue(.uint32(UInt32(eosID)), forKey: "tokenizer.ggml.eos_token_id")
        writer.setValue(.uint32(0), forKey: "tokenizer.ggml.unknown_token_id")
        writer.setValue(.bool(true), forKey: "tokenizer.ggml.add_bos_token")
        writer.setValue(.bool(false), forKey: "tokenizer.ggml.add_space_prefix")
    }
}

/// ggml's Q8_0 blocks (32 values: an f16 scale `d = max|x| / 127`, then 32 signed bytes
/// `round(x / d)`), for tiny fixtures that exercise quantized storage.
enum Q8_0 {
    static func quantize(_ values: [Float]) -> [UInt8] {
        precondition(values.count % 32 == 0, "Q8_0 needs whole blocks of 32")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count / 32 * 34)
        for block in stride(from: 0, to: values.count, by: 32) {
            let slice = values[block ..< block + 32]
            let scale = Float16((slice.map(abs).max() ?? 0) / 127)
            let d = Float(scale)
            bytes.append(UInt8(scale.bitPattern & 0xFF))
            bytes.append(UInt8(scale.bitPattern >> 8))
            for value in slice {
                let q = d == 0 ? 0 : Int8(clamping: Int((value / d).rounded()))
                bytes.append(UInt8(bitPattern: q))
            }
        }
        return bytes
    }

    static func dequantize(_ bytes: [UInt8]) -> [Float] {
        var values: [Float] = []
        for block in stride(from: 0, to: bytes.count, by: 34) {
            let d = Float(Float16(bitPattern: UInt16(bytes[block]) | UInt16(bytes[block + 1]) << 8))
            for i in 0..<32 { values.append(Float(Int8(bitPattern: bytes[block + 2 + i])) * d) }
        }
        return values
    }
}

/// SplitMix64: a tiny portable generator, so fixtures (and seeded fuzz tests) are the same on every machine.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUnit() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Uniform in `0..<bound` (`bound` > 0); the tiny modulo bias does not matter for tests.
    public mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
