extension Architecture {
    public static let stablelm = Architecture(rawValue: "stablelm")
}

extension ArchitectureFamily {
    /// StableLM (2): LayerNorm with bias, Q/K/V biases when stored (2-1.6B has them), SwiGLU,
    /// NEOX RoPE over the first `rope.dimension_count` dimensions of each head (partial rotary).
    /// A file without `ffn_norm` (2-12B) wants a parallel residual, which is refused.
    public static let stablelm = ArchitectureFamily(
        architecture: .stablelm,
        norm: .layer,
        parallelResidualWithout: "ffn_norm",
        optionalBiases: [.queryKeyValue],
        positions: .rotary(.halves),
        epsilonKey: "attention.layer_norm_epsilon")
}
