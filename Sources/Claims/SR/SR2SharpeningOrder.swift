import Analysis
import Engine
import Evidence
import Tokenization

/// SR-2 — region boundaries sharpen with training and with model size (Janiak et al. 2024,
/// Figs. 3–4, code `scripts/checkpoints.py`, `scripts/sizes.py`).
///
/// Method (claims spec §3 SR-2): for an ordered list of models (by training tokens or size), the
/// median SR-1 sharpness (``StableRegionProbe``: 10-token Walden windows drawn with each model's
/// own tokenizer and BOS rule, consecutive pairs, write after block 1, final-norm readout, S
/// values) per model, and whether the medians are non-decreasing along the order.
///
/// Gated when `models` lists at least two trained models of one architecture ordered by size (the
/// paper's Qwen2 0.5B → 1.5B → 7B: here Qwen2.5 0.5B → 1.5B, with random-init as 0 tokens);
/// otherwise informational: the available models are not one family's checkpoints. SmolLM2-135M against
/// Gemma-3-270M is confounded by architecture and tokenizer, and the paper itself flags Gemma as an
/// exception; random-init stands in for the "0 tokens" checkpoint.
///
/// Parameters: `models`, the ordered list: `random-init` (the suite model's random twin), `trained`
/// (the suite model), or a GGUF path relative to the folder of the suite's model (default
/// `[random-init, trained]`); `steps` (S, default 21).
public struct SR2SharpeningOrder: Claim {
    public let id = "SR-2"
    public let title = "Stable-region boundaries sharpen with training and model size"
    public let source = "Janiak et al. 2024, Characterizing stable regions in the residual stream of LLMs (arXiv 2409.17113), Figs. 3–4"
    public let controls: [String] = []
    public let criteria = [
        CriterionDefinition("min_median_step_min", statistic: "min_median_step", .atLeast, 0,
                            "smallest step of the median sharpness between consecutive models of `models` (non-decreasing)"),
    ]
    public let parameters = [
        ParameterSpec("models", .strings, "the ordered models: random-init, trained, or GGUF paths (default [random-init, trained])"),
        ParameterSpec("steps", .int, "interpolation points S (default 21)"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .windows, absolute: 6, reason: "medians over pairs and their bootstrap need at least 5 pairs")
    public let uncertainty = """
        Percentile bootstrap over the pairs, each model's pairs resampled with the same indices; the interval is that         of the smallest step between consecutive medians.
        """

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let sampling = try context.requireSampling(id)
        let steps = context.parameters.int("steps", default: 21)
        guard steps >= 3 else { throw ClaimError.insufficientData("SR-2 parameter `steps` must be ≥ 3, got \(steps)") }
        var names: [String] = []
        if case .list(let items)? = context.parameters.values["models"] {
            for item in items {
                guard case .string(let name) = item else {
                    throw ClaimError.insufficientData("SR-2 parameter `models` must list names (random-init, trained or a GGUF path)")
                }
                names.append(name)
            }
        } else {
            names = [RandomInitialization.controlName, "trained"]
        }
        guard names.count >= 2 else {
            throw ClaimError.insufficientData("SR-2 needs at least two models in `models`, got \(names)")
        }

        var medians: [Double] = [], metrics: [Metric] = [], notes: [String] = []
        var replicates: [[Double]] = []
        var trainedFamilies: [(architecture: String, parameters: Double)] = []
        let bootstrap = context.bootstrap(max(1, sampling.count - 1))
        for (position, name) in names.enumerated() {
            let model: any ResidualModel, prompts: [[Int]]
            switch name {
            case RandomInitialization.controlName, "trained":
                model = try name == "trained" ? context.resources.trainedModel() : context.resources.randomInitModel()
                prompts = try context.sequences(.windows)
            default:
                let loaded = try context.resources.additionalModel(name)
                model = loaded.model
                prompts = try CorpusSampling.windows(try context.resources.corpusText(sampling.corpus), tokenizer: loaded.tokenizer,
                                                     count: sampling.count, tokens: sampling.tokens, seed: context.seed,
                                                     format: context.resources.corpusFormat(sampling.corpus))
            }
            let key = StableRegionProbe.medianKey(model: name, sampling: sampling, seed: context.seed, steps: steps)
            let result = try context.resources.memoized(key) {
                try StableRegionProbe.pairSharpness(model: model, prompts: prompts, steps: steps)
            }
            medians.append(result.median)
            if name != RandomInitialization.controlName {
                trainedFamilies.append((model.configuration.architecture.rawValue, model.configuration.parameterEstimate))
            }
            let modelReplicates = result.replicateMedians(bootstrap)
            replicates.append(modelReplicates)
            metrics.append(Metric("sharpness_median", layer: position, unit: "sharpness (layer = position in `models`)",
                                  value: result.median, interval: bootstrap.interval(modelReplicates, unit: "pairs")))
            metrics.append(Metric("pairs_used", layer: position, unit: "pairs", value: Double(result.pairs)))
            notes.append("model \(position): \(name) (\(model.origin)), \(model.configuration.blockCount) blocks, "
                         + "windows of \(prompts.first?.count ?? 0) tokens, median sharpness \(result.median)")
        }
        func minStep(_ values: [Double]) -> Double { zip(values.dropFirst(), values).map { $0 - $1 }.min() ?? .nan }
        let nonDecreasing = zip(medians, medians.dropFirst()).allSatisfy { $0 <= $1 }
        metrics.append(Metric("non_decreasing", unit: "bool", value: nonDecreasing ? 1 : 0))
        metrics.append(Metric("min_median_step", unit: "sharpness", value: minStep(medians),
                              interval: bootstrap.interval(bootstrap.indices.indices.map { r in minStep(replicates.map { $0[r] }) }, unit: "pairs")))
        // Gated only as the spec allows: a within-family order, by size, of at least two trained models.
        let oneFamily = trainedFamilies.count >= 2 && Set(trainedFamilies.map(\.architecture)).count == 1
        let bySize = zip(trainedFamilies, trainedFamilies.dropFirst()).allSatisfy { $0.parameters <= $1.parameters }
        metrics.append(Metric("within_family_order", unit: "bool", value: oneFamily && bySize ? 1 : 0))
        if oneFamily && bySize {
            return ClaimOutcome(metrics: metrics, notes: notes + [
                "gated: \(trainedFamilies.count) \(trainedFamilies[0].architecture) models ordered by size "
                    + "(≈ \(trainedFamilies.map { String(format: "%.2g", $0.parameters) }.joined(separator: " → ")) parameters); "
                    + "random-init stands in for 0 training tokens",
            ])
        }
        return ClaimOutcome(metrics: metrics, notes: notes + [
            oneFamily ? "informational: the models of `models` are not ordered by size"
                : "informational: the models are not checkpoints of one family (architecture and tokenizer confound the order; "
                    + "the paper flags Gemma as an exception); random-init stands in for 0 training tokens",
        ], informational: true)
    }
}
