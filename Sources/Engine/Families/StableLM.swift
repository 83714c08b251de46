extension Architecture {
    public static let stablelm = Architecture(rawValue: "stablelm")
}

extension ArchitectureFamily {
    /// StableLM (2): LayerNorm with bias, Q/K/V biases when stored (2-1.6B has them), SwiGLU,
    /// NEOX RoPE over the first `rope.dimension_count` dimensions of each head (partial rotary).
    public static let stablelm = ArchitectureFamily(
        architecture: .stablelm,
        norm: .layer,
        optionalBiases: [.queryKeyValue],
        positions: .rotary(.halves),
        epsilonKey: "attention.layer_norm_epsilon")
}
