import Engine
import Foundation
import GGUF
import Profiling
import Synchronization

/// A model held by an engine worker (HF transformers, or the NumPy test worker), behind the same
/// ``ResidualModel`` interface the claims use on the native engine.
///
/// Everything crosses the pipe as float32 arrays. A resume with an `afterBlock` edit (LoT-2 variant A)
/// is run one block per request, the edit applied here between blocks; an `afterAttention` hook may
/// only observe (the worker returns the mid-block states), since an edit inside a block would need
/// the engine to stop between its sublayers. Closure interventions of a prefill cannot be sent; the
/// declarative ones (``Intervention/add(_:prompt:position:residualIndex:)``, `replace`) can.
public final class RemoteModel: ResidualModel {
    public let configuration: ModelConfiguration
    public let origin: String
    public let worker: WorkerConnection
    /// The worker's id of this model.
    public let handle: Int
    /// Most prompt tokens sent in one capture request (progress is reported between requests).
    public let tokensPerRequest: Int

    init(configuration: ModelConfiguration, origin: String, worker: WorkerConnection, handle: Int, tokensPerRequest: Int = 4096) {
        self.configuration = configuration
        self.origin = origin
        self.worker = worker
        self.handle = handle
        self.tokensPerRequest = tokensPerRequest
    }

    /// Loads a GGUF file in the worker (transformers' `gguf_file`); the configuration is read here
    /// from the same file and checked against what the worker built.
    public static func load(gguf url: URL, on worker: WorkerConnection) throws -> RemoteModel {
        let configuration = try ModelConfiguration(gguf: GGUFFile(contentsOf: url))
        let response = try worker.request("load", ["source": "gguf", "path": .string(url.path),
                                                   "config": wireConfiguration(configuration)])
        return try RemoteModel(response: response, configuration: configuration, origin: url.lastPathComponent, worker: worker)
    }

    /// A model known to the worker by its configuration only: the shape and settings a random-init
    /// control is built on (``randomlyInitialized(like:origin:fill:)``) when no weights file is loaded.
    public static func declare(_ configuration: ModelConfiguration, origin: String, on worker: WorkerConnection) throws -> RemoteModel {
        let response = try worker.request("load", ["source": "config", "config": wireConfiguration(configuration), "origin": .string(origin)])
        return try RemoteModel(response: response, configuration: configuration, origin: origin, worker: worker)
    }

    /// The settings a worker needs to run blocks the way this build reads them from GGUF metadata.
    static func wireConfiguration(_ c: ModelConfiguration) -> JSONValue {
        [
            "architecture": .string(c.architecture.rawValue), "n_blocks": .number(Double(c.blockCount)),
            "d_model": .number(Double(c.modelWidth)), "d_ff": .number(Double(c.feedForwardWidth)),
            "n_heads": .number(Double(c.headCount)), "n_kv_heads": .number(Double(c.keyValueHeadCount)),
            "head_dim": .number(Double(c.headWidth)), "rope_dims": .number(Double(c.ropeDimensions)),
            "rope_pairing": .string(c.traits.ropePairing?.rawValue ?? "none"), "vocab": .number(Double(c.vocabularySize)),
            "eps": .number(Double(c.normEpsilon)), "attention_scale": .number(Double(c.attentionScale)),
            "embedding_scale": .number(Double(c.traits.embeddingScale)), "activation": .string(c.traits.activation.rawValue),
            "qk_norm": .bool(c.traits.normalizesQueriesAndKeys), "sublayer_norms": .bool(c.traits.normalizesSublayerOutputs),
            "rope_bases": .array(c.layouts.map { .number($0.ropeBase) }),
            "windows": .array(c.layouts.map { $0.window.map { .number(Double($0)) } ?? .null }),
        ]
    }

