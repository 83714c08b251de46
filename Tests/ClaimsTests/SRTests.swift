import Analysis
@testable import Claims
import Foundation
import Testing
import TestSupport

/// Small sizes: 25 Walden windows (24 pairs) at S = 11 for SR-1; a 300-window pool for SR-3.
@Suite("SR stable regions", .serialized, .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct SRTests {
    func context(_ subject: Subject = .model, count: Int = 25, parameters: [String: ParameterValue] = ["steps": .int(11)])
        -> ClaimContext {
        SmolLM2Claims.context(subject, corpus: "walden", count: count, tokens: 10, parameters: parameters)
    }

    func timed(_ body: () throws -> Checked) rethrows -> (Checked, Double) {
        let start = Date()
        let outcome = try body()
        return (outcome, Date().timeIntervalSince(start))
    }

    @Test("SR-1 supported on SmolLM2: sigmoid curves, sharpness near the pilot's 3.4, random-init linear")
    func sr1Trained() throws {
        let (outcome, seconds) = try timed { try SR1StableRegions().check(context()) }
        let m = { SmolLM2Claims.metric(outcome, $0) ?? .nan }
        print("SR-1 trained (\(String(format: "%.1f", seconds)) s): median \(m("sharpness_median")) "
              + "(\(m("sharpness_q25"))–\(m("sharpness_q75"))), d̂ \(m("dhat_median_0.25"))/\(m("dhat_median_0.5"))/\(m("dhat_median_0.75")), "
              + "RI \(m("ri_sharpness_median")), prenorm \(m("sharpness_median_prenorm")), KL \(m("sharpness_median_kl"))")
        #expect(outcome.verdict == .supported, "\(outcome.criteria)")
        #expect(m("sharpness_median") > 2.0 && m("sharpness_median") < 6.0, "pilot 3.43 at S = 21")
        #expect(m("ri_sharpness_median") < 1.3, "pilot RI 1.07")
        #expect(m("sharpness_median_kl") > m("ri_sharpness_median"))
        let curve = (0..<11).compactMap { SmolLM2Claims.metric(outcome, "dhat_mean", layer: $0) }
        #expect(curve.count == 11 && abs(curve[0]) < 1e-9 && abs(curve[10] - 1) < 1e-9)
    }

    @Test("SR-1 random-init control is refuted: straight curves")
    func sr1RandomInit() throws {
        let (outcome, seconds) = try timed { try SR1StableRegions().check(context(.control(RandomInitialization.controlName))) }
        let median = SmolLM2Claims.metric(outcome, "sharpness_median") ?? .nan
        print("SR-1 random-init (\(String(format: "%.1f", seconds)) s): median \(median), "
              + "d̂(.5) \(SmolLM2Claims.metric(outcome, "dhat_median_0.5") ?? .nan)")
        #expect(outcome.verdict == .refuted, "\(outcome.criteria)")
        #expect(median < 1.3)
    }

    @Test("SR-2 orders random-init below trained (informational)")
    func sr2() throws {
        let (outcome, seconds) = try timed { try SR2SharpeningOrder().check(context()) }
        let medians = (0..<2).compactMap { SmolLM2Claims.metric(outcome, "sharpness_median", layer: $0) }
        print("SR-2 (\(String(format: "%.1f", seconds)) s): medians \(medians)")
        #expect(outcome.verdict == .informational)
        #expect(medians.count == 2 && medians[0] < medians[1])
        #expect(SmolLM2Claims.metric(outcome, "non_decreasing") == 1)
    }

    @Test("SR-2 rejects an unknown model file with a clear error")
    func sr2MissingModel() {
        #expect(throws: ClaimError.self) {
            try SR2SharpeningOrder().check(context(parameters: ["models": .list([.string("trained"), .string("no-such.gguf")]), "steps": .int(11)]))
        }
    }

    @Test("SR-3: same-ending pairs interpolate more smoothly; shuffled labels are refuted")
    func sr3() throws {
        let parameters: [String: ParameterValue] = ["steps": .int(11), "pairs": .int(24), "permutations": .int(500)]
        let (outcome, seconds) = try timed { try SR3SemanticRegions().check(context(count: 200, parameters: parameters)) }
        let m = { SmolLM2Claims.metric(outcome, $0) ?? .nan }
        print("SR-3 (\(String(format: "%.1f", seconds)) s): similar \(m("sharpness_median_similar")) (n \(m("pairs_similar"))), "
              + "dissimilar \(m("sharpness_median_dissimilar")) (n \(m("pairs_dissimilar"))), p \(m("permutation_p"))")
        #expect(outcome.verdict == .supported, "\(outcome.criteria)")
        let shuffled = try SR3SemanticRegions().check(context(.control(SR3SemanticRegions.shuffledLabels), count: 200, parameters: parameters))
        print("SR-3 shuffled labels: difference \(SmolLM2Claims.metric(shuffled, "median_difference") ?? .nan), "
              + "p \(SmolLM2Claims.metric(shuffled, "permutation_p") ?? .nan)")
        #expect(shuffled.verdict == .refuted, "\(shuffled.criteria)")
    }
}

