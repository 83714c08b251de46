// The GGUF module; see Package.swift for its place in the layering.
