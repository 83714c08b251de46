/// A place in the forward pass whose activations can be captured or edited.
///
/// Residual indices follow the reference fixtures: `.residual(0)` is the (scaled) embedding
/// fed to block 0, `.residual(l)` the output of block `l` (1-based count of blocks applied),
/// `.residual(L)` the last block's output before the final norm.
public enum HookPoint: Hashable, Sendable, Codable {
    /// Residual stream after `index` blocks (0 = embedding).
    case residual(Int)
    /// Inside block `block` (0-based): after the attention update, before the feed-forward norm.
    case residualMid(Int)
    /// The final RMSNorm's output.
    case finalNorm

    /// The TransformerLens name of this point, for exported files and reports.
    public func name(blockCount: Int) -> String {
        switch self {
        case .residual(let l) where l < blockCount: "blocks.\(l).hook_resid_pre"
        case .residual(let l): "blocks.\(l - 1).hook_resid_post"
        case .residualMid(let b): "blocks.\(b).hook_resid_mid"
        case .finalNorm: "ln_final.hook_normalized"
        }
    }
}

/// Which positions of each prompt a capture keeps.
public enum PositionSelection: String, Sendable, Codable {
    case last
    case all
}

/// What a forward pass should keep: hook points × positions. Nothing else is held.
public struct CapturePlan: Sendable, Hashable {
    public var hooks: [HookPoint]
    public var positions: PositionSelection

    public init(hooks: [HookPoint], positions: PositionSelection = .last) {
        self.hooks = hooks
        self.positions = positions
    }

    /// Residual states at the given indices (all of `0...blockCount` when `nil`).
    public static func residuals(_ indices: [Int]? = nil, blockCount: Int,
                                 positions: PositionSelection = .last) -> CapturePlan {
        CapturePlan(hooks: (indices ?? Array(0...blockCount)).map(HookPoint.residual), positions: positions)
    }
}

/// Captured activations, laid out `[row][hook][width]` where rows are the kept positions
/// of each prompt in order (one row per prompt for `.last`).
public struct ActivationCapture: Sendable {
    public let hooks: [HookPoint]
    public let width: Int
    /// Prompt `i` owns rows `rowOffsets[i] ..< rowOffsets[i + 1]`.
    public let rowOffsets: [Int]
    public internal(set) var values: [Float]

    init(hooks: [HookPoint], width: Int, rowsPerPrompt: [Int]) {
        self.hooks = hooks
        self.width = width
        var offsets = [0]
        for n in rowsPerPrompt { offsets.append(offsets.last! + n) }
        rowOffsets = offsets
        values = [Float](repeating: 0, count: offsets.last! * hooks.count * width)
    }

    public var promptCount: Int { rowOffsets.count - 1 }
    public var rowCount: Int { rowOffsets.last! }

    /// The vector at `hook` for row `row` of prompt `prompt` (`row` 0 for `.last` captures).
    public func vector(prompt: Int, row: Int = 0, hook: HookPoint) -> ArraySlice<Float> {
        guard let h = hooks.firstIndex(of: hook) else { return [] }
        let start = ((rowOffsets[prompt] + row) * hooks.count + h) * width
        return values[start ..< start + width]
    }

    /// Index of `hook` in ``hooks``.
    public func index(of hook: HookPoint) -> Int? { hooks.firstIndex(of: hook) }
}

/// An edit of the residual stream during a full forward pass.
public struct Intervention: Sendable {
    /// Residual index the edit applies to (before block `index` runs).
    public var residualIndex: Int
    /// Called once per prompt with the prompt index and its rows `[positions][width]`.
    public var edit: @Sendable (_ prompt: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void

    public init(residualIndex: Int, edit: @escaping @Sendable (Int, UnsafeMutableBufferPointer<Float>) -> Void) {
        self.residualIndex = residualIndex
        self.edit = edit
    }
}
