import Analysis
import Claims
import Evidence
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

    /// Fewer replicates than a suite's default keep the claim tests quick; the schemes themselves are
    /// tested on synthetic data (ResamplingTests).
    static let resampling = ResamplingSettings(level: 0.95, replicates: 300, groups: 5)

    static func context(_ subject: Subject = .model, corpus: String, count: Int, tokens: Int,
                        parameters: [String: ParameterValue] = [:], seed: UInt64 = 1234) -> ClaimContext {
        ClaimContext(parameters: ClaimParameters(parameters), seed: seed, subject: subject, resources: resources,
                     sampling: Sampling(corpus: corpus, count: count, tokens: tokens), resampling: resampling)
    }

    static func metric(_ outcome: ClaimOutcome, _ name: String, layer: Int? = nil) -> Double? {
        outcome.metrics.first { $0.name == name && $0.layer == layer }?.value
    }
}

/// A claim run judged the way the harness judges it.
struct Checked {
    var outcome: ClaimOutcome
    var judgement: Judgement
    var verdict: Verdict { judgement.verdict }
    var criteria: [Criterion] { judgement.criteria }
    var metrics: [Metric] { outcome.metrics }
}

extension Claim {
    /// Runs the claim on `context` and judges its criteria (no overrides).
    func check(_ context: ClaimContext) throws -> Checked {
        let outcome = try run(context)
        return Checked(outcome: outcome, judgement: try judge(outcome, subject: context.subject))
    }
}

extension SmolLM2Claims {
    static func metric(_ checked: Checked, _ name: String, layer: Int? = nil) -> Double? {
        metric(checked.outcome, name, layer: layer)
    }
}
