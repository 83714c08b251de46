extension Architecture {
    public static let gpt2 = Architecture(rawValue: "gpt2")
}

extension ArchitectureFamily {
    /// GPT-2: LayerNorm with bias, learned absolute positions added to the token row, one
    /// fused `attn_qkv` with bias, biases on every projection, a plain (ungated) feed-forward
    /// with tanh GELU, output tied to the token embedding.
    public static let gpt2 = ArchitectureFamily(
        architecture: .gpt2,
        norm: .layer,
        queryKeyValue: .fused,
        feedForward: .plain,
        activation: .geluTanh,
        biases: [.queryKeyValue, .attentionOutput, .feedForward],
        positions: .learned,
        epsilonKey: "attention.layer_norm_epsilon")
}
