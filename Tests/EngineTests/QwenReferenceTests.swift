import Foundation
import NPY
import Testing
import TestSupport
@testable import Engine

/// Qwen2.5-Coder 0.5B (qwen2: llama plus Q/K/V biases, NEOX RoPE, untied output) against the
/// float64 reference of `shared/reference/qwen2.5-coder-0.5b`, including a 1051-token prompt,
/// under both weight residencies.
@Suite("Qwen2.5 reference", .serialized,
       .enabled(if: Fixtures.available(Fixtures.qwen05), "run `rbench fetch qwen2.5-coder-0.5b` first"))
struct QwenReferenceTests {
    static let folder = "qwen2.5-coder-0.5b"
    static let dense: LanguageModel? = try? LanguageModel(contentsOf: Fixtures.qwen05, residency: .fixed(.dense))
    static let quantized: LanguageModel? = try? LanguageModel(contentsOf: Fixtures.qwen05, residency: .fixed(.quantized))

    func model(_ residency: WeightResidency) throws -> LanguageModel {
        let model = try #require(residency == .dense ? Self.dense : Self.quantized, "could not load \(Fixtures.qwen05.path)")
        #expect(model.residency == residency)
        return model
    }

    @Test("configuration read from metadata: Q/K/V biases, NEOX RoPE over rope.dimension_count, untied output")
    func configuration() throws {
        let model = try model(.quantized)
        let c = model.configuration
        #expect(c.architecture == .qwen2)
        #expect(c.blockCount == 24 && c.modelWidth == 896 && c.feedForwardWidth == 4864)
        #expect(c.headCount == 14 && c.keyValueHeadCount == 2 && c.headWidth == 64 && c.ropeDimensions == 64)
        #expect(c.vocabularySize == 151_936 && c.normEpsilon == 1e-6)
        #expect(c.traits.ropePairing == .halves && c.traits.activation == .silu && c.traits.biasesQueryKeyValue)
        #expect(!c.traits.normalizesQueriesAndKeys && !c.traits.normalizesSublayerOutputs && c.traits.embeddingScale == 1)
        #expect(c.layouts.allSatisfy { $0 == AttentionLayout(ropeBase: 1_000_000, window: nil) })
        #expect(model.weights.output != nil, "the 0.5B file has its own output.weight")
        #expect(model.weights.blocks.allSatisfy { $0.qkvBias.count == c.fusedQKVWidth })
        // The standard policy keeps this model quantized (1.43 GB of Float32 block matrices).
        #expect(LanguageModel.residency(for: c, policy: .standard) == .quantized)
    }

    @Test("last-position residuals, final norm and top-64 logits match, the 1051-token prompt included",
          arguments: WeightResidency.allCases)
    func lastPosition(residency: WeightResidency) throws {
        let model = try model(residency)
        let c = model.configuration
        let reference = try Fixtures.referenceTokens(Self.folder)
        let residuals = try Fixtures.loadReferenceArray(Self.folder, "residual_last.npy")
        let finalNorm = try Fixtures.loadReferenceArray(Self.folder, "final_norm_last.npy")
        let topIDs = try Fixtures.loadReferenceArray(Self.folder, "logits_topk_ids.npy")
        let topValues = try Fixtures.loadReferenceArray(Self.folder, "logits_topk_values.npy")
        let logSumExp = try Fixtures.loadReferenceArray(Self.folder, "logits_logsumexp.npy")
        #expect(residuals.shape == [reference.tokens.count, c.residualCount, c.modelWidth])
        #expect(reference.tokens.last?.count == 1051)
        var hooks = (0...c.blockCount).map(HookPoint.residual)
        hooks.append(.finalNorm)
        let capture = try model.capture(reference.tokens, plan: CapturePlan(hooks: hooks))
        var worstPerLayer = [Double](repeating: 0, count: c.residualCount)
        var worstCosine = 1.0, worstLogit = 0.0
        for p in reference.tokens.indices {
            for l in 0...c.blockCount {
                let start = (p * c.residualCount + l) * c.modelWidth
                let agreement = Agreement(capture.vector(prompt: p, hook: .residual(l)),
                                          reference: residuals.values[start ..< start + c.modelWidth].map(Float.init))
                worstPerLayer[l] = max(worstPerLayer[l], agreement.relativeRMSError)
                worstCosine = min(worstCosine, agreement.cosine)
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
                let delta = abs(Double(logits[Int(topIDs.values[p * 64 + k])]) - topValues.values[p * 64 + k])
                worstLogit = max(worstLogit, delta / maxLogit)
                #expect(delta <= 1e-3 * maxLogit, "prompt \(p) top-\(k) logit off by \(delta)")
            }
            let m = Double(logits.max()!)
            let lse = m + log(logits.reduce(0.0) { $0 + exp(Double($1) - m) })
            #expect(abs(lse - logSumExp.values[p]) <= 1e-3 * maxLogit, "prompt \(p): logsumexp \(lse) vs \(logSumExp.values[p])")
        }
        let formatted = worstPerLayer.enumerated().map { "\($0.offset):\(String(format: "%.2e", $0.element))" }.joined(separator: " ")
        print("Qwen2.5 0.5B (\(residency)) worst rms rel per layer over \(reference.tokens.count) prompts: \(formatted); "
              + "worst cosine \(worstCosine); worst top-64 |Δ logit|/max \(worstLogit)")
    }

