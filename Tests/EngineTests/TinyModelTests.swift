import Foundation
import GGUF
import Testing
import TestSupport
@testable import Engine

/// The engine on tiny random GGUF models written in code: loading, errors, and the
/// invariants of the forward pass. Needs no model file.
@Suite("Engine on tiny generated models")
struct TinyModelTests {
    static let llama = TinyModelSpec()
    static let gemma = TinyModelSpec(architecture: "gemma3", blocks: 3, slidingWindow: 4, seed: 7)
    static let qwen = TinyModelSpec(architecture: "qwen2", blocks: 2, seed: 5)

    func load(_ spec: TinyModelSpec, tensors: [TinyTensor]? = nil, named name: String = "tiny.gguf",
              maxBatchTokens: Int = 2048, residency: ResidencyPolicy = .standard) throws -> LanguageModel {
        try LanguageModel(contentsOf: TinyModelFixture.write(spec, tensors: tensors, named: name),
                          maxBatchTokens: maxBatchTokens, residency: residency)
    }

    /// Token ids in the vocabulary, varied by `seed`.
    func prompt(_ length: Int, seed: Int) -> [Int] {
        (0..<length).map { (seed * 31 + $0 * 17 + 3) % 50 }
    }

    // MARK: Loading and errors

    @Test("a llama file's configuration is read from its metadata")
    func llamaConfiguration() throws {
        let c = try load(Self.llama).configuration
        #expect(c.architecture == .llama)
        #expect(c.blockCount == 2 && c.modelWidth == 32 && c.feedForwardWidth == 64)
        #expect(c.headCount == 4 && c.keyValueHeadCount == 2 && c.headWidth == 8 && c.ropeDimensions == 8)
        #expect(c.vocabularySize == 50 && c.contextLength == 256)
        #expect(c.normEpsilon == 1e-5 && c.attentionScale == 1 / Float(8).squareRoot())
        #expect(c.traits.ropePairing == .adjacent && c.traits.activation == .silu && c.traits.embeddingScale == 1)
        #expect(!c.traits.normalizesQueriesAndKeys && !c.traits.normalizesSublayerOutputs)
        #expect(c.layouts == Array(repeating: AttentionLayout(ropeBase: 10_000, window: nil), count: 2))
    }

    @Test("a gemma3 file's configuration: NEOX RoPE, GELU, √d scale, sliding window except every sixth block")
    func gemmaConfiguration() throws {
        let spec = TinyModelSpec(architecture: "gemma3", blocks: 6, slidingWindow: 5, ropeBase: 1_000_000)
        let c = try load(spec).configuration
        #expect(c.architecture == .gemma3 && c.blockCount == 6 && c.headWidth == 8)
        #expect(c.traits.ropePairing == .halves && c.traits.activation == .geluTanh)
        #expect(c.traits.embeddingScale == Float(32.0.squareRoot()))
        #expect(c.traits.normalizesQueriesAndKeys && c.traits.normalizesSublayerOutputs)
        #expect(c.layouts.map(\.window) == [5, 5, 5, 5, 5, nil])
        #expect(c.layouts.map(\.ropeBase) == [10_000, 10_000, 10_000, 10_000, 10_000, 1_000_000])
    }

    @Test("a qwen2 file: NEOX RoPE, SiLU, Q/K/V biases, untied output, full causal attention")
    func qwenConfiguration() throws {
        let model = try load(Self.qwen)
        let c = model.configuration
        #expect(c.architecture == .qwen2 && c.blockCount == 2 && c.headWidth == 8 && c.ropeDimensions == 8)
        #expect(c.traits.ropePairing == .halves && c.traits.activation == .silu && c.traits.biasesQueryKeyValue)
        #expect(!c.traits.normalizesQueriesAndKeys && !c.traits.normalizesSublayerOutputs && c.traits.embeddingScale == 1)
        #expect(c.layouts.allSatisfy { $0.window == nil })
        #expect(model.weights.output != nil && model.weights.blocks[1].qkvBias.count == c.fusedQKVWidth)
    }

