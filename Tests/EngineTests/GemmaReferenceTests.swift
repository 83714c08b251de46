import Foundation
import NPY
import Testing
import TestSupport
@testable import Engine

/// Gemma 3 270M against the float64 reference of `shared/reference/gemma3-270m`, including a
/// 1028-token prompt that crosses the 512-token sliding window.
@Suite("Gemma 3 reference", .serialized, .enabled(if: Fixtures.available(Fixtures.gemma3), "run `make model MODEL=gemma3-270m` first"))
struct Gemma3ReferenceTests {
    static let folder = "gemma3-270m"
    static let model: LanguageModel? = try? LanguageModel(contentsOf: Fixtures.gemma3)
    /// The same file with its block matrices kept quantized (the standard policy holds Gemma dense).
    static let quantized: LanguageModel? = try? LanguageModel(contentsOf: Fixtures.gemma3, residency: .fixed(.quantized))

    @Test("configuration read from metadata: NEOX RoPE, local/global layers, √d embedding scale")
    func configuration() throws {
        let c = try #require(Self.model).configuration
        #expect(c.architecture == .gemma3)
        #expect(c.blockCount == 18 && c.modelWidth == 640 && c.headWidth == 256 && c.headCount == 4 && c.keyValueHeadCount == 1)
        #expect(c.traits.ropePairing == .halves)
        #expect(c.layouts.enumerated().filter { $0.element.window == nil }.map(\.offset) == [5, 11, 17])
        #expect(c.layouts[0].window == 512 && c.layouts[0].ropeBase == 10_000 && c.layouts[5].ropeBase == 1_000_000)
    }

    @Test("last-position residuals, final norm, and top-64 logits match, across the sliding window",
          arguments: WeightResidency.allCases)
    func lastPosition(residency: WeightResidency) throws {
        let model = try #require(residency == .dense ? Self.model : Self.quantized)
        #expect(model.residency == residency)
        let c = model.configuration
        let reference = try Fixtures.referenceTokens(Self.folder)
        let residuals = try Fixtures.loadReferenceArray(Self.folder, "residual_last.npy")
        let finalNorm = try Fixtures.loadReferenceArray(Self.folder, "final_norm_last.npy")
        let topIDs = try Fixtures.loadReferenceArray(Self.folder, "logits_topk_ids.npy")
        let topValues = try Fixtures.loadReferenceArray(Self.folder, "logits_topk_values.npy")
        let logSumExp = try Fixtures.loadReferenceArray(Self.folder, "logits_logsumexp.npy")
        var hooks = (0...c.blockCount).map(HookPoint.residual)
        hooks.append(.finalNorm)
        let capture = try model.capture(reference.tokens, plan: CapturePlan(hooks: hooks))
        var worst = 0.0
        for p in reference.tokens.indices {
            for l in 0...c.blockCount {
                let start = (p * c.residualCount + l) * c.modelWidth
                let agreement = Agreement(capture.vector(prompt: p, hook: .residual(l)),
                                          reference: residuals.values[start ..< start + c.modelWidth].map(Float.init))
                worst = max(worst, agreement.relativeRMSError)
                #expect(agreement.meetsReferenceTolerance, "prompt \(p) (\(reference.tokens[p].count) tokens) layer \(l): \(agreement)")
            }
            let norm = Agreement(capture.vector(prompt: p, hook: .finalNorm),
                                 reference: finalNorm.values[p * c.modelWidth ..< (p + 1) * c.modelWidth].map(Float.init))
            #expect(norm.meetsReferenceTolerance, "prompt \(p) final norm: \(norm)")

            let logits = model.logits(fromNormalized: Array(capture.vector(prompt: p, hook: .finalNorm)), rows: 1)
            let argmax = logits.indices.max(by: { logits[$0] < logits[$1] })!
            #expect(argmax == Int(topIDs.values[p * 64]), "prompt \(p): argmax \(argmax) vs \(topIDs.values[p * 64])")
            let maxLogit = abs(topValues.values[p * 64])
            for k in 0..<64 {
                let id = Int(topIDs.values[p * 64 + k])
                #expect(abs(Double(logits[id]) - topValues.values[p * 64 + k]) <= 1e-3 * maxLogit)
            }
            let m = Double(logits.max()!)
            let lse = m + log(logits.reduce(0.0) { $0 + exp(Double($1) - m) })
            #expect(abs(lse - logSumExp.values[p]) <= 1e-3 * maxLogit, "prompt \(p): logsumexp \(lse) vs \(logSumExp.values[p])")
        }
        print("Gemma 3 (\(residency)) residual agreement over \(reference.tokens.count) prompts × \(c.residualCount) states: worst rms rel \(worst)")
    }

    @Test("all positions of prompt 0 match")
    func allPositions() throws {
        let model = try #require(Self.model)
        let c = model.configuration
        let tokens = try Fixtures.referenceTokens(Self.folder).tokens[0]
        let expected = try Fixtures.loadReferenceArray(Self.folder, "residual_all_0.npy")
        let capture = try model.capture([tokens], plan: .residuals(blockCount: c.blockCount, positions: .all))
        for position in tokens.indices {
            for l in 0...c.blockCount {
                let start = (position * c.residualCount + l) * c.modelWidth
                let agreement = Agreement(capture.vector(prompt: 0, row: position, hook: .residual(l)),
                                          reference: expected.values[start ..< start + c.modelWidth].map(Float.init))
                #expect(agreement.meetsReferenceTolerance, "position \(position) layer \(l): \(agreement)")
            }
        }
    }

    @Test("dense and quantized residencies give the same bits across the sliding window")
    func residenciesAgreeBitForBit() throws {
        let dense = try #require(Self.model), quantized = try #require(Self.quantized)
        let c = dense.configuration
        let prompts = [try Fixtures.referenceTokens(Self.folder).tokens.last!]
        let plan = CapturePlan(hooks: (0...c.blockCount).map(HookPoint.residual) + [.finalNorm])
        #expect(try dense.capture(prompts, plan: plan).values == quantized.capture(prompts, plan: plan).values)
    }

    @Test("resume over a sliding-window prefix reproduces the full pass")
    func resumeAcrossWindow() throws {
        let model = try #require(Self.model)
        let c = model.configuration
        let long = try Fixtures.referenceTokens(Self.folder).tokens.last!
        let (capture, cache) = try model.prefill([long], plan: .residuals(blockCount: c.blockCount))
        let resumed = try model.resume(cache, rows: [ResumeRow(prompt: 0, residual: Array(capture.vector(prompt: 0, hook: .residual(2))))],
                                       fromResidual: 2, capture: [c.blockCount])
        let agreement = Agreement(resumed, reference: capture.vector(prompt: 0, hook: .residual(c.blockCount)))
        #expect(agreement.relativeRMSError < 1e-5, "\(agreement)")
    }
}