    /// The random-init control in the worker: `fill` draws every matrix in ``RandomFillMatrix/order(_:)``,
    /// the order the native engine draws them, and the weights travel as float32 — so both engines run
    /// the same control model. Norm gains are 1, biases 0, the unembedding tied.
    public static func randomlyInitialized(like model: RemoteModel, origin: String,
                                           fill: (inout [Float]) -> Void) throws -> RemoteModel {
        let c = model.configuration
        try c.validate(source: origin)
        var arrays: [WireArray] = []
        for (index, matrix) in RandomFillMatrix.order(c).enumerated() {
            var values = [Float](repeating: 0, count: matrix.rows * matrix.columns)
            fill(&values)
            arrays.append(WireArray(name: "\(index):\(matrix.name)\(matrix.block.map { ".\($0)" } ?? "")", floats: values,
                                    shape: [matrix.rows, matrix.columns]))
        }
        let response = try model.worker.request("load_random", ["like": .number(Double(model.handle)), "origin": .string(origin)],
                                                arrays: arrays)
        return try RemoteModel(response: response, configuration: c, origin: origin, worker: model.worker)
    }

    convenience init(response: WireMessage, configuration c: ModelConfiguration, origin: String, worker: WorkerConnection) throws {
        let result = response.header["result"]
        guard let handle = result?["model"]?.int else {
            throw WorkerError.protocolViolation("load returned no model id: \(response.header)")
        }
        let reported = (result?["n_blocks"]?.int, result?["d_model"]?.int, result?["vocab"]?.int)
        guard reported.0 == c.blockCount, reported.1 == c.modelWidth, reported.2 == c.vocabularySize else {
            throw EngineError.invalidInput("the worker built a model of \(reported.0 ?? -1) blocks, width \(reported.1 ?? -1), vocabulary \(reported.2 ?? -1); "
                + "the file says \(c.blockCount), \(c.modelWidth), \(c.vocabularySize)")
        }
        self.init(configuration: c, origin: origin, worker: worker, handle: handle)
    }

    static func hookName(_ hook: HookPoint) -> String {
        switch hook {
        case .residual(let l): "resid:\(l)"
        case .residualMid(let b): "mid:\(b)"
        case .finalNorm: "final_norm"
        }
    }

    private func edits(_ interventions: [Intervention], prompts: Range<Int>) throws -> (JSONValue, [WireArray]) {
        var descriptors: [JSONValue] = [], arrays: [WireArray] = []
        for (i, intervention) in interventions.enumerated() {
            guard let edit = intervention.declared else {
                throw EngineError.invalidInput("intervention \(i) is a closure; an engine in another process takes only declarative edits (Intervention.add / .replace)")
            }
            guard prompts.contains(edit.prompt) else { continue }
            guard edit.vector.count == configuration.modelWidth else {
                throw EngineError.invalidInput("intervention \(i) has \(edit.vector.count) values, the model's width is \(configuration.modelWidth)")
            }
            descriptors.append(["mode": .string(edit.mode.rawValue), "prompt": .number(Double(edit.prompt - prompts.lowerBound)),
                                "position": .number(Double(edit.position)), "residual": .number(Double(edit.residualIndex)),
                                "vector": .string("edit\(arrays.count)")])
            arrays.append(WireArray(name: "edit\(arrays.count)", floats: edit.vector, shape: [edit.vector.count]))
        }
        return (.array(descriptors), arrays)
    }

    private func prefillRequest(_ prompts: [[Int]], range: Range<Int>, plan: CapturePlan, interventions: [Intervention],
                                keepCache: Bool) throws -> (values: [Float], rows: [Int], cache: Int?) {
        let chunk = Array(prompts[range])
        let (edits, editArrays) = try edits(interventions, prompts: range)
        let tokens = WireArray(name: "tokens", ints: chunk.flatMap { $0 }, shape: [chunk.reduce(0) { $0 + $1.count }])
        let lengths = WireArray(name: "lengths", ints: chunk.map(\.count), shape: [chunk.count])
        let response = try worker.request("prefill", [
            "model": .number(Double(handle)), "hooks": .array(plan.hooks.map { .string(Self.hookName($0)) }),
            "positions": .string(plan.positions.rawValue), "keep_cache": .bool(keepCache), "edits": edits,
        ], arrays: [tokens, lengths] + editArrays)
        guard let capture = response.array("capture") else { throw WorkerError.protocolViolation("prefill returned no capture") }
        let rows = plan.positions == .last ? chunk.map { _ in 1 } : chunk.map(\.count)
        let expected = rows.reduce(0, +) * plan.hooks.count * configuration.modelWidth
        guard capture.dtype == .f32, capture.elementCount == expected else {
            throw WorkerError.protocolViolation("prefill returned \(capture.elementCount) values, expected \(expected)")
        }
        return (capture.floats, rows, response.header["result"]?["cache"]?.int)
    }

