extension Architecture {
    public static let gemma3 = Architecture(rawValue: "gemma3")
}

extension ArchitectureFamily {
    /// Gemma 3: sandwich RMSNorms (gains already +1 in the file), per-head QK-norm, GeGLU with
    /// tanh GELU, √d embedding scale, NEOX RoPE; every sixth block global with the file's base,
    /// the others windowed with a local base of 10 000 the file does not store.
    public static let gemma3 = ArchitectureFamily(
        architecture: .gemma3,
        placement: .sandwich,
        activation: .geluTanh,
        positions: .rotary(.halves),
        queryKeyNorm: true,
        slidingWindow: .pattern(period: 6, localBase: 10_000),
        embeddingScale: .squareRootWidth)
}
