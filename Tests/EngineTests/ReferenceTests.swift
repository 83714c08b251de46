import Foundation
import NPY
import Testing
import TestSupport
@testable import Engine

/// The engine against the independent float64 reference of `shared/reference/smollm2-135m`.
@Suite("SmolLM2 reference", .serialized, .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct SmolLM2ReferenceTests {
    static let folder = "smollm2-135m"
    static let model: LanguageModel? = try? LanguageModel(contentsOf: Fixtures.smolLM2)
    /// The same file with its matrices kept quantized (the standard policy holds SmolLM2 dense).
    static let quantized: LanguageModel? = try? LanguageModel(contentsOf: Fixtures.smolLM2, residency: .fixed(.quantized))

    func loadedModel(_ residency: WeightResidency = .dense) throws -> LanguageModel {
        let model = try #require(residency == .dense ? Self.model : Self.quantized, "could not load \(Fixtures.smolLM2.path)")
        #expect(model.residency == residency)
        return model
    }

    @Test("last-position residual stream matches at every layer, final norm and logits too", arguments: WeightResidency.allCases)
    func lastPosition(residency: WeightResidency) throws {
        let model = try loadedModel(residency)
        let reference = try Fixtures.referenceTokens(Self.folder)
        let residuals = try Fixtures.loadReferenceArray(Self.folder, "residual_last.npy")
        let finalNorm = try Fixtures.loadReferenceArray(Self.folder, "final_norm_last.npy")
        let logits = try Fixtures.loadReferenceArray(Self.folder, "logits_last.npy")
        let c = model.configuration
        #expect(residuals.shape == [reference.tokens.count, c.residualCount, c.modelWidth])

        var hooks = (0...c.blockCount).map(HookPoint.residual)
        hooks.append(.finalNorm)
        let capture = try model.capture(reference.tokens, plan: CapturePlan(hooks: hooks))
        var worst = 0.0, worstCosine = 1.0
        for p in 0..<reference.tokens.count {
            for l in 0...c.blockCount {
                let start = (p * c.residualCount + l) * c.modelWidth
                let expected = residuals.values[start ..< start + c.modelWidth].map(Float.init)
                let agreement = Agreement(capture.vector(prompt: p, hook: .residual(l)), reference: expected)
                worst = max(worst, agreement.relativeRMSError)
                worstCosine = min(worstCosine, agreement.cosine)
                #expect(agreement.meetsReferenceTolerance, "prompt \(p) layer \(l): \(agreement)")
            }
            let normExpected = finalNorm.values[p * c.modelWidth ..< (p + 1) * c.modelWidth].map(Float.init)
            let normAgreement = Agreement(capture.vector(prompt: p, hook: .finalNorm), reference: normExpected)
            #expect(normAgreement.meetsReferenceTolerance, "prompt \(p) final norm: \(normAgreement)")
        }
        print("SmolLM2 (\(residency)) residual agreement over 24 prompts × 31 states: worst rms rel \(worst), worst cosine \(worstCosine)")

        let normalized = (0..<reference.tokens.count).flatMap { Array(capture.vector(prompt: $0, hook: .finalNorm)) }
        let computed = model.logits(fromNormalized: normalized, rows: reference.tokens.count)
        let v = c.vocabularySize
        var worstLogit = 0.0
        for p in 0..<reference.tokens.count {
            let mine = computed[p * v ..< (p + 1) * v]
            let theirs = logits.values[p * v ..< (p + 1) * v]
            let myArgmax = mine.indices.max(by: { mine[$0] < mine[$1] })! - p * v
            let refArgmax = theirs.indices.max(by: { theirs[$0] < theirs[$1] })! - p * v
            #expect(myArgmax == refArgmax, "prompt \(p): argmax \(myArgmax) vs reference \(refArgmax)")
            let maxLogit = theirs.map(abs).max()!
            let maxDelta = zip(mine, theirs).map { abs(Double($0) - $1) }.max()!
            worstLogit = max(worstLogit, maxDelta / maxLogit)
            #expect(maxDelta <= 1e-3 * maxLogit, "prompt \(p): max |Δ logit| \(maxDelta) > 1e-3 × \(maxLogit)")
        }
        print("SmolLM2 (\(residency)) logits: worst max|Δ|/max|logit| = \(worstLogit)")
    }

    @Test("all-position residual streams match for the two reference prompts", arguments: [0, 1])
    func allPositions(prompt: Int) throws {
        let model = try loadedModel()
        let reference = try Fixtures.referenceTokens(Self.folder)
        let expected = try Fixtures.loadReferenceArray(Self.folder, "residual_all_\(prompt).npy")
        let c = model.configuration
        let tokens = reference.tokens[prompt]
        #expect(expected.shape == [tokens.count, c.residualCount, c.modelWidth])
        let capture = try model.capture([tokens], plan: .residuals(blockCount: c.blockCount, positions: .all))
        #expect(capture.rowCount == tokens.count)
        for position in 0..<tokens.count {
            for l in 0...c.blockCount {
                let start = (position * c.residualCount + l) * c.modelWidth
                let agreement = Agreement(capture.vector(prompt: 0, row: position, hook: .residual(l)),
                                          reference: expected.values[start ..< start + c.modelWidth].map(Float.init))
                #expect(agreement.meetsReferenceTolerance, "position \(position) layer \(l): \(agreement)")
            }
        }
    }

    @Test("resuming the last position from a cached prefix reproduces the full pass, and edits match a full-pass intervention")
    func resumeMatchesFullPass() throws {
        let model = try loadedModel()
        let prompts = Array(try Fixtures.referenceTokens(Self.folder).tokens.prefix(6))
        let c = model.configuration
        let d = c.modelWidth
        let (capture, cache) = try model.prefill(prompts, plan: .residuals(blockCount: c.blockCount))
        for start in [0, 7, 29] {
            let rows = prompts.indices.map { ResumeRow(prompt: $0, residual: Array(capture.vector(prompt: $0, hook: .residual(start)))) }
            let resumed = try model.resume(cache, rows: rows, fromResidual: start, capture: [c.blockCount])
            for p in prompts.indices {
                let agreement = Agreement(resumed[p * d ..< (p + 1) * d],
                                          reference: capture.vector(prompt: p, hook: .residual(c.blockCount)))
                #expect(agreement.relativeRMSError < 1e-5, "resume from \(start), prompt \(p): \(agreement)")
            }
        }

        // An edit of the last position: resume versus a full pass with the same intervention.
        let start = 7
        let shift = (0..<d).map { Float(sin(Double($0))) * 3 }
        let rows = prompts.indices.map { p in
            ResumeRow(prompt: p, residual: zip(capture.vector(prompt: p, hook: .residual(start)), shift).map { $0 + $1 })
        }
        let resumed = try model.resume(cache, rows: rows, fromResidual: start, capture: [c.blockCount])
        let edited = try model.capture(prompts, plan: .residuals([c.blockCount], blockCount: c.blockCount),
                                       interventions: [Intervention(residualIndex: start) { _, rows in
                                           let last = rows.count - d
                                           for i in 0..<d { rows[last + i] += shift[i] }
                                       }])
        for p in prompts.indices {
            let agreement = Agreement(resumed[p * d ..< (p + 1) * d], reference: edited.vector(prompt: p, hook: .residual(c.blockCount)))
            #expect(agreement.relativeRMSError < 1e-5, "edited resume, prompt \(p): \(agreement)")
        }
    }

    @Test("dense and quantized residencies give the same bits, full pass and resume")
    func residenciesAgreeBitForBit() throws {
        let dense = try loadedModel(.dense), quantized = try loadedModel(.quantized)
        let c = dense.configuration
        let prompts = Array(try Fixtures.referenceTokens(Self.folder).tokens.prefix(8))
        let plan = CapturePlan(hooks: (0...c.blockCount).map(HookPoint.residual) + [.finalNorm], positions: .all)
        let (denseCapture, denseCache) = try dense.prefill(prompts, plan: plan)
        let (quantizedCapture, quantizedCache) = try quantized.prefill(prompts, plan: plan)
        #expect(denseCapture.values == quantizedCapture.values)
        let rows = prompts.indices.map { p in
            ResumeRow(prompt: p, residual: denseCapture.vector(prompt: p, row: prompts[p].count - 1, hook: .residual(7)).map { $0 * 1.5 })
        }
        #expect(try dense.resume(denseCache, rows: rows, fromResidual: 7, capture: [8, c.blockCount])
                == quantized.resume(quantizedCache, rows: rows, fromResidual: 7, capture: [8, c.blockCount]))
    }

    @Test("a prompt gives the same states alone and inside a batch")
    func batchInvariance() throws {
        let model = try loadedModel()
        let prompts = Array(try Fixtures.referenceTokens(Self.folder).tokens.prefix(5))
        let c = model.configuration
        let batched = try model.capture(prompts, plan: .residuals(blockCount: c.blockCount))
        let alone = try model.capture([prompts[3]], plan: .residuals(blockCount: c.blockCount))
        for l in [1, 15, 30] {
            let agreement = Agreement(batched.vector(prompt: 3, hook: .residual(l)), reference: alone.vector(prompt: 0, hook: .residual(l)))
            #expect(agreement.relativeRMSError < 1e-6, "layer \(l): \(agreement)")
        }
    }
}
