import Foundation
import NPY
import Testing
import TestSupport
@testable import Engine

/// Every architecture family against Hugging Face transformers reading the same tiny GGUF
/// (`Tests/Fixtures/families`, written by `Scripts/families/generate.py`): the residual stream
/// at every layer and position, the final norm and the logits, then every hook on the same file.
@Suite("Architecture families against transformers")
struct FamilyFixtureTests {
    static let families = ["llama", "qwen2", "qwen3", "gemma3", "gemma2", "phi3", "gpt2", "stablelm"]

    struct Fixture {
        var model: LanguageModel
        var prompts: [[Int]]
        var residuals: NPYArray   // [prompt][layer][position][width]
        var finalNorm: NPYArray   // [prompt][position][width]
        var logits: NPYArray      // [prompt][position][vocab]

        init(_ family: String) throws {
            model = try LanguageModel(contentsOf: Fixtures.family(family, "model.gguf"))
            prompts = try Fixtures.familyTokens(family).tokens
            residuals = try NPYArray(contentsOf: Fixtures.family(family, "residuals.npy"))
            finalNorm = try NPYArray(contentsOf: Fixtures.family(family, "final_norm.npy"))
            logits = try NPYArray(contentsOf: Fixtures.family(family, "logits.npy"))
        }

        var longest: Int { residuals.shape[2] }

        func residual(prompt: Int, layer: Int, position: Int) -> [Float] {
            let d = model.configuration.modelWidth, layers = model.configuration.residualCount
            let start = ((prompt * layers + layer) * longest + position) * d
            return residuals.values[start ..< start + d].map(Float.init)
        }

        func row(_ array: NPYArray, prompt: Int, position: Int) -> [Float] {
            let width = array.shape[2]
            let start = (prompt * longest + position) * width
            return array.values[start ..< start + width].map(Float.init)
        }

        /// Worst rms relative error per residual index of `model` (by default the fixture's own) over every prompt and position.
        func worstPerLayer(_ model: LanguageModel? = nil) throws -> [Double] {
            let model = model ?? self.model
            let c = model.configuration
            let capture = try model.capture(prompts, plan: .residuals(blockCount: c.blockCount, positions: .all))
            var worst = [Double](repeating: 0, count: c.residualCount)
            for (p, prompt) in prompts.enumerated() {
                for position in prompt.indices {
                    for l in 0...c.blockCount {
                        let agreement = Agreement(capture.vector(prompt: p, row: position, hook: .residual(l)),
                                                  reference: residual(prompt: p, layer: l, position: position))
                        worst[l] = max(worst[l], agreement.relativeRMSError)
                    }
                }
            }
            return worst
        }
    }

    @Test("every known family has a fixture and is found by name; others are refused, naming what is supported")
    func registry() throws {
        #expect(Set(Self.families) == Set(ArchitectureFamily.known.map(\.architecture.rawValue)))
        for family in ArchitectureFamily.known {
            #expect(ArchitectureFamily.named(family.architecture.rawValue) == family)
            #expect(FileManager.default.fileExists(atPath: Fixtures.family(family.architecture.rawValue, "model.gguf").path))
            #expect(!family.features.isEmpty)
        }
        #expect(ArchitectureFamily.named("mamba") == nil)
        let message = EngineError.unsupportedArchitecture(file: "m.gguf", name: "mamba").description
        #expect(message.contains("gpt2") && message.contains("stablelm") && message.contains("m.gguf"))
    }

    @Test("a family feature the engine does not run is refused before any work, naming it")
    func unsupportedFeature() throws {
        // A StableLM file without ffn_norm asks for the parallel residual (StableLM 2 12B).
        let spec = TinyModelSpec(architecture: "stablelm")
        let tensors = TinyModelFixture.tensors(for: spec).filter { !$0.name.hasSuffix("ffn_norm.weight") }
        let url = try TinyModelFixture.write(spec, tensors: tensors, named: "parallel.gguf")
        let error = #expect(throws: EngineError.self) { try LanguageModel(contentsOf: url) }
        guard case .unsupportedFeature(let file, let feature)? = error else {
            Issue.record("expected unsupportedFeature, got \(String(describing: error))")
            return
        }
        #expect(file == "parallel.gguf" && feature.contains("parallel residual") && feature.contains("blk.0.ffn_norm.weight"))
    }

    @Test("residuals at every layer and position match transformers within 1e-4 rms relative", arguments: families)
    func residuals(family: String) throws {
        let fixture = try Fixture(family)
        let worst = try fixture.worstPerLayer()
        #expect(worst.allSatisfy { $0 <= 1e-4 }, "\(family): worst rms relative error per layer \(worst)")
        print("family \(family): worst layer error \(worst.max()!) (per layer \(worst.map { String(format: "%.1e", $0) }))")
    }

    @Test("final norm and logits at every position match transformers", arguments: families)
    func readouts(family: String) throws {
        let fixture = try Fixture(family)
        let model = fixture.model
        let c = model.configuration
        let capture = try model.capture(fixture.prompts, plan: CapturePlan(hooks: [.residual(c.blockCount), .finalNorm], positions: .all))
        for (p, prompt) in fixture.prompts.enumerated() {
            for position in prompt.indices {
                let normed = Array(capture.vector(prompt: p, row: position, hook: .finalNorm))
                let norm = Agreement(normed, reference: fixture.row(fixture.finalNorm, prompt: p, position: position))
                #expect(norm.meetsReferenceTolerance, "\(family) prompt \(p) position \(position) final norm: \(norm)")
                let logits = model.logits(fromNormalized: normed, rows: 1)
                let agreement = Agreement(logits, reference: fixture.row(fixture.logits, prompt: p, position: position))
                #expect(agreement.meetsReferenceTolerance, "\(family) prompt \(p) position \(position) logits: \(agreement)")
                // The readout from the raw residual applies the same final norm.
                let fromResidual = model.logits(fromResiduals: Array(capture.vector(prompt: p, row: position, hook: .residual(c.blockCount))), rows: 1)
                #expect(fromResidual == logits)
            }
        }
    }