    @Test("a qwen2 file without its Q/K/V biases is refused, naming the tensor")
    func qwenMissingBias() throws {
        let tensors = TinyModelFixture.tensors(for: Self.qwen).filter { $0.name != "blk.1.attn_k.bias" }
        let error = #expect(throws: (any Error).self) { try load(Self.qwen, tensors: tensors, named: "no-bias.gguf") }
        #expect("\(error!)".contains("blk.1.attn_k.bias"))
    }

    @Test("qwen2 logits come from output.weight, not the token embedding")
    func qwenUntiedOutput() throws {
        let model = try load(Self.qwen)
        let tensors = Dictionary(uniqueKeysWithValues: TinyModelFixture.tensors(for: Self.qwen).map { ($0.name, $0.values) })
        let capture = try model.capture([prompt(5, seed: 2)], plan: CapturePlan(hooks: [.finalNorm]))
        let normed = Array(capture.values)
        let logits = model.logits(fromNormalized: normed, rows: 1)
        let output = tensors["output.weight"]!
        for token in [0, 17, 49] {
            let expected = (0..<32).reduce(0.0) { $0 + Double(output[token * 32 + $1]) * Double(normed[$1]) }
            #expect(abs(Double(logits[token]) - expected) < 1e-4, "token \(token): \(logits[token]) vs \(expected)")
        }
    }

