/// Every process exit code `rbench` uses, in one place (recording.md §7).
///
/// Findings are bits that OR together; tool errors replace the bitmask. All codes stay below
/// 128 and 125 is never used, so `git bisect run` keeps its meaning.
public enum ExitCodes {
    /// Everything passed (improvements and acknowledged changes allowed).
    public static let success: Int32 = 0
    /// Correctness: claim flip or changed verdict, a control that passed or stayed undecided,
    /// claim error, criterion flip, deterministic metric changed.
    public static let correctness: Int32 = 1
    /// A performance regression (confidence interval beyond the margin, significant after Holm).
    public static let performance: Int32 = 2
    /// A stale baseline (model, corpus or suite changed), or a missing one under `--strict`.
    public static let baseline: Int32 = 4
    /// Something that cannot decide: an inconclusive model verdict with no baseline to hold it to,
    /// or an inconclusive timing comparison; counted only under `--strict`.
    public static let inconclusive: Int32 = 8
    /// Bad command-line usage.
    public static let usage: Int32 = 64
    /// A malformed or missing input file (suite, baseline, run file, model, corpus).
    public static let badInput: Int32 = 65
    /// An internal error (database, git, I/O).
    public static let internalError: Int32 = 70

    /// The help text that documents the codes.
    public static let help = """
        Exit codes (findings OR together; tool errors replace them):
          0  everything passed
          1  correctness: claim flip or verdict change, control passed or undecided, claim error,
             criterion flip, deterministic metric changed
          2  performance regression
          4  baseline stale (inputs changed), or missing under --strict
          8  inconclusive claim verdict (no baseline) or timing, only under --strict
          64 usage error   65 malformed or missing input file   70 internal error
        """

    /// The finding bits of a set of verdicts.
    public static func findings(_ verdicts: [MetricVerdict], strict: Bool) -> Int32 {
        verdicts.reduce(success) { bits, verdict in bits | findingBit(verdict, strict: strict) }
    }

    static func findingBit(_ verdict: MetricVerdict, strict: Bool) -> Int32 {
        switch verdict.outcome {
        case .regress: verdict.regime == .stochastic ? performance : correctness
        case .changed: correctness
        case .stale: baseline
        case .missing: strict ? baseline : success
        case .inconclusive: strict ? inconclusive : success
        case .pass, .improve, .acknowledged, .skipped: success
        }
    }
}
