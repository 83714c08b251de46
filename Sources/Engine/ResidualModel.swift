/// What the claims need of an inference engine: the residual stream captured, edited and read out.
///
/// ``LanguageModel`` (this module's CPU engine) conforms directly; another engine (a worker process
/// running HF transformers, see the `RemoteEngine` module) conforms from outside. The interface sits at
/// the level the claims call — whole prompts with a capture plan, last-position resumes from a prefix
/// cache, readouts — never inside the forward pass, so engines may compute it however they like.
///
/// Residual indices, hook points and layouts are those of ``HookPoint`` and ``ActivationCapture``.
public protocol ResidualModel: AnyObject, Sendable {
    var configuration: ModelConfiguration { get }
    /// Where the weights came from (file name, or a description of a random initialisation).
    var origin: String { get }

    /// Runs `prompts` (each one causal sequence) and keeps what `plan` asks for; `interventions`
    /// edit the residual stream on the way (see ``Intervention``: engines in another process accept
    /// only the declarative ones, ``Intervention/add(_:prompt:position:residualIndex:)`` and `replace`).
    func capture(_ prompts: [[Int]], plan: CapturePlan, interventions: [Intervention],
                 progress: ((_ done: Int, _ total: Int) -> Void)?) throws -> ActivationCapture

    /// Like ``capture(_:plan:interventions:progress:)``, keeping a prefix cache for ``resume``.
    func prefill(_ prompts: [[Int]], plan: CapturePlan) throws -> (capture: ActivationCapture, cache: PrefixCache)

    /// Re-runs the last position of cached prompts from residual index `start` with new states
    /// (see ``LanguageModel/resume(_:rows:fromResidual:capture:afterBlock:afterAttention:)``).
    func resume(_ cache: PrefixCache, rows: [ResumeRow], fromResidual start: Int, capture: [Int],
                afterBlock: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)?,
                afterAttention: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)?) throws -> [Float]

    /// The final norm of `rows` residual vectors `[rows][width]`.
    func finalNorm(_ residuals: [Float], rows: Int) throws -> [Float]
    /// Logits `[rows][vocabulary]` of pre-final-norm residual vectors.
    func logits(fromResiduals residuals: [Float], rows: Int) throws -> [Float]
    /// Logits of vectors that already went through the final norm.
    func logits(fromNormalized normalized: [Float], rows: Int) throws -> [Float]
    /// Block `block`'s gate pre-activations `[rows][feedForwardWidth]` for mid-block states.
    func feedForwardGate(block: Int, residualMid residuals: [Float], rows: Int) throws -> [Float]

    /// This model with blocks `replaced` taken from `donor` (same configuration, same engine).
    func replacingBlocks(_ replaced: Range<Int>, from donor: any ResidualModel, origin: String) throws -> any ResidualModel
}

extension ResidualModel {
    /// ``capture(_:plan:interventions:progress:)`` without edits.
    public func capture(_ prompts: [[Int]], plan: CapturePlan,
                        progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> ActivationCapture {
        try capture(prompts, plan: plan, interventions: [], progress: progress)
    }

    /// ``resume(_:rows:fromResidual:capture:afterBlock:afterAttention:)`` with optional hooks.
    public func resume(_ cache: PrefixCache, rows: [ResumeRow], fromResidual start: Int, capture: [Int],
                       afterBlock: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)? = nil,
                       afterAttention: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)? = nil) throws -> [Float] {
        try resume(cache, rows: rows, fromResidual: start, capture: capture, afterBlock: afterBlock, afterAttention: afterAttention)
    }

    /// Top-`k` token ids and their logits per row of pre-final-norm residual vectors, best first
    /// (ties broken by the lower id).
    public func topK(_ k: Int, fromResiduals residuals: [Float], rows: Int) throws -> [[(token: Int, logit: Float)]] {
        let v = configuration.vocabularySize
        let all = try logits(fromResiduals: residuals, rows: rows)
        return (0..<rows).map { r in
            let row = all[r * v ..< (r + 1) * v]
            return row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }.prefix(max(0, k))
                .map { (token: $0 - r * v, logit: row[$0]) }
        }
    }
}

/// One matrix the random-init control draws, in the order ``LanguageModel/randomlyInitialized(like:origin:fill:)``
/// calls `fill`: the token embedding, then per block Q, K, V, attention output, gate, up, down;
/// `[rows × columns]` row-major, rows the output units (the GGUF layout). Another engine that builds
/// the control from the same generator gets the same weights by drawing in this order.
public struct RandomFillMatrix: Sendable, Hashable {
    /// `token_embd`, `attn_q`, `attn_k`, `attn_v`, `attn_output`, `ffn_gate`, `ffn_up` or `ffn_down`.
    public var name: String
    /// nil for the token embedding.
    public var block: Int?
    public var rows: Int
    public var columns: Int

    /// Every matrix of a random-init model like `c`, in fill order.
    public static func order(_ c: ModelConfiguration) -> [RandomFillMatrix] {
        let d = c.modelWidth
        var order = [RandomFillMatrix(name: "token_embd", block: nil, rows: c.vocabularySize, columns: d)]
        for b in 0..<c.blockCount {
            order += [("attn_q", c.queryWidth, d), ("attn_k", c.keyValueWidth, d), ("attn_v", c.keyValueWidth, d),
                      ("attn_output", d, c.queryWidth), ("ffn_gate", c.feedForwardWidth, d), ("ffn_up", c.feedForwardWidth, d),
                      ("ffn_down", d, c.feedForwardWidth)].map { RandomFillMatrix(name: $0.0, block: b, rows: $0.1, columns: $0.2) }
        }
        return order
    }
}

extension LanguageModel: ResidualModel {
    public func replacingBlocks(_ replaced: Range<Int>, from donor: any ResidualModel, origin: String) throws -> any ResidualModel {
        guard let native = donor as? LanguageModel else {
            throw EngineError.invalidInput("the donor model runs on another engine (\(type(of: donor))); blocks can only be swapped within one engine")
        }
        return try replacingBlocks(replaced, from: native, origin: origin) as LanguageModel
    }
}
