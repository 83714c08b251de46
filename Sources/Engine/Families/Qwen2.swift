extension Architecture {
    public static let qwen2 = Architecture(rawValue: "qwen2")
}

extension ArchitectureFamily {
    /// Qwen2 / Qwen2.5: llama plus Q/K/V biases, NEOX RoPE on unpermuted rows, full causal
    /// attention (llama.cpp ignores the stored sliding-window keys).
    public static let qwen2 = ArchitectureFamily(
        architecture: .qwen2,
        biases: [.queryKeyValue],
        positions: .rotary(.halves))
}