    @Test("all positions of prompts 0 and 1 match", arguments: [0, 1])
    func allPositions(prompt: Int) throws {
        let model = try model(.quantized)
        let c = model.configuration
        let tokens = try Fixtures.referenceTokens(Self.folder).tokens[prompt]
        let expected = try Fixtures.loadReferenceArray(Self.folder, "residual_all_\(prompt).npy")
        #expect(expected.shape == [tokens.count, c.residualCount, c.modelWidth])
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

    /// The residency cannot change a bit: both dequantize with the same converters and run the
    /// same GEMM calls. Full passes, resumes with edits and the gate readout are compared bit for bit.
    @Test("dense and quantized residencies give the same bits: capture, resume, gate readout")
    func residenciesAgreeBitForBit() throws {
        let dense = try model(.dense), quantized = try model(.quantized)
        let c = dense.configuration, d = c.modelWidth
        let prompts = Array(try Fixtures.referenceTokens(Self.folder).tokens.prefix(6))
        var hooks = (0...c.blockCount).map(HookPoint.residual) + (0..<c.blockCount).map(HookPoint.residualMid)
        hooks.append(.finalNorm)
        let plan = CapturePlan(hooks: hooks, positions: .all)
        let (denseCapture, denseCache) = try dense.prefill(prompts, plan: plan)
        let (quantizedCapture, quantizedCache) = try quantized.prefill(prompts, plan: plan)
        #expect(denseCapture.values == quantizedCapture.values)

        let rows = prompts.indices.map { p in
            ResumeRow(prompt: p, residual: denseCapture.vector(prompt: p, row: prompts[p].count - 1, hook: .residual(3))
                .enumerated().map { $0.element + Float(sin(Double($0.offset))) })
        }
        var denseMid: [Float] = [], quantizedMid: [Float] = []
        let denseResumed = try dense.resume(denseCache, rows: rows, fromResidual: 3, capture: [4, 12, c.blockCount],
                                            afterAttention: { b, states in if b == c.blockCount - 1 { denseMid = Array(states) } })
        let quantizedResumed = try quantized.resume(quantizedCache, rows: rows, fromResidual: 3, capture: [4, 12, c.blockCount],
                                                    afterAttention: { b, states in if b == c.blockCount - 1 { quantizedMid = Array(states) } })
        #expect(denseResumed == quantizedResumed && denseMid == quantizedMid && denseMid.count == rows.count * d)
        #expect(dense.feedForwardGate(block: c.blockCount - 1, residualMid: denseMid, rows: rows.count)
                == quantized.feedForwardGate(block: c.blockCount - 1, residualMid: quantizedMid, rows: rows.count))
    }

    @Test("resume over the long prefix reproduces the full pass")
    func resumeLongPrompt() throws {
        let model = try model(.quantized)
        let c = model.configuration
        let long = try Fixtures.referenceTokens(Self.folder).tokens.last!
        let (capture, cache) = try model.prefill([long], plan: .residuals(blockCount: c.blockCount))
        let resumed = try model.resume(cache, rows: [ResumeRow(prompt: 0, residual: Array(capture.vector(prompt: 0, hook: .residual(2))))],
                                       fromResidual: 2, capture: [c.blockCount])
        let agreement = Agreement(resumed, reference: capture.vector(prompt: 0, hook: .residual(c.blockCount)))
        #expect(agreement.relativeRMSError < 1e-5, "\(agreement)")
    }
}
