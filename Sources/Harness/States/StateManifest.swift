import Claims
import Engine
import Foundation

/// The `manifest.json` of a states directory (`rbench run --save-states DIR`, read by `--states DIR`).
///
/// Every array is a `.npy` file (optionally also one `.safetensors` per state set with the same names)
/// named by its TransformerLens hook; the manifest says, for every check × subject, which state sets,
/// sequences and random draws it used, and the metrics it recorded from them. Another tool (HF
/// transformers, nnsight, TransformerLens) can write the same format for a model rbench cannot run:
/// see `docs/states.md`.
public struct StateManifest: Codable, Sendable, Equatable {
    public static let formatName = "rbench-states"
    public static let currentVersion = 1
    public static let fileName = "manifest.json"

    public var format: String
    public var version: Int
    public var createdBy: String
    public var runID: String?
    public var suite: String
    public var suiteSHA256: String
    /// The engine that made the states (nil: rbench's own CPU engine).
    public var engine: EngineDescription?
    /// `trained` and, when saved, `random-init`.
    public var models: [String: ModelEntry]
    public var hookConvention: String
    public var stateSets: [StateSetEntry]
    public var checks: [CheckEntry]

    enum CodingKeys: String, CodingKey {
        case format, version, createdBy = "created_by", runID = "run_id", suite, suiteSHA256 = "suite_sha256", engine, models
        case hookConvention = "hook_convention", stateSets = "state_sets", checks
    }

    public struct EngineDescription: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public var device: String
        public var dtype: String
        public var protocolVersion: Int?

        enum CodingKeys: String, CodingKey { case name, version, device, dtype, protocolVersion = "protocol_version" }
    }

    public struct ModelEntry: Codable, Sendable, Equatable {
        /// The model file's SHA-256 (for `random-init`: that of the model it is built like).
        public var sha256: String
        public var file: String?
        public var architecture: String?
        public var nBlocks: Int
        public var dModel: Int
        public var vocab: Int
        /// How a control model was made, e.g. `random-init(pcg64-xslrr-polar-boxmuller, seed 1, std 0.02)`.
        public var origin: String?

        enum CodingKeys: String, CodingKey {
            case sha256, file, architecture, nBlocks = "n_blocks", dModel = "d_model", vocab, origin
        }
    }

    /// One array file.
    public struct ArrayEntry: Codable, Sendable, Equatable {
        /// Relative to the states directory.
        public var file: String
        public var shape: [Int]
        /// NumPy's name: `float32`, `float64`, `int32`, `int64`.
        public var dtype: String
    }

    public struct StateSetEntry: Codable, Sendable, Equatable {
        public var name: String
        /// `trained` or `random-init`.
        public var model: String
        public var rule: String
        public var corpus: String
        public var corpusSHA256: String?
        public var count: Int
        public var tokens: Int
        public var seed: UInt64?
        /// Always `last`: the state at the last token of each sequence.
        public var positions: String
        /// The token ids, `[count, sequence length]`.
        public var sequences: ArrayEntry
        /// Hook name → `[count, d_model]`.
        public var hooks: [String: ArrayEntry]
        /// The same arrays in one file (keys: the hook names and `tokens`), when written.
        public var safetensors: String?

        enum CodingKeys: String, CodingKey {
            case name, model, rule, corpus, corpusSHA256 = "corpus_sha256", count, tokens, seed, positions, sequences, hooks, safetensors
        }
    }

    public struct DrawEntry: Codable, Sendable, Equatable {
        public var name: String
        public var summary: String
        public var generator: String
        public var seed: UInt64
        public var stream: UInt64?
        public var array: ArrayEntry
    }

    public struct MetricEntry: Codable, Sendable, Equatable {
        public var key: String
        public var value: Double
        public var low: Double?
        public var high: Double?
    }

    public struct CheckEntry: Codable, Sendable, Equatable {
        public var check: String
        public var subject: String
        public var seed: UInt64
        public var stateSets: [String]
        public var draws: [DrawEntry]
        /// The verdict and metrics the run recorded (absent in a manifest written by another tool).
        public var verdict: String?
        public var metrics: [MetricEntry]?

        enum CodingKeys: String, CodingKey { case check, subject, seed, stateSets = "state_sets", draws, verdict, metrics }
    }

    /// The hooks every state set holds for an `n`-block model: TransformerLens names of the
    /// residual stream at the last position.
    public static func requiredHooks(blockCount n: Int) -> [String] {
        var hooks = (0...n).map { HookPoint.residual($0).name(blockCount: n) }
        hooks += (0..<n).map { HookPoint.residualMid($0).name(blockCount: n) }
        hooks.append(HookPoint.finalNorm.name(blockCount: n))
        return hooks
    }

    public static let hookConventionText = """
        TransformerLens names, last token of each sequence: blocks.{l}.hook_resid_pre is the input of block l \
        (l = 0: the embedding as block 0 receives it, scaled where the architecture scales it); \
        blocks.{l}.hook_resid_mid the state after block l's attention update, before its MLP (for post-normed \
        blocks such as Gemma 3: after the post-attention norm's output is added); blocks.{L-1}.hook_resid_post \
        the last block's output before the final norm; ln_final.hook_normalized the final norm's output.
        """
}