    @Test("resume from every residual, the pre-MLP residual and the gate readout agree with a full pass", arguments: families)
    func hooks(family: String) throws {
        let fixture = try Fixture(family)
        let model = fixture.model
        let c = model.configuration
        let plan = CapturePlan(hooks: (0...c.blockCount).map(HookPoint.residual) + (0..<c.blockCount).map(HookPoint.residualMid))
        let (capture, cache) = try model.prefill(fixture.prompts, plan: plan)
        for start in 0..<c.blockCount {
            let rows = fixture.prompts.indices.map { ResumeRow(prompt: $0, residual: Array(capture.vector(prompt: $0, hook: .residual(start)))) }
            var mids: [Int: [Float]] = [:]
            let resumed = try model.resume(cache, rows: rows, fromResidual: start, capture: [c.blockCount],
                                           afterAttention: { block, states in mids[block] = Array(states) })
            for p in fixture.prompts.indices {
                let d = c.modelWidth
                let agreement = Agreement(resumed[p * d ..< (p + 1) * d], reference: capture.vector(prompt: p, hook: .residual(c.blockCount)))
                #expect(agreement.relativeRMSError <= 1e-5, "\(family) resume from \(start), prompt \(p): \(agreement)")
                for block in start..<c.blockCount {
                    let mid = Agreement(mids[block]![p * d ..< (p + 1) * d], reference: capture.vector(prompt: p, hook: .residualMid(block)))
                    #expect(mid.relativeRMSError <= 1e-5, "\(family) pre-MLP residual of block \(block), prompt \(p): \(mid)")
                }
            }
        }
        // An edit of the last position's residual is seen by the rest of the stack, in a full pass and on resume alike.
        let last = fixture.prompts[0].count - 1, d = c.modelWidth
        let push = [Float](repeating: 0.5, count: d)
        let edited = try model.capture([fixture.prompts[0]], plan: .residuals([c.blockCount], blockCount: c.blockCount),
                                       interventions: [Intervention(residualIndex: 1) { _, rows in
                                           for i in 0..<d { rows[last * d + i] += push[i] }
                                       }])
        let moved = zip(capture.vector(prompt: 0, hook: .residual(1)), push).map { $0 + $1 }
        let resumed = try model.resume(cache, rows: [ResumeRow(prompt: 0, residual: moved)], fromResidual: 1, capture: [c.blockCount])
        let agreement = Agreement(resumed, reference: edited.values)
        #expect(agreement.relativeRMSError <= 1e-5, "\(family) edited resume: \(agreement)")
        #expect(Agreement(edited.values, reference: capture.vector(prompt: 0, hook: .residual(c.blockCount))).relativeRMSError > 1e-3)
        let gate = model.feedForwardGate(block: c.blockCount - 1, residualMid: Array(capture.vector(prompt: 0, hook: .residualMid(c.blockCount - 1))), rows: 1)
        #expect(gate.count == c.feedForwardWidth && gate.allSatisfy(\.isFinite))
    }

    @Test("the fixtures exercise their features: without soft-capping, the window or the learned positions the residuals go wrong")
    func featuresAreExercised() throws {
        func broken(_ family: String, _ edit: (inout ModelConfiguration, inout ModelWeights) -> Void) throws -> Double {
            let fixture = try Fixture(family)
            var configuration = fixture.model.configuration, weights = fixture.model.weights
            edit(&configuration, &weights)
            let model = LanguageModel(configuration: configuration, weights: weights, origin: "broken")
            return try fixture.worstPerLayer(model).max()!
        }
        #expect(try broken("gemma2") { c, _ in c.attentionSoftCap = nil } > 1e-2, "gemma2 attention scores reach the cap")
        #expect(try broken("gemma2") { c, _ in c.layouts = c.layouts.map { AttentionLayout(ropeBase: $0.ropeBase, window: nil) } } > 1e-2,
                "gemma2's window is shorter than the prompt")
        #expect(try broken("gemma3") { c, _ in c.layouts = c.layouts.map { AttentionLayout(ropeBase: $0.ropeBase, window: nil) } } > 1e-2)
        #expect(try broken("gpt2") { _, w in w.positionEmbedding = w.positionEmbedding.map { $0.map { _ in 0 } } } > 1e-2)
        #expect(try broken("stablelm") { c, _ in c.ropeDimensions = c.headWidth } > 1e-2, "stablelm rotates only part of each head")
        #expect(try broken("qwen3") { c, _ in c.family.queryKeyNorm = false } > 1e-2)
        // The final cap clips: transformers' logits stay inside ±30 though the uncapped ones go beyond.
        let gemma2 = try Fixture("gemma2")
        let capped = gemma2.logits.values.filter { !$0.isNaN }
        #expect(capped.allSatisfy { abs($0) < 30 } && capped.contains { abs($0) > 20 })
    }
}
