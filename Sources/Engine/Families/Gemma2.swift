extension Architecture {
    public static let gemma2 = Architecture(rawValue: "gemma2")
}

extension ArchitectureFamily {
    /// Gemma 2: sandwich RMSNorms, GeGLU (tanh GELU), √d embedding scale, NEOX RoPE with one
    /// base, tanh soft-capping of attention scores and final logits, and a sliding window on
    /// every other block (even blocks local, odd global).
    public static let gemma2 = ArchitectureFamily(
        architecture: .gemma2,
        placement: .sandwich,
        activation: .geluTanh,
        positions: .rotary(.halves),
        softCapping: true,
        slidingWindow: .pattern(period: 2, localBase: nil),
        embeddingScale: .squareRootWidth)
}
