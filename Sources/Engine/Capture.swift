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

    /// A capture made by another engine: `values` laid out `[row][hook][width]`, prompt `i` owning
    /// rows `rowOffsets[i] ..< rowOffsets[i + 1]`.
    public init(hooks: [HookPoint], width: Int, rowOffsets: [Int], values: [Float]) throws {
        guard let first = rowOffsets.first, first == 0, zip(rowOffsets, rowOffsets.dropFirst()).allSatisfy({ $0 <= $1 }),
              values.count == rowOffsets.last! * hooks.count * width else {
            throw EngineError.invalidInput("a capture of \(values.count) values does not fit \(hooks.count) hooks × width \(width) over row offsets ending at \(rowOffsets.last ?? -1)")
        }
        self.hooks = hooks
        self.width = width
        self.rowOffsets = rowOffsets
        self.values = values
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
    /// The edit as data, for the declarative interventions (nil for an arbitrary closure): what an
    /// engine in another process receives, since a closure cannot cross a pipe.
    public private(set) var declared: ResidualEdit?

    public init(residualIndex: Int, edit: @escaping @Sendable (Int, UnsafeMutableBufferPointer<Float>) -> Void) {
        self.residualIndex = residualIndex
        self.edit = edit
        declared = nil
    }

    /// Adds `vector` to the residual `residualIndex` of `prompt` at token `position`.
    public static func add(_ vector: [Float], prompt: Int, position: Int, residualIndex: Int) -> Intervention {
        declaring(ResidualEdit(mode: .add, prompt: prompt, position: position, residualIndex: residualIndex, vector: vector))
    }

    /// Replaces the residual `residualIndex` of `prompt` at token `position` with `vector`.
    public static func replace(with vector: [Float], prompt: Int, position: Int, residualIndex: Int) -> Intervention {
        declaring(ResidualEdit(mode: .replace, prompt: prompt, position: position, residualIndex: residualIndex, vector: vector))
    }

    static func declaring(_ edit: ResidualEdit) -> Intervention {
        var intervention = Intervention(residualIndex: edit.residualIndex) { prompt, rows in
            let width = edit.vector.count
            guard prompt == edit.prompt, (edit.position + 1) * width <= rows.count else { return }
            for i in 0..<width {
                let at = edit.position * width + i
                rows[at] = edit.mode == .add ? rows[at] + edit.vector[i] : edit.vector[i]
            }
        }
        intervention.declared = edit
        return intervention
    }
}

/// A residual edit as data: add to or replace the state at one position of one prompt.
public struct ResidualEdit: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Hashable, Codable { case add, replace }
    public var mode: Mode
    public var prompt: Int
    public var position: Int
    public var residualIndex: Int
    public var vector: [Float]
}