/// The §4 extras at small sizes: 4 triplets on a 7×7 slice, 12 pairs for the gate flips.
@Suite("SR extras", .serialized, .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct SRExtrasTests {
    @Test("SR-slice: trained has more plateau than random-init, and a full label grid")
    func slice() throws {
        let outcome = try SR2DSlice().check(SmolLM2Claims.context(corpus: "walden", count: 12, tokens: 10,
                                                                parameters: ["triplets": .int(4), "grid": .int(7)]))
        let m = { SmolLM2Claims.metric(outcome, $0) ?? .nan }
        print("SR-slice: boundary density \(m("boundary_density")) (RI \(m("boundary_density_ri"))), "
              + "plateau \(m("plateau_share")) (RI \(m("plateau_share_ri")))")
        #expect(outcome.verdict == .informational)
        #expect(outcome.metrics.filter { $0.name == "nearest_anchor" }.count == 49)
        #expect(m("plateau_share") > m("plateau_share_ri"))
    }

    @Test("SR-gates: hundreds of last-layer gate units flip across a pair")
    func gates() throws {
        let outcome = try SRGateFlips().check(SmolLM2Claims.context(corpus: "walden", count: 13, tokens: 10))
        let m = { SmolLM2Claims.metric(outcome, $0) ?? .nan }
        print("SR-gates: flips \(m("gate_flips_median")) (inside \(m("gate_flips_inside_median")), d̂ \(m("dhat_inside_median"))); "
              + "RI \(m("gate_flips_median_ri")) (inside \(m("gate_flips_inside_median_ri")))")
        #expect(outcome.verdict == .informational)
        #expect(m("gate_flips_median") >= 100 && m("gate_flips_median") <= 1536)
    }
}

/// The interpolation statistics, on curves with known answers (no model).
@Suite("SR sharpness arithmetic")
struct SRSharpnessTests {
    @Test("a straight line has sharpness 1, a one-step jump S − 1, and d̂ is read between grid points")
    func sharpness() throws {
        let grid = StableRegionProbe.grid(11)
        #expect(grid.first == 0 && grid.last == 1 && grid.count == 11)
        let line = try #require(StableRegionProbe.normalized(grid.map { 3 * $0 }))
        #expect(abs(StableRegionProbe.sharpness(line) - 1) < 1e-12)
        let step = try #require(StableRegionProbe.normalized(grid.map { $0 < 0.5 ? 0 : 2 }))
        #expect(abs(StableRegionProbe.sharpness(step) - 10) < 1e-12)
        #expect(abs(StableRegionProbe.value(line, at: 0.25) - 0.25) < 1e-12)
        #expect(abs(StableRegionProbe.value(step, at: 0.45) - 0.5) < 1e-12)
    }

    @Test("the batched KL readout gives the same bits as Statistics.klDivergence")
    func klReadout() {
        var rng = PCG64(seed: 5)
        let rows = (0..<3).map { _ in (0..<500).map { _ in Float(rng.nextGaussian(std: 4)) } }
        let batched = StableRegionProbe.klDivergences(reference: rows[0][...], rows: rows.map { $0[...] })
        #expect(batched == rows.map { Statistics.klDivergence(logitsP: rows[0], logitsQ: $0) })
        #expect(batched[0] == 0 || abs(batched[0]) < 1e-12)
    }

    @Test("pairs whose endpoint distance is below 1e-6 are dropped")
    func dropsDegeneratePairs() {
        #expect(StableRegionProbe.normalized([0, 1e-8, 5e-7]) == nil)
        let summary = StableRegionProbe.summarize([[0, 0, 0], [0, 1, 2]])
        #expect(summary.kept == [1] && summary.sharpness == [1])
    }

    @Test("similar pairs share a last token, round-robin over tokens; dissimilar pairs differ in token and prediction")
    func pairing() {
        let pool = [[1, 7], [2, 7], [3, 8], [4, 7], [5, 8], [6, 7], [1, 7]]
        let similar = SR3SemanticRegions.similarPairs(pool, limit: 3)
        #expect(similar.map { [$0.0, $0.1] } == [[0, 1], [2, 4], [3, 5]])
        let dissimilar = SR3SemanticRegions.dissimilarPairs(pool, top1: [0, 0, 1, 1, 2, 3, 3], limit: 10)
        #expect(dissimilar.map { [$0.0, $0.1] } == [[1, 2], [3, 4], [4, 5]])
    }
}