    @Test("quantized and dense residencies give the same bits: capture, resume, gate readout", arguments: [
        TinyModelSpec(quantized: true), TinyModelSpec(architecture: "gemma3", blocks: 3, slidingWindow: 4, seed: 7, quantized: true),
        TinyModelSpec(architecture: "qwen2", blocks: 2, seed: 5, quantized: true), TinyModelSpec(architecture: "qwen2", seed: 9),
    ])
    func residenciesAgree(spec: TinyModelSpec) throws {
        let dense = try load(spec, residency: .fixed(.dense)), quantized = try load(spec, residency: .fixed(.quantized))
        #expect(dense.residency == .dense && quantized.residency == .quantized)
        #expect(quantized.blockMatrixBytes < dense.blockMatrixBytes || !spec.quantized)
        let prompts = [prompt(9, seed: 1), prompt(3, seed: 2), prompt(6, seed: 3)]
        let plan = CapturePlan(hooks: (0...spec.blocks).map(HookPoint.residual) + [.residualMid(1), .finalNorm], positions: .all)
        let (a, cacheA) = try dense.prefill(prompts, plan: plan)
        let (b, cacheB) = try quantized.prefill(prompts, plan: plan)
        #expect(a.values == b.values)
        let rows = prompts.indices.map { ResumeRow(prompt: $0, residual: Array(a.vector(prompt: $0, row: 0, hook: .residual(1)))) }
        var midA: [Float] = [], midB: [Float] = []
        let resumedA = try dense.resume(cacheA, rows: rows, fromResidual: 1, capture: [spec.blocks],
                                        afterAttention: { block, states in if block == spec.blocks - 1 { midA = Array(states) } })
        let resumedB = try quantized.resume(cacheB, rows: rows, fromResidual: 1, capture: [spec.blocks],
                                            afterAttention: { block, states in if block == spec.blocks - 1 { midB = Array(states) } })
        #expect(resumedA == resumedB && midA == midB)
        #expect(dense.feedForwardGate(block: spec.blocks - 1, residualMid: midA, rows: rows.count)
                == quantized.feedForwardGate(block: spec.blocks - 1, residualMid: midB, rows: rows.count))
    }

    @Test("the standard residency policy keeps small models dense and large ones quantized")
    func residencyPolicy() throws {
        let c = try load(Self.llama).configuration
        #expect(LanguageModel.residency(for: c, policy: .standard) == .dense)
        #expect(LanguageModel.residency(for: c, policy: .automatic(budgetBytes: 0)) == .quantized)
        #expect(LanguageModel.residency(for: c, policy: .fixed(.quantized)) == .quantized)
        #expect(ResidencyPolicy(name: "auto") == .standard && ResidencyPolicy(name: "Quantized") == .fixed(.quantized))
        #expect(ResidencyPolicy(name: "dense") == .fixed(.dense) && ResidencyPolicy(name: "mmap") == nil)
        #expect(try load(Self.llama, residency: .automatic(budgetBytes: 0)).residency == .quantized)
        // A random-init twin is always dense.
        #expect(try LanguageModel.randomlyInitialized(like: c, origin: "ri", fill: { _ in }).residency == .dense)
    }

    @Test("F16 matrices load and run", arguments: ["llama", "gemma3"])
    func halfPrecision(architecture: String) throws {
        let spec = TinyModelSpec(architecture: architecture, slidingWindow: 3, halfPrecision: true)
        let model = try load(spec)
        let capture = try model.capture([prompt(6, seed: 1)], plan: .residuals(blockCount: 2))
        #expect(capture.values.allSatisfy { $0.isFinite })
        // The embedding is read exactly (F16 values are exact in Float32).
        let embedding = TinyModelFixture.tensors(for: spec)[0].values
        let token = prompt(6, seed: 1).last!
        let scale = model.configuration.traits.embeddingScale
        #expect(Array(capture.vector(prompt: 0, hook: .residual(0))) == embedding[token * 32 ..< (token + 1) * 32].map { $0 * scale })
    }

    @Test("an unsupported architecture is refused, naming the file", arguments: ["mamba", "bert"])
    func unsupportedArchitecture(name: String) throws {
        let spec = TinyModelSpec(architecture: name)
        let error = #expect(throws: EngineError.self) { try load(spec, named: "tiny-\(name).gguf") }
        #expect(error == .unsupportedArchitecture(file: "tiny-\(name).gguf", name: name))
        #expect(error?.description.contains("tiny-\(name).gguf") == true)
    }

    @Test("per-dimension RoPE factors are refused, not run as plain RoPE")
    func ropeFactorsRefused() throws {
        var tensors = TinyModelFixture.tensors(for: Self.llama)
        tensors.append(TinyTensor(name: "rope_freqs.weight", dimensions: [4], values: [1, 1, 2, 4]))
        let error = #expect(throws: EngineError.self) { try load(Self.llama, tensors: tensors, named: "rope-freqs.gguf") }
        #expect(error == .unsupportedFeature(file: "rope-freqs.gguf", feature: "per-dimension RoPE frequency factors (tensor rope_freqs.weight)"))
    }

    @Test("a tensor of the wrong shape is refused, naming file and tensor")
    func wrongShape() throws {
        var tensors = TinyModelFixture.tensors(for: Self.llama)
        let index = try #require(tensors.firstIndex { $0.name == "blk.1.attn_k.weight" })
        tensors[index] = TinyTensor(name: "blk.1.attn_k.weight", dimensions: [32, 24],
                                    values: [Float](repeating: 0.1, count: 32 * 24))
        let error = #expect(throws: EngineError.self) { try load(Self.llama, tensors: tensors, named: "bad-shape.gguf") }
        #expect(error == .shapeMismatch(file: "bad-shape.gguf", tensor: "blk.1.attn_k.weight", expected: [32, 16], found: [32, 24]))
        #expect(error?.description.contains("bad-shape.gguf") == true)
        #expect(error?.description.contains("blk.1.attn_k.weight") == true)
    }

    @Test("a missing tensor is refused, naming file and tensor")
    func missingTensor() throws {
        let tensors = TinyModelFixture.tensors(for: Self.gemma).filter { $0.name != "blk.2.post_ffw_norm.weight" }
        let error = #expect(throws: GGUFError.self) { try load(Self.gemma, tensors: tensors, named: "no-norm.gguf") }
        #expect(error?.kind == .missingTensor("blk.2.post_ffw_norm.weight"))
        #expect(error?.description.contains("no-norm.gguf") == true)
    }

    @Test("a token id outside the vocabulary, an empty prompt and a bad hook are invalid input")
    func invalidInput() throws {
        let model = try load(Self.llama)
        for tokens in [[1, 50, 2], [-1], []] {
            #expect {
                _ = try model.capture([[3, 4], tokens], plan: .residuals(blockCount: 2))
            } throws: { error in
                guard case EngineError.invalidInput(let reason)? = error as? EngineError else { return false }
                return reason.contains("prompt 1")
            }
        }
        #expect(throws: EngineError.self) { _ = try model.capture([[1]], plan: .residuals([3], blockCount: 2)) }
    }

    // MARK: Invariants of the forward pass

    @Test("appending tokens leaves earlier positions' states unchanged", arguments: [llama, gemma])
    func causality(spec: TinyModelSpec) throws {
        let model = try load(spec)
        let short = prompt(7, seed: 2), long = short + prompt(5, seed: 9)
        let plan = CapturePlan.residuals(blockCount: spec.blocks, positions: .all)
        let a = try model.capture([short], plan: plan), b = try model.capture([long], plan: plan)
        for position in 0..<short.count {
            for l in 0...spec.blocks {
                let agreement = Agreement(b.vector(prompt: 0, row: position, hook: .residual(l)),
                                          reference: a.vector(prompt: 0, row: position, hook: .residual(l)))
                #expect(agreement.relativeRMSError < 1e-6, "position \(position) residual \(l): \(agreement)")
            }
        }
    }

    @Test("a prompt's states do not depend on the batch around it, nor on the batch size", arguments: [llama, gemma])
    func batchInvariance(spec: TinyModelSpec) throws {
        let prompts = [prompt(5, seed: 1), prompt(11, seed: 2), prompt(3, seed: 3), prompt(8, seed: 4)]
        let plan = CapturePlan.residuals(blockCount: spec.blocks, positions: .all)
        let batched = try load(spec).capture(prompts, plan: plan)
        let smallBatches = try load(spec, maxBatchTokens: 12).capture(prompts, plan: plan)
        for (p, tokens) in prompts.enumerated() {
            let alone = try load(spec).capture([tokens], plan: plan)
            for row in tokens.indices {
                for l in 0...spec.blocks {
                    let reference = alone.vector(prompt: 0, row: row, hook: .residual(l))
                    for other in [batched, smallBatches] {
                        let agreement = Agreement(other.vector(prompt: p, row: row, hook: .residual(l)), reference: reference)
                        #expect(agreement.relativeRMSError < 1e-6, "prompt \(p) row \(row) residual \(l): \(agreement)")
                    }
                }
            }
        }
    }

    @Test("with a sliding window w, token 0 does not reach positions ≥ w of a one-block model")
    func slidingWindow() throws {
        let w = 3
        let spec = TinyModelSpec(architecture: "gemma3", blocks: 1, slidingWindow: w, seed: 3)
        let model = try load(spec)
        var a = prompt(9, seed: 5), b = a
        a[0] = 1
        b[0] = 2
        let plan = CapturePlan.residuals([1], blockCount: 1, positions: .all)
        let ca = try model.capture([a], plan: plan), cb = try model.capture([b], plan: plan)
        for position in 0..<a.count {
            let agreement = Agreement(ca.vector(prompt: 0, row: position, hook: .residual(1)),
                                      reference: cb.vector(prompt: 0, row: position, hook: .residual(1)))
            if position >= w {
                #expect(agreement.relativeRMSError < 1e-6, "position \(position): \(agreement)")
            } else {
                #expect(agreement.relativeRMSError > 1e-3, "position \(position) should see token 0: \(agreement)")
            }
        }
    }

    @Test("resuming the last position from the prefix cache reproduces the full pass", arguments: [llama, gemma])
    func resumeMatchesFullPass(spec: TinyModelSpec) throws {
        let model = try load(spec)
        let prompts = [prompt(9, seed: 1), prompt(1, seed: 2), prompt(6, seed: 3)]
        let (capture, cache) = try model.prefill(prompts, plan: .residuals(blockCount: spec.blocks))
        for start in 0...spec.blocks {
            let rows = prompts.indices.map { ResumeRow(prompt: $0, residual: Array(capture.vector(prompt: $0, hook: .residual(start)))) }
            let wanted = Array(start...spec.blocks)
            let resumed = try model.resume(cache, rows: rows, fromResidual: start, capture: wanted)
            for p in prompts.indices {
                for (slot, l) in wanted.enumerated() {
                    let offset = (p * wanted.count + slot) * 32
                    let agreement = Agreement(resumed[offset ..< offset + 32], reference: capture.vector(prompt: p, hook: .residual(l)))
                    #expect(agreement.relativeRMSError < 1e-5, "start \(start) prompt \(p) residual \(l): \(agreement)")
                }
            }
        }
    }

    @Test("resume's afterAttention hook sees the mid-block state; feedForwardGate is norm then gate_proj", arguments: [llama, gemma])
    func resumeMidBlockGate(spec: TinyModelSpec) throws {
        let model = try load(spec)
        let prompts = [prompt(5, seed: 1), prompt(3, seed: 2)]
        let last = spec.blocks - 1
        let (capture, cache) = try model.prefill(prompts, plan: CapturePlan(hooks: [.residual(0), .residualMid(last)]))
        let rows = prompts.indices.map { ResumeRow(prompt: $0, residual: Array(capture.vector(prompt: $0, hook: .residual(0)))) }
        var mid: [Float] = []
        _ = try model.resume(cache, rows: rows, fromResidual: 0, capture: [], afterAttention: { block, states in
            if block == last { mid = Array(states) }
        })
        #expect(mid.count == prompts.count * 32)
        for p in prompts.indices {
            let agreement = Agreement(mid[p * 32 ..< (p + 1) * 32], reference: capture.vector(prompt: p, hook: .residualMid(last)))
            #expect(agreement.relativeRMSError < 1e-5, "prompt \(p): \(agreement)")
        }
        let gate = model.feedForwardGate(block: last, residualMid: mid, rows: prompts.count)
        let ff = model.configuration.feedForwardWidth
        let hand = HandLlama(spec: spec)
        for p in prompts.indices {
            let x = mid[p * 32 ..< (p + 1) * 32].map(Double.init)
            let normed = hand.rmsNorm(x, hand.weights["blk.\(last).ffn_norm.weight"]!)
            let expected = hand.apply("blk.\(last).ffn_gate.weight", normed)
            let computed = gate[p * ff ..< (p + 1) * ff].map(Double.init)
            let error = zip(computed, expected).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            #expect((error / expected.map { $0 * $0 }.reduce(0, +)).squareRoot() < 1e-5)
        }
    }

    @Test("an intervention at residual l edits exactly that state", arguments: [0, 1, 2])
    func interventionEditsOneState(index: Int) throws {
        let model = try load(Self.llama)
        let prompts = [prompt(4, seed: 1), prompt(6, seed: 2)]
        let plan = CapturePlan.residuals(blockCount: 2, positions: .all)
        let clean = try model.capture(prompts, plan: plan)
        let shift = (0..<32).map { Float(sin(Double($0) + 1)) }
        let edited = try model.capture(prompts, plan: plan, interventions: [Intervention(residualIndex: index) { prompt, rows in
            guard prompt == 1 else { return }
            let last = rows.count - 32
            for i in 0..<32 { rows[last + i] += shift[i] }
        }])
        for p in prompts.indices {
            for row in prompts[p].indices {
                for l in 0...2 {
                    let before = Array(clean.vector(prompt: p, row: row, hook: .residual(l)))
                    let after = Array(edited.vector(prompt: p, row: row, hook: .residual(l)))
                    let isEditedRow = p == 1 && row == prompts[p].count - 1
                    if !isEditedRow || l < index {
                        #expect(after == before, "prompt \(p) row \(row) residual \(l) should be untouched")
                    } else if l == index {
                        #expect(after == zip(before, shift).map { $0 + $1 }, "residual \(l) holds the edit")
                    } else {
                        #expect(Agreement(after, reference: before).relativeRMSError > 1e-3, "residual \(l) carries the edit on")
                    }
                }
            }
        }
    }

    @Test("capturing all positions and only the last agree on the last position", arguments: [llama, gemma])
    func allVersusLast(spec: TinyModelSpec) throws {
        let model = try load(spec)
        let prompts = [prompt(5, seed: 1), prompt(2, seed: 2), prompt(7, seed: 3)]
        var hooks = (0...spec.blocks).map(HookPoint.residual) + (0..<spec.blocks).map(HookPoint.residualMid)
        hooks.append(.finalNorm)
        let all = try model.capture(prompts, plan: CapturePlan(hooks: hooks, positions: .all))
        let last = try model.capture(prompts, plan: CapturePlan(hooks: hooks, positions: .last))
        #expect(all.rowCount == 14 && last.rowCount == 3)
        for (p, tokens) in prompts.enumerated() {
            for hook in hooks {
                #expect(all.vector(prompt: p, row: tokens.count - 1, hook: hook) == last.vector(prompt: p, hook: hook), "\(hook)")
            }
            // The final norm capture is the final norm of the last residual.
            let normalized = model.finalNorm(Array(last.vector(prompt: p, hook: .residual(spec.blocks))), rows: 1)
            #expect(Array(last.vector(prompt: p, hook: .finalNorm)) == normalized)
        }
    }

    @Test("same inputs give the same bits, run after run")
    func deterministic() throws {
        let model = try load(Self.gemma)
        let prompts = [prompt(9, seed: 1), prompt(12, seed: 2), prompt(3, seed: 3)]
        let plan = CapturePlan.residuals(blockCount: Self.gemma.blocks, positions: .all)
        let first = try model.capture(prompts, plan: plan).values
        for _ in 0..<3 { #expect(try model.capture(prompts, plan: plan).values == first) }
    }

    // MARK: An independent forward pass

    @Test("a qwen2 model matches a Float64 forward pass written out by hand (biases, NEOX RoPE)", arguments: [false, true])
    func qwenMatchesHandForwardPass(quantized: Bool) throws {
        let spec = TinyModelSpec(architecture: "qwen2", blocks: 2, seed: 13, quantized: quantized)
        let model = try load(spec)
        let tokens = prompt(7, seed: 4)
        let capture = try model.capture([tokens], plan: .residuals([spec.blocks], blockCount: spec.blocks, positions: .all))
        let expected = HandLlama(spec: spec).residuals(tokens)
        for position in tokens.indices {
            let computed = capture.vector(prompt: 0, row: position, hook: .residual(spec.blocks)).map(Double.init)
            let error = zip(computed, expected[position]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            let norm = expected[position].map { $0 * $0 }.reduce(0, +)
            #expect((error / norm).squareRoot() <= 1e-5, "position \(position): rel err \((error / norm).squareRoot())")
        }
    }

    @Test("a llama block matches a Float64 forward pass written out by hand", arguments: [1, 2])
    func llamaBlockByHand(blocks: Int) throws {
        let spec = TinyModelSpec(blocks: blocks, seed: 11)
        let model = try load(spec)
        let tokens = prompt(7, seed: 4)
        let capture = try model.capture([tokens], plan: .residuals([blocks], blockCount: blocks, positions: .all))
        let expected = HandLlama(spec: spec).residuals(tokens)
        for position in tokens.indices {
            let computed = capture.vector(prompt: 0, row: position, hook: .residual(blocks)).map(Double.init)
            let error = zip(computed, expected[position]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            let norm = expected[position].map { $0 * $0 }.reduce(0, +)
            #expect((error / norm).squareRoot() <= 1e-5, "position \(position): rel err \((error / norm).squareRoot())")
        }
    }
}

/// A plain Float64 llama forward pass over one prompt, written from the architecture's
/// definition (RMSNorm, adjacent-pair RoPE, causal softmax attention with grouped KV heads,
/// SwiGLU), independent of the engine's kernels. For `qwen2`: Q/K/V biases and half-split
/// (NEOX) RoPE pairs `(i, i + hd/2)`.
struct HandLlama {
    let spec: TinyModelSpec
    let weights: [String: [Double]]

    init(spec: TinyModelSpec) {
        self.spec = spec
        weights = Dictionary(uniqueKeysWithValues: TinyModelFixture.tensors(for: spec).map { ($0.name, $0.values.map(Double.init)) })
    }

    func rmsNorm(_ x: [Double], _ gain: [Double]) -> [Double] {
        let meanSquare = x.map { $0 * $0 }.reduce(0, +) / Double(x.count)
        let scale = 1 / (meanSquare + Double(spec.normEpsilon)).squareRoot()
        return zip(x, gain).map { $0 * scale * $1 }
    }

    /// `W x` for a weight stored row-major `[out][in]`.
    func apply(_ name: String, _ x: [Double]) -> [Double] {
        let w = weights[name]!
        let inputs = x.count
        return (0..<(w.count / inputs)).map { row in
            var sum = 0.0
            for i in 0..<inputs { sum += w[row * inputs + i] * x[i] }
            return sum
        }
    }

    func rope(_ v: [Double], position: Int) -> [Double] {
        let hd = spec.headWidth
        let halves = spec.architecture == "qwen2"
        var out = v
        for head in 0..<(v.count / hd) {
            for i in 0..<(hd / 2) {
                let angle = Double(position) * pow(spec.ropeBase, -2 * Double(i) / Double(hd))
                let first = head * hd + (halves ? i : 2 * i), second = halves ? first + hd / 2 : first + 1
                let a = v[first], b = v[second]
                out[first] = a * cos(angle) - b * sin(angle)
                out[second] = a * sin(angle) + b * cos(angle)
            }
        }
        return out
    }

    /// `W x + b`, with the bias only when the file has one.
    func project(_ name: String, _ x: [Double]) -> [Double] {
        let y = apply(name + ".weight", x)
        guard let bias = weights[name + ".bias"] else { return y }
        return zip(y, bias).map(+)
    }

    /// The residual stream after all blocks, per position.
    func residuals(_ tokens: [Int]) -> [[Double]] {
        let d = spec.width, hd = spec.headWidth, group = spec.heads / spec.keyValueHeads
        let embedding = weights["token_embd.weight"]!
        var x = tokens.map { Array(embedding[$0 * d ..< ($0 + 1) * d]) }
        for b in 0..<spec.blocks {
            let p = "blk.\(b)."
            let normed = x.map { rmsNorm($0, weights[p + "attn_norm.weight"]!) }
            let q = normed.indices.map { rope(project(p + "attn_q", normed[$0]), position: $0) }
            let k = normed.indices.map { rope(project(p + "attn_k", normed[$0]), position: $0) }
            let v = normed.map { project(p + "attn_v", $0) }
            for i in tokens.indices {
                var attended = [Double](repeating: 0, count: spec.heads * hd)
                for h in 0..<spec.heads {
                    let g = h / group
                    var scores: [Double] = []
                    for j in 0...i {
                        var dot = 0.0
                        for e in 0..<hd { dot += q[i][h * hd + e] * k[j][g * hd + e] }
                        scores.append(dot / Double(hd).squareRoot())
                    }
                    let top = scores.max()!
                    let exps = scores.map { exp($0 - top) }
                    let total = exps.reduce(0, +)
                    for j in 0...i {
                        for e in 0..<hd { attended[h * hd + e] += exps[j] / total * v[j][g * hd + e] }
                    }
                }
                x[i] = zip(x[i], apply(p + "attn_output.weight", attended)).map(+)
            }
            for i in tokens.indices {
                let n = rmsNorm(x[i], weights[p + "ffn_norm.weight"]!)
                let gate = apply(p + "ffn_gate.weight", n), up = apply(p + "ffn_up.weight", n)
                let hidden = zip(gate, up).map { $0 / (1 + exp(-$0)) * $1 }
                x[i] = zip(x[i], apply(p + "ffn_down.weight", hidden)).map(+)
            }
        }
        return x
    }
}
