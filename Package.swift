// swift-tools-version: 6.1
import PackageDescription

// Layering (dependencies point one way):
// GGUF → Tokenization, Engine → Analysis → Claims → Recording/Harness → rbench
let package = Package(
    name: "ResidualBench",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rbench", targets: ["rbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries, each behind one small system-library target.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLibgit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),

        // The vocabulary of verdicts, criteria and intervals, shared by claims, store and reports.
        .target(name: "Evidence"),
        // Where the time of a check goes (forward passes, resumes, readouts, resampling).
        .target(name: "Profiling"),
        .target(name: "GGUF"),
        .target(name: "NPY"),
        .target(name: "Tokenization", dependencies: ["GGUF"]),
        // The one owner of OpenBLAS's process-wide settings (thread count, kernel choice), shared by the engine and the numerics.
        .target(name: "BLASThreading", dependencies: ["COpenBLAS"]),
        .target(name: "Engine", dependencies: ["GGUF", "COpenBLAS", "BLASThreading", "Profiling"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "Analysis", dependencies: ["COpenBLAS", "BLASThreading", "Evidence", "Profiling"]),
        .target(name: "Claims", dependencies: ["Engine", "Analysis", "BLASThreading", "Tokenization", "Evidence", "Profiling"]),
        // Engines in another process (HF transformers) behind the claims' engine interface, over pipes.
        .target(name: "RemoteEngine", dependencies: ["Engine", "GGUF", "Profiling"]),
        .target(name: "Recording", dependencies: [
            "CLibgit2", "Evidence", "Profiling",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "Harness", dependencies: [
            "Claims", "Profiling", "Recording", "Tokenization", "Engine", "GGUF", "NPY", "RemoteEngine",
            .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "rbench", dependencies: [
            "Harness", "NPY", "BLASThreading",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "TestSupport", dependencies: ["GGUF", "NPY"]),

        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "BLASThreading", "Tokenization", "TestSupport"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "BLASThreading", "Evidence"]),
        .testTarget(name: "ClaimsTests", dependencies: ["Claims", "Analysis", "BLASThreading", "Evidence", "TestSupport"]),
        .testTarget(name: "EvidenceTests", dependencies: ["Evidence"]),
        .testTarget(name: "RecordingTests", dependencies: ["Recording", "Evidence", "TestSupport"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Evidence", "Recording", "TestSupport", "NPY"]),
        .testTarget(name: "RemoteEngineTests", dependencies: ["RemoteEngine", "Engine", "TestSupport"]),
    ]
)
