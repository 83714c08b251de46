import Foundation
import GGUF

/// A transformer language model ready to run on the CPU.
///
/// The block matrices are dequantized to Float32 once at load, or kept in the file's block format
/// and dequantized block by block during each pass, as the ``ResidencyPolicy`` decides (both give
/// the same bits). A very large embedding table stays quantized and is dequantized row by row
/// (see `EmbeddingTable`). The model is immutable after load and can be shared across threads.
///
/// ```swift
/// let model = try LanguageModel(contentsOf: URL(fileURLWithPath: ".models/SmolLM2-135M-Instruct.Q4_1.gguf"))
/// let capture = try model.capture([[1, 2, 3]], plan: .residuals(blockCount: model.configuration.blockCount))
/// ```
public final class LanguageModel: Sendable {
    public let configuration: ModelConfiguration
    /// Where the weights came from (file name, or a description of a random initialisation).
    public let origin: String
    let weights: ModelWeights

    /// Most tokens pushed through one batch of GEMMs; bounds scratch memory.
    public let maxBatchTokens: Int

    /// Where the block matrices of the loaded file live (a random-init model is always dense).
    public let residency: WeightResidency

    init(configuration: ModelConfiguration, weights: ModelWeights, origin: String, maxBatchTokens: Int = 2048) {
        self.configuration = configuration
        self.weights = weights
        self.origin = origin
        self.maxBatchTokens = maxBatchTokens
        residency = weights.blocks.contains { $0.matrices.contains(where: \.isQuantized) } ? .quantized : .dense
    }

    /// Loads a GGUF file; `residency` decides whether the block matrices are dequantized now or
    /// kept quantized (see ``ResidencyPolicy/standard``).
    public convenience init(gguf: GGUFFile, maxBatchTokens: Int = 2048, residency: ResidencyPolicy = .standard) throws {
        let configuration = try ModelConfiguration(gguf: gguf)
        let chosen = Self.residency(for: configuration, policy: residency)
        let weights = try ModelWeights(gguf: gguf, configuration: configuration, residency: chosen)
        self.init(configuration: configuration, weights: weights, origin: gguf.url.lastPathComponent,
                  maxBatchTokens: maxBatchTokens)
    }

    /// Loads a GGUF file from disk.
    public convenience init(contentsOf url: URL, maxBatchTokens: Int = 2048, residency: ResidencyPolicy = .standard) throws {
        try self.init(gguf: GGUFFile(contentsOf: url), maxBatchTokens: maxBatchTokens, residency: residency)
    }

    /// The residency `policy` picks for a model of this configuration (cheap: no tensor is read).
    public static func residency(for configuration: ModelConfiguration, policy: ResidencyPolicy) -> WeightResidency {
        policy.resolve(denseBytes: ModelWeights.denseBlockBytes(configuration))
    }

    /// Bytes held by the block matrices (Float32, or the file blocks they read when quantized).
    public var blockMatrixBytes: Int { weights.blockMatrixBytes }

    /// A model of the same architecture with weights drawn by `fill` (see the order below)
    /// and every norm gain 1, tied unembedding: the random-init control.
    ///
    /// `fill` receives each matrix once, row-major, in this order: token embedding, the learned
    /// positions (only for families that have them), then per block Q, K, V, attention output,
    /// gate (only for gated feed-forwards), up, down. A portable seeded generator makes the
    /// model reproduce bit for bit on any machine.
    ///
    /// The configuration is validated first (``ModelConfiguration/validate(source:)``, errors
    /// naming `origin`), so nothing is allocated from an impossible setting.
    public static func randomlyInitialized(like configuration: ModelConfiguration, origin: String,
                                           fill: (inout [Float]) -> Void) throws -> LanguageModel {
        try configuration.validate(source: origin)
        return LanguageModel(configuration: configuration, weights: ModelWeights(randomFor: configuration, fill: fill),
                             origin: origin)
    }

    /// A model whose blocks `replaced` come from `donor` (same configuration), e.g. the
    /// ablated model of LoT-6 with its upper half re-initialised.
    public func replacingBlocks(_ replaced: Range<Int>, from donor: LanguageModel, origin: String) throws -> LanguageModel {
        guard donor.configuration == configuration else {
            throw EngineError.invalidInput("donor model has another configuration")
        }
        var w = weights
        for b in replaced { w.blocks[b] = donor.weights.blocks[b] }
        return LanguageModel(configuration: configuration, weights: w, origin: origin, maxBatchTokens: maxBatchTokens)
    }

    func validate(_ prompts: [[Int]]) throws {
        for (i, prompt) in prompts.enumerated() {
            guard !prompt.isEmpty else { throw EngineError.invalidInput("prompt \(i) has no tokens") }
            if let bad = prompt.first(where: { $0 < 0 || $0 >= configuration.vocabularySize }) {
                throw EngineError.invalidInput(
                    "prompt \(i) has token id \(bad), outside the vocabulary 0..<\(configuration.vocabularySize)")
            }
            if let table = weights.positionEmbedding, prompt.count > table.count / configuration.modelWidth {
                throw EngineError.invalidInput(
                    "prompt \(i) has \(prompt.count) tokens, more than the \(table.count / configuration.modelWidth) learned positions")
            }
        }
    }
}

extension LanguageModel {
    /// Floating-point operations per token of a prefill: the block GEMMs plus attention
    /// at an average context of half `contextLength` (logits excluded).
    public func prefillFlopsPerToken(contextLength: Int) -> Double {
        let c = configuration
        let d = Double(c.modelWidth)
        let linear = d * Double(c.fusedQKVWidth) + Double(c.queryWidth) * d
            + d * Double(c.feedForwardProjectionWidth) + Double(c.feedForwardWidth) * d
        let attention = 2 * Double(c.headCount * c.headWidth) * Double(contextLength) / 2
        return 2 * (linear + attention) * Double(c.blockCount)
    }
}
