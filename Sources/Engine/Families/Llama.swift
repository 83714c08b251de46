extension Architecture {
    public static let llama = Architecture(rawValue: "llama")
}

extension ArchitectureFamily {
    /// Llama (SmolLM2, …): RMSNorm before each sublayer, SwiGLU, no biases. The converter
    /// permutes Q/K rows inside each head, so RoPE rotates adjacent pairs (ggml NORM), over
    /// the whole head (llama.cpp refuses partial rotation for llama).
    public static let llama = ArchitectureFamily(
        architecture: .llama,
        positions: .rotary(.adjacent),
        allowsPartialRotary: false)
}
