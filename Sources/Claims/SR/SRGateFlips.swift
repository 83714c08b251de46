import Analysis
import Evidence
import Engine

/// SR-gates — hundreds to thousands of last-layer MLP gate units change sign across a single
/// interpolation, even inside one region (Janiak et al. 2024, Appendix F, code `scripts/mlp.py`;
/// claims spec §4 "Gate-sign flips").
///
/// Method: SR-1's consecutive window pairs (rule `.windows`) and interpolation X(α) written after
/// block 1 at the last position of prompt A (``StableRegionProbe``). At α = 0, α = `inside` and
/// α = 1 the sign pattern of the last block's gate projection pre-activations (feed-forward norm,
/// then gate_proj, before the activation; width 1536 for SmolLM2) is read through the engine's
/// mid-block resume hook. Recorded per pair and summarized by the median:
/// - flips between α = 0 and α = 1 (across the pair);
/// - flips between α = 0 and α = `inside` (default 0.1), with the median d̂(`inside`) of the
///   final-norm readout, to show whether that step stays inside A's region (d̂ ≈ 0).
/// Both the trained model and its random-init twin are run in the same check.
///
/// Informational: the spec states the paper's observation without a threshold.
///
/// Parameters: `inside` (default 0.1).
public struct SRGateFlips: Claim {
    public let id = "SR-gates"
    public let title = "Hundreds to thousands of last-layer gate units flip sign across one interpolation, even inside a region"
    public let source = "Janiak et al. 2024, Characterizing stable regions in the residual stream of LLMs (arXiv 2409.17113), App. F"
    public let controls: [String] = []
    public let criteria = [
        CriterionDefinition("gate_flips_median_min", statistic: "gate_flips_median", .atLeast, 100,
                            "median count of last-MLP gate units whose sign differs between α = 0 and α = 1"),
    ]
    public let parameters = [ParameterSpec("inside", .double, "the small step α inside A's region (default 0.1)")]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .windows, absolute: 6, reason: "medians over pairs and their bootstrap need at least 5 pairs")
    public let uncertainty = "Percentile bootstrap over the consecutive pairs of the median flip count."

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let inside = context.parameters.double("inside", default: 0.1)
        guard inside > 0, inside < 1 else {
            throw ClaimError.insufficientData("SR-gates parameter `inside` must lie in (0, 1), got \(inside)")
        }
        let prompts = try context.sequences(.windows)
        guard prompts.count >= 3 else {
            throw ClaimError.insufficientData("SR-gates needs at least 3 windows, got \(prompts.count); raise sampling.count")
        }
        let pairs = (0 ..< prompts.count - 1).map { ($0, $0 + 1) }
        let alphas = [0, inside, 1]
        var metrics: [Metric] = [], notes: [String] = []
        for (suffix, model) in [("", try context.resources.trainedModel()), ("_ri", try context.resources.randomInitModel())] {
            let probe = try StableRegionProbe(model: model, prompts: prompts)
            let curves = try probe.curves(pairs: pairs, alphas: alphas, readouts: [.normed])[.normed] ?? []
            let rows = pairs.flatMap { a, b in alphas.map { ResumeRow(prompt: a, residual: probe.interpolated(a, b, $0)) } }
            let signs = try probe.lastGateSigns(rows)
            var across: [Double] = [], within: [Double] = [], insideDHat: [Double] = []
            for p in pairs.indices {
                let start = signs[3 * p], step = signs[3 * p + 1], end = signs[3 * p + 2]
                across.append(Double(zip(start, end).filter { $0 != $1 }.count))
                within.append(Double(zip(start, step).filter { $0 != $1 }.count))
                if let dhat = StableRegionProbe.normalized(curves[p]) { insideDHat.append(dhat[1]) }
            }
            let width = Double(model.configuration.feedForwardWidth)
            let bootstrap = context.bootstrap(across.count)
            let replicateMedians = bootstrap.indices.map { drawn in Statistics.medianIgnoringNaN(drawn.map { across[$0] }) }
            metrics += [
                Metric("gate_flips_median" + suffix, unit: "units", value: Statistics.median(across),
                       interval: bootstrap.interval(replicateMedians, unit: "pairs")),
                Metric("gate_flips_q25" + suffix, unit: "units", value: Statistics.quantile(across, 0.25)),
                Metric("gate_flips_q75" + suffix, unit: "units", value: Statistics.quantile(across, 0.75)),
                Metric("gate_flips_share" + suffix, unit: "fraction of gate units", value: Statistics.median(across) / width),
                Metric("gate_flips_inside_median" + suffix, unit: "units", value: Statistics.median(within)),
                Metric("dhat_inside_median" + suffix, unit: "d̂", value: insideDHat.isEmpty ? .nan : Statistics.median(insideDHat)),
            ]
            notes.append("\(suffix.isEmpty ? "trained" : "random-init"): median \(Statistics.median(across)) of \(Int(width)) "
                         + "gate units flip between α = 0 and 1, \(Statistics.median(within)) between α = 0 and \(inside)")
        }
        return ClaimOutcome(metrics: metrics, notes: notes + ["\(pairs.count) consecutive pairs; informational: the spec gives no threshold"],
                            informational: true)
    }
}
