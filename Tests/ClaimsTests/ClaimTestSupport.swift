import Claims
import Foundation
import TestSupport

/// Resources over the real SmolLM2 file and the shared corpora, shared by every claim test
/// so each capture runs once per test process.
enum SmolLM2Claims {
    static let resources = ModelResources(
        modelURL: Fixtures.smolLM2,
        corpora: [
            "wikitext": Fixtures.sharedDirectory.appendingPathComponent("corpora/wikitext-2-raw/wiki.test.raw"),
            "walden": Fixtures.sharedDirectory.appendingPathComponent("corpora/walden/walden-thoreau-pg-clean.txt"),
        ],
        randomInitialization: RandomInitialization(seed: 1, std: 0.02))

    static func context(_ subject: Subject = .model, corpus: String, count: Int, tokens: Int,
                        parameters: [String: ParameterValue] = [:], seed: UInt64 = 1234) -> ClaimContext {
        ClaimContext(parameters: ClaimParameters(parameters), seed: seed, subject: subject, resources: resources,
                     sampling: Sampling(corpus: corpus, count: count, tokens: tokens))
    }

    static func metric(_ outcome: ClaimOutcome, _ name: String, layer: Int? = nil) -> Double? {
        outcome.metrics.first { $0.name == name && $0.layer == layer }?.value
    }
}
