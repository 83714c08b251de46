/// Where a model's weight matrices live between forward passes.
///
/// Both residencies compute the same bits: a quantized block's matrices are dequantized whole,
/// by the same converters, into a scratch buffer just before the block runs, and the GEMMs
/// that follow are the very calls the dense model makes. Only memory and speed differ.
public enum WeightResidency: String, Sendable, Codable, CaseIterable {
    /// Every matrix dequantized to Float32 once, at load.
    case dense
    /// Matrices kept in the file's block format (read from its memory mapping); each block's
    /// matrices are dequantized into a per-pass scratch buffer just before the block runs.
    case quantized
}

/// How the residency of a model's matrices is chosen when it is loaded.
///
/// ```swift
/// let model = try LanguageModel(contentsOf: url, residency: .fixed(.quantized))
/// ```
public enum ResidencyPolicy: Sendable, Hashable, CustomStringConvertible {
    /// Dense when the Float32 block matrices take at most `budgetBytes`, quantized otherwise.
    case automatic(budgetBytes: Int)
    /// Always this residency.
    case fixed(WeightResidency)

    /// Dense up to 1 GiB of Float32 block matrices: SmolLM2 (0.42 GB) and Gemma 3 270M (0.40 GB)
    /// stay dense; Qwen2.5 0.5B (1.43 GB) and 1.5B (5.2 GB) are kept quantized.
    public static let standardBudgetBytes = 1 << 30
    public static let standard = ResidencyPolicy.automatic(budgetBytes: standardBudgetBytes)

    /// The residency for a model whose block matrices take `denseBytes` as Float32.
    public func resolve(denseBytes: Int) -> WeightResidency {
        switch self {
        case .automatic(let budget): denseBytes <= budget ? .dense : .quantized
        case .fixed(let residency): residency
        }
    }

    /// Parses `auto`, `dense` or `quantized` (the spelling of the `--weights` option).
    public init?(name: String) {
        switch name.lowercased() {
        case "auto", "automatic": self = .standard
        case let other:
            guard let residency = WeightResidency(rawValue: other) else { return nil }
            self = .fixed(residency)
        }
    }

    public var description: String {
        switch self {
        case .automatic(let budget): "auto (dense up to \(budget >> 20) MiB of Float32 block matrices)"
        case .fixed(let residency): residency.rawValue
        }
    }
}
