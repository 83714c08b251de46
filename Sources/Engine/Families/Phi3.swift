extension Architecture {
    public static let phi3 = Architecture(rawValue: "phi3")
}

extension ArchitectureFamily {
    /// Phi-3: one fused `attn_qkv` tensor and one fused `ffn_up` holding gate then up, RMSNorm,
    /// SwiGLU, NEOX RoPE, no biases.
    public static let phi3 = ArchitectureFamily(
        architecture: .phi3,
        queryKeyValue: .fused,
        feedForward: .gated(.fused),
        positions: .rotary(.halves))
}