    public func capture(_ prompts: [[Int]], plan: CapturePlan, interventions: [Intervention],
                        progress: ((_ done: Int, _ total: Int) -> Void)?) throws -> ActivationCapture {
        try validate(prompts)
        var values: [Float] = [], rows: [Int] = []
        var start = 0
        progress?(0, prompts.count)
        while start < prompts.count {
            var end = start + 1, tokens = prompts[start].count
            while end < prompts.count, tokens + prompts[end].count <= tokensPerRequest {
                tokens += prompts[end].count
                end += 1
            }
            let part = try PhaseClock.time(.forward, work: tokens) {
                try prefillRequest(prompts, range: start..<end, plan: plan, interventions: interventions, keepCache: false)
            }
            values += part.values
            rows += part.rows
            start = end
            progress?(end, prompts.count)
        }
        return try ActivationCapture(hooks: plan.hooks, width: configuration.modelWidth,
                                     rowOffsets: rows.reduce(into: [0]) { $0.append($0.last! + $1) }, values: values)
    }

    public func prefill(_ prompts: [[Int]], plan: CapturePlan) throws -> (capture: ActivationCapture, cache: PrefixCache) {
        try validate(prompts)
        let part = try PhaseClock.time(.forward, work: prompts.reduce(0) { $0 + $1.count }) {
            try prefillRequest(prompts, range: 0..<prompts.count, plan: plan, interventions: [], keepCache: true)
        }
        guard let id = part.cache else { throw WorkerError.protocolViolation("prefill with keep_cache returned no cache id") }
        let capture = try ActivationCapture(hooks: plan.hooks, width: configuration.modelWidth,
                                            rowOffsets: part.rows.reduce(into: [0]) { $0.append($0.last! + $1) }, values: part.values)
        let offsets = prompts.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        return (capture, PrefixCache(tokenOffsets: offsets, externalHandle: RemoteCacheHandle(id: id, model: handle, worker: worker)))
    }

    /// One resume request over blocks `start..<stop`: the states after each block in `capture`
    /// (indices in `start...stop`) and, when asked, the mid-block states of every block run.
    /// The caller times it and counts its rows, once per resumed row as the native engine does.
    private func resumeRequest(_ cache: RemoteCacheHandle, prompts: [Int], states: [Float], start: Int, stop: Int,
                               capture: [Int], mid: Bool) throws -> (captured: [Float], mid: [Float]) {
        let d = configuration.modelWidth
        let response = try worker.request("resume", [
            "model": .number(Double(handle)), "cache": .number(Double(cache.id)), "start": .number(Double(start)),
            "stop": .number(Double(stop)), "capture": .ints(capture), "capture_mid": .bool(mid),
        ], arrays: [WireArray(name: "prompts", ints: prompts, shape: [prompts.count]),
                    WireArray(name: "states", floats: states, shape: [prompts.count, d])])
        guard let captured = response.array("captured"), captured.elementCount == prompts.count * capture.count * d else {
            throw WorkerError.protocolViolation("resume returned no or a wrongly sized `captured` array")
        }
        var midValues: [Float] = []
        if mid {
            guard let array = response.array("mid"), array.elementCount == prompts.count * (stop - start) * d else {
                throw WorkerError.protocolViolation("resume with capture_mid returned no or a wrongly sized `mid` array")
            }
            midValues = array.floats
        }
        return (captured.floats, midValues)
    }

