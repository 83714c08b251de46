import Analysis
import Engine

/// The random-init control model (claims spec §0.3 "RI"): the trained model's architecture
/// with every matrix i.i.d. N(0, std²), norm gains 1, tied head.
///
/// Weights come from ``PCG64`` seeded with `seed` (stream 0) through its portable polar
/// Box–Muller, so the model is bit-identical on every IEEE-754 machine. Matrices are
/// filled in the order ``LanguageModel/randomlyInitialized(like:origin:fill:)`` documents.
public struct RandomInitialization: Sendable, Hashable, Codable {
    public static let controlName = "random-init"

    public var seed: UInt64
    public var std: Double

    public init(seed: UInt64 = 1, std: Double = 0.02) {
        self.seed = seed
        self.std = std
    }

    /// The algorithm name recorded with results.
    public static let generator = "pcg64-xslrr-polar-boxmuller"

    /// Throws ``EngineError/invalidSetting(file:key:value:problem:)`` for a configuration that
    /// fails ``ModelConfiguration/validate(source:)``.
    public func model(like configuration: ModelConfiguration) throws -> LanguageModel {
        var rng = PCG64(seed: seed)
        return try LanguageModel.randomlyInitialized(like: configuration, origin: origin) { matrix in
            rng.fillGaussian(&matrix, std: std)
        }
    }

    /// The same control on another engine: the same draws in the same order, sent as float32, so
    /// both engines hold bit-identical weights.
    public func model(like trained: any ResidualModel, on engine: any ModelEngine) throws -> any ResidualModel {
        var rng = PCG64(seed: seed)
        return try engine.randomlyInitialized(like: trained, origin: origin) { matrix in
            rng.fillGaussian(&matrix, std: std)
        }
    }

    var origin: String { "random-init(\(Self.generator), seed \(seed), std \(std))" }
}
