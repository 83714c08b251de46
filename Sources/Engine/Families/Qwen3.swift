extension Architecture {
    public static let qwen3 = Architecture(rawValue: "qwen3")
}

extension ArchitectureFamily {
    /// Qwen3: Qwen2 without the Q/K/V biases and with per-head RMSNorm of queries and keys
    /// before NEOX RoPE; the head width is stored (`attention.key_length`).
    public static let qwen3 = ArchitectureFamily(
        architecture: .qwen3,
        positions: .rotary(.halves),
        queryKeyNorm: true)
}