    public func resume(_ cache: PrefixCache, rows: [ResumeRow], fromResidual start: Int, capture: [Int],
                       afterBlock: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)?,
                       afterAttention: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)?) throws -> [Float] {
        let c = configuration, d = c.modelWidth, n = rows.count
        guard let remote = cache.externalHandle as? RemoteCacheHandle, remote.worker === worker, remote.model == handle else {
            throw EngineError.invalidInput("this prefix cache was not made by this worker's prefill")
        }
        guard (0...c.blockCount).contains(start) else {
            throw EngineError.invalidInput("resume residual \(start) outside 0...\(c.blockCount)")
        }
        if let bad = capture.first(where: { !(start...c.blockCount).contains($0) }) {
            throw EngineError.invalidInput("capture index \(bad) outside \(start)...\(c.blockCount)")
        }
        for (i, row) in rows.enumerated() {
            guard (0..<cache.promptCount).contains(row.prompt), row.residual.count == d else {
                throw EngineError.invalidInput("resume row \(i): prompt \(row.prompt) of \(cache.promptCount), width \(row.residual.count) (expected \(d))")
            }
        }
        return try PhaseClock.time(.resume, work: n) {
            try resumeBlocks(remote, rows: rows, start: start, capture: capture, afterBlock: afterBlock, afterAttention: afterAttention)
        }
    }

    private func resumeBlocks(_ remote: RemoteCacheHandle, rows: [ResumeRow], start: Int, capture: [Int],
                              afterBlock: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)?,
                              afterAttention: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)?) throws -> [Float] {
        let c = configuration, d = c.modelWidth, n = rows.count
        let prompts = rows.map(\.prompt)
        var states = rows.flatMap(\.residual)
        guard afterBlock != nil || afterAttention != nil else {
            if start == c.blockCount {
                return Self.gather(capture, rows: n, width: d) { _ in states }
            }
            let result = try resumeRequest(remote, prompts: prompts, states: states, start: start, stop: c.blockCount,
                                           capture: capture, mid: false)
            return result.captured
        }
        // Hooks between blocks: one request per block, the edit made here in between.
        var byIndex: [Int: [Float]] = [start: states]
        for b in start..<c.blockCount {
            let step = try resumeRequest(remote, prompts: prompts, states: states, start: b, stop: b + 1, capture: [b + 1],
                                         mid: afterAttention != nil)
            if let afterAttention {
                var mid = step.mid
                let seen = mid
                mid.withUnsafeMutableBufferPointer { afterAttention(b, $0) }
                guard mid == seen else {
                    throw EngineError.invalidInput("an afterAttention hook edited the states; an engine in another process can only report them (edits go in afterBlock)")
                }
            }
            states = step.captured
            if let afterBlock { states.withUnsafeMutableBufferPointer { afterBlock(b, $0) } }
            if capture.contains(b + 1) { byIndex[b + 1] = states }
        }
        return Self.gather(capture, rows: n, width: d) { byIndex[$0]! }
    }

    /// `[row][capture slot][width]` from per-index `[row][width]` states.
    private static func gather(_ capture: [Int], rows: Int, width d: Int, _ states: (Int) -> [Float]) -> [Float] {
        var output = [Float](repeating: 0, count: rows * capture.count * d)
        for (slot, index) in capture.enumerated() {
            let values = states(index)
            for r in 0..<rows {
                output.replaceSubrange(((r * capture.count + slot) * d) ..< ((r * capture.count + slot + 1) * d),
                                       with: values[(r * d) ..< ((r + 1) * d)])
            }
        }
        return output
    }

    private func readout(_ op: String, _ values: [Float], rows: Int, columns: Int, extra: [String: JSONValue] = [:]) throws -> [Float] {
        let d = configuration.modelWidth
        guard values.count == rows * d else {
            throw EngineError.invalidInput("\(op): expected \(rows)×\(d) values, got \(values.count)")
        }
        var args = extra
        args["model"] = .number(Double(handle))
        let response = try PhaseClock.time(.readout, work: rows) {
            try worker.request(op, args, arrays: [WireArray(name: "states", floats: values, shape: [rows, d])])
        }
        guard let out = response.array("out"), out.elementCount == rows * columns else {
            throw WorkerError.protocolViolation("\(op) returned no or a wrongly sized `out` array")
        }
        return out.floats
    }

    public func finalNorm(_ residuals: [Float], rows: Int) throws -> [Float] {
        try readout("final_norm", residuals, rows: rows, columns: configuration.modelWidth)
    }

    public func logits(fromResiduals residuals: [Float], rows: Int) throws -> [Float] {
        try readout("logits", residuals, rows: rows, columns: configuration.vocabularySize, extra: ["normalized": false])
    }

    public func logits(fromNormalized normalized: [Float], rows: Int) throws -> [Float] {
        try readout("logits", normalized, rows: rows, columns: configuration.vocabularySize, extra: ["normalized": true])
    }

    public func feedForwardGate(block: Int, residualMid residuals: [Float], rows: Int) throws -> [Float] {
        guard (0..<configuration.blockCount).contains(block) else {
            throw EngineError.invalidInput("feedForwardGate: block \(block) outside 0..<\(configuration.blockCount)")
        }
        return try readout("gate", residuals, rows: rows, columns: configuration.feedForwardWidth, extra: ["block": .number(Double(block))])
    }

    /// The worker's own top-k (ids and logits, best first) for pre-final-norm states.
    public func workerTopK(_ k: Int, fromResiduals residuals: [Float], rows: Int) throws -> (ids: [Int], logits: [Float]) {
        let d = configuration.modelWidth
        guard residuals.count == rows * d, k >= 1 else { throw EngineError.invalidInput("top_k: \(rows)×\(d) values and k ≥ 1 needed") }
        let response = try worker.request("top_k", ["model": .number(Double(handle)), "k": .number(Double(k))],
                                          arrays: [WireArray(name: "states", floats: residuals, shape: [rows, d])])
        guard let ids = response.array("ids"), let logits = response.array("logits"), ids.elementCount == rows * k,
              logits.elementCount == rows * k else {
            throw WorkerError.protocolViolation("top_k returned no or wrongly sized arrays")
        }
        return (ids.ints, logits.floats)
    }

    public func replacingBlocks(_ replaced: Range<Int>, from donor: any ResidualModel, origin: String) throws -> any ResidualModel {
        guard let remote = donor as? RemoteModel, remote.worker === worker else {
            throw EngineError.invalidInput("the donor model is not held by the same worker; blocks can only be swapped within one engine")
        }
        guard donor.configuration == configuration, replaced.lowerBound >= 0, replaced.upperBound <= configuration.blockCount else {
            throw EngineError.invalidInput("donor model has another configuration, or blocks \(replaced) are outside the model")
        }
        let response = try worker.request("replace_blocks", ["model": .number(Double(handle)), "donor": .number(Double(remote.handle)),
                                                             "start": .number(Double(replaced.lowerBound)),
                                                             "end": .number(Double(replaced.upperBound)), "origin": .string(origin)])
        return try RemoteModel(response: response, configuration: configuration, origin: origin, worker: worker)
    }

    private func validate(_ prompts: [[Int]]) throws {
        for (i, prompt) in prompts.enumerated() {
            guard !prompt.isEmpty else { throw EngineError.invalidInput("prompt \(i) has no tokens") }
            if let bad = prompt.first(where: { $0 < 0 || $0 >= configuration.vocabularySize }) {
                throw EngineError.invalidInput("prompt \(i) has token id \(bad), outside the vocabulary 0..<\(configuration.vocabularySize)")
            }
        }
    }
}

/// A prefix cache the worker holds; released (with the next request) when the last copy goes away.
final class RemoteCacheHandle: Sendable {
    let id: Int
    let model: Int
    let worker: WorkerConnection

    init(id: Int, model: Int, worker: WorkerConnection) {
        self.id = id
        self.model = model
        self.worker = worker
    }

    deinit { worker.pendingReleases.withLock { $0.append(id) } }
}
