import Analysis
import Evidence
import Engine

/// LoT-6 — null tests: gibberish is linearly separable from language at every layer, and a
/// model whose upper half is re-initialised stops transporting the pilot token
/// (Sarfati et al., *Lines of Thought in LLMs*, §4.2, Fig. A5).
///
/// Method (claims spec §2 LoT-6, scaled):
/// - **(a) Gibberish.** N Walden windows (`.windows`, the suite's `sampling`, 10 tokens) against N
///   sequences of the same length of token ids drawn uniformly from the whole vocabulary with
///   `PCG64(seed: suite seed, stream: 6)`. At every layer t = 1…L, the last token's h_t is
///   classified by ``LinearSVM`` (λ = 1e-2, standardized per training fold) under 5-fold
///   ``CrossValidation`` (each sequence its own group). Not piloted.
/// - **(b) Ablated model.** Blocks `ablatedFrom`+1 … L (default: the upper half, 16–30 for SmolLM2) take the random-init
///   control's weights (``LanguageModel/replacingBlocks(_:from:origin:)``). On the language
///   windows: the mean velocity ‖h_t − h_{t−1}‖ over t > `ablatedFrom` relative to the trained
///   model, and the LoT-3 variance fit A2 = ln α + λ·(t+τ) restricted to the last quarter
///   (pairs with ⌈3L/4⌉ ≤ t < t₂ ≤ L − 1). The fit "fails" as in LoT-3's random-init test:
///   λ < 0.1 or R² < 0.8. Projected straightness (recorded, not judged): the TD-6 remark that RI
///   increments are orthogonal in full space means straight lines only show in a projection, so
///   ‖P(h_L − h_s)‖ / Σ_t ‖P(h_t − h_{t−1})‖ over t > s = `ablatedFrom` is reported both in full
///   space (P = I) and projected on the four leading directions ψ₁…ψ₄(L) of each model's own bases.
///
/// Pass: (a) accuracy ≥ 0.95 at every layer t ≥ 1; (b) ablated mean velocity after block
/// `ablatedFrom` ≤ 0.3 × trained, and the ablated last-quarter λ-fit fails.
///
/// SmolLM2 (600 windows × 10 tokens): gibberish accuracy 0.968–1.0 (lowest at t = 1); velocity
/// ratio 0.038 (5.0 vs 132 per layer); ablated last-quarter fit λ = 0.21, R² = 0.28. The trained
/// model's own last-quarter fit is borderline (λ = 0.26, R² = 0.79), so that criterion alone does
/// not discriminate; the velocity ratio does. Projected straightness: trained 0.92 (0.43 in full
/// space), ablated 0.43 (0.27).
///
/// Control `arbitrary-labels` must be refuted: part (a) on the language windows alone, the first
/// half labelled against the second half (windows are i.i.d. draws, so the halves are
/// exchangeable and accuracy must sit near 0.5). It shows a classifier on 576 standardized
/// features with N ≈ D samples does not separate anything by overfitting. The control runs only
/// (a), at `controlLayers` (default t = 1, L/3, 2L/3, L) to stay in budget.
public struct LoT6NullInputs: Claim {
    public let id = "LoT-6"
    public let title = "Gibberish separates from language at every layer; an ablated upper half stops transporting"
    public let source = "Sarfati et al. 2024/25, Lines of Thought in LLMs (arXiv 2410.01545), §4.2, Fig. A5"
    public static let arbitraryLabelsControl = "arbitrary-labels"
    public let controls = [LoT6NullInputs.arbitraryLabelsControl]
    public let criteria = [
        CriterionDefinition("gibberish_accuracy_min_min", statistic: "gibberish_accuracy_min", .atLeast, 0.95,
                            "gibberish vs language: the lowest cross-validated accuracy over the layers"),
        CriterionDefinition("velocity_ratio_max", statistic: "velocity_ratio", .atMost, 0.3,
                            "ablated over trained mean velocity after the ablation point"),
        CriterionDefinition("ablated_fit_score_max", statistic: "ablated_fit_score", .lessThan, 1,
                            "the ablated last-quarter λ-fit must fail: min(λ/0.1, R²/0.8) < 1"),
        CriterionDefinition("arbitrary_accuracy_min_min", statistic: "arbitrary_accuracy_min", .atLeast, 0.95,
                            "first vs second half of the language windows: the lowest accuracy over the control layers"),
    ]
    public let parameters = [
        ParameterSpec("ablatedFrom", .int, "blocks after this one are re-initialised (default L/2)"),
        ParameterSpec("controlLayers", .ints, "layers the arbitrary-labels control classifies (default 1, L/3, 2L/3, L)"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .windows, absolute: 10, perWidth: 1.25,
        reason: "the trajectory bases must span ℝ^D with room to spare in every jackknife replicate (claims spec §2: N ≥ 1.25·D)")
    public let uncertainty = """
        Accuracies: Student-t interval over the 5 folds of the worst layer. Velocity ratio: percentile bootstrap over the         windows of the per-window velocities (both models on the same resamples). The ablated fit: delete-a-group         jackknife over the windows with the ablated bases refitted.
        """

    public func criteria(for subject: Subject) -> [CriterionDefinition] {
        subject == .control(Self.arbitraryLabelsControl) ? criteria.filter { $0.name == "arbitrary_accuracy_min_min" }
            : criteria.filter { $0.name != "arbitrary_accuracy_min_min" }
    }

    public init() {}

    static let folds = 5
    static let lambda = 1e-2
    static let projectedDirections = 4

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let sampling = try context.requireSampling(id)
        let language = try context.lastPositionStates(.windows)
        let layers = language.blockCount, count = language.sampleCount
        guard count >= 2 * Self.folds else {
            throw ClaimError.insufficientData("\(id) needs at least \(2 * Self.folds) windows for \(Self.folds)-fold CV, got \(count)")
        }

        if context.subject == .control(Self.arbitraryLabelsControl) {
            let defaultLayers = Array(Set([1, layers / 3, 2 * layers / 3, layers])).sorted()
            let controlLayers = context.parameters.ints("controlLayers", default: defaultLayers).filter { (1...layers).contains($0) }
            let labels = (0..<count).map { $0 < count / 2 }
            var metrics: [Metric] = []
            var worst: CrossValidation?
            for t in controlLayers {
                let validation = CrossValidation(features: language.residual[t], labels: labels, groups: Array(0..<count),
                                                 folds: Self.folds, lambda: Self.lambda, seed: context.seed)
                if validation.accuracy < worst?.accuracy ?? .infinity { worst = validation }
                metrics.append(Metric("arbitrary_accuracy", layer: t, unit: "accuracy", value: validation.accuracy))
            }
            metrics.append(Metric("arbitrary_accuracy_min", unit: "accuracy", value: worst?.accuracy ?? .nan,
                                  interval: worst.map { ExactIntervals.folds($0.foldAccuracies, level: context.resampling.level, sampleSize: count) }))
            return ClaimOutcome(metrics: metrics, notes: ["control: \(count) language windows, first half against second half, layers \(controlLayers)"])
        }

        // (a) Gibberish against language.
        let model = try context.model()
        let vocabulary = model.configuration.vocabularySize
        let gibberish = try context.resources.memoized("LoT-6/gibberish/\(context.modelTag)/\(context.samplingKey)/\(context.seed)") {
            var rng = PCG64(seed: context.seed, stream: 6)
            let sequences = (0..<count).map { _ in (0..<sampling.tokens).map { _ in rng.nextInt(below: vocabulary) } }
            return try LastPositionStates(capturing: sequences, with: model)
        }
        var metrics: [Metric] = []
        let labels = [Bool](repeating: true, count: count) + [Bool](repeating: false, count: count)
        var worst: CrossValidation?
        for t in 1...layers {
            let features = Matrix(rows: 2 * count, columns: language.residual[t].columns,
                                  storage: language.residual[t].storage + gibberish.residual[t].storage)
            let validation = CrossValidation(features: features, labels: labels, groups: Array(0..<(2 * count)),
                                             folds: Self.folds, lambda: Self.lambda, seed: context.seed)
            if validation.accuracy < worst?.accuracy ?? .infinity { worst = validation }
            metrics.append(Metric("gibberish_accuracy", layer: t, unit: "accuracy", value: validation.accuracy))
        }
        let worstSeparation = worst!.accuracy

        // (b) The ablated model.
        let ablatedFrom = context.parameters.int("ablatedFrom", default: layers / 2)
        guard ablatedFrom >= 1 && ablatedFrom < layers - 2 else {
            throw ClaimError.insufficientData("\(id): ablatedFrom = \(ablatedFrom) must leave at least 3 of the \(layers) blocks re-initialised and 1 trained")
        }
        let ablated = try context.resources.memoized("LoT-6/ablated/\(ablatedFrom)/\(context.samplingKey)/\(context.seed)") {
            let donor = try context.resources.randomInitModel()
            let ablatedModel = try model.replacingBlocks(ablatedFrom..<layers, from: donor,
                                                         origin: "\(model.origin) with blocks \(ablatedFrom + 1)–\(layers) from \(donor.origin)")
            return try LastPositionStates(capturing: language.sequences, with: ablatedModel)
        }
        let trainedVelocity = Self.meanVelocity(language.residual, after: ablatedFrom)
        let ablatedVelocity = Self.meanVelocity(ablated.residual, after: ablatedFrom)
        let velocityRatio = ablatedVelocity / trainedVelocity

        let trainedBases = try TrajectoryBases(states: Array(language.residual.dropFirst()), claim: id)
        let ablatedBases = try TrajectoryBases(states: Array(ablated.residual.dropFirst()), claim: id)
        let trainedFit = try Self.lastQuarterFit(trainedBases)
        let ablatedFit = try Self.lastQuarterFit(ablatedBases)
        func fitScore(_ fit: LinearFit) -> Double { min(fit.slopes[0] / 0.1, fit.rSquared / 0.8) }

        // Intervals: the velocity ratio over bootstrap resamples of the windows (both models on the
        // same resamples); the ablated fit over jackknife refits of its bases.
        let bootstrap = context.bootstrap(count)
        let trainedPerWindow = Self.velocities(language.residual, after: ablatedFrom)
        let ablatedPerWindow = Self.velocities(ablated.residual, after: ablatedFrom)
        let replicateRatios = bootstrap.indices.map { drawn in
            drawn.reduce(0.0) { $0 + ablatedPerWindow[$1] } / drawn.reduce(0.0) { $0 + trainedPerWindow[$1] }
        }
        let jackknife = context.jackknife(count)
        let replicateScores = try context.resources.memoized("LoT-6/ablated-jackknife/\(ablatedFrom)/\(context.samplingKey)/\(context.seed)/\(context.resampling.groups)") {
            try TrajectoryBases.jackknife(Array(ablated.residual.dropFirst()), jackknife, claim: id) { bases, _ in
                fitScore(try Self.lastQuarterFit(bases))
            }
        }

        metrics += [
            Metric("gibberish_accuracy_min", unit: "accuracy", value: worstSeparation,
                   interval: ExactIntervals.folds(worst!.foldAccuracies, level: context.resampling.level, sampleSize: 2 * count)),
            Metric("velocity_trained", unit: "residual units/layer", value: trainedVelocity),
            Metric("velocity_ablated", unit: "residual units/layer", value: ablatedVelocity),
            Metric("velocity_ratio", unit: "ratio", value: velocityRatio, interval: bootstrap.interval(replicateRatios, unit: "windows")),
            Metric("ablated_fit_score", unit: "ratio", value: fitScore(ablatedFit),
                   interval: jackknife.interval(estimate: fitScore(ablatedFit), replicateValues: replicateScores, unit: "windows")),
            Metric("last_quarter_lambda_trained", unit: "nats/layer", value: trainedFit.slopes[0]),
            Metric("last_quarter_r2_trained", unit: "R²", value: trainedFit.rSquared),
            Metric("last_quarter_lambda_ablated", unit: "nats/layer", value: ablatedFit.slopes[0]),
            Metric("last_quarter_r2_ablated", unit: "R²", value: ablatedFit.rSquared),
        ]
        for (name, states, bases) in [("trained", language.residual, trainedBases), ("ablated", ablated.residual, ablatedBases)] {
            for t in 1...layers {
                metrics.append(Metric("velocity_\(name)", layer: t, unit: "residual units/layer",
                                      value: Self.meanVelocity(states, after: t - 1, through: t)))
            }
            let projection = bases.aligned[layers - 1].rows(at: 0..<min(Self.projectedDirections, bases.width))
            metrics.append(Metric("straightness_full_\(name)", unit: "ratio",
                                  value: Self.medianStraightness(states, after: ablatedFrom, projection: nil)))
            metrics.append(Metric("straightness_projected_\(name)", unit: "ratio",
                                  value: Self.medianStraightness(states, after: ablatedFrom, projection: projection)))
        }

        return ClaimOutcome(metrics: metrics, notes: [
            "\(count) Walden windows vs \(count) uniform random-token sequences of \(sampling.tokens) tokens; \(Self.folds)-fold CV per layer",
            "ablated: blocks \(ablatedFrom + 1)–\(layers) from the random-init control; straightness over t > \(ablatedFrom), median over windows",
        ])
    }

    /// Mean over samples and t in (`after`, `through`] of ‖h_t − h_{t−1}‖ (`states` indexed by residual index).
    static func meanVelocity(_ states: [Matrix], after start: Int, through end: Int? = nil) -> Double {
        let last = end ?? states.count - 1
        var total = 0.0, terms = 0
        for t in (start + 1)...last {
            let current = states[t], previous = states[t - 1]
            for r in 0..<current.rows {
                var squared = 0.0
                for c in 0..<current.columns {
                    let step = current[r, c] - previous[r, c]
                    squared += step * step
                }
                total += squared.squareRoot()
                terms += 1
            }
        }
        return total / Double(terms)
    }

    /// Per sample, the sum over t > `start` of ‖h_t − h_{t−1}‖ (the numerator of ``meanVelocity(_:after:through:)``).
    static func velocities(_ states: [Matrix], after start: Int) -> [Double] {
        (0..<states[0].rows).map { r in
            var total = 0.0
            for t in (start + 1)..<states.count {
                var squared = 0.0
                for c in 0..<states[t].columns {
                    let step = states[t][r, c] - states[t - 1][r, c]
                    squared += step * step
                }
                total += squared.squareRoot()
            }
            return total
        }
    }

    /// The median over samples of ‖P(h_L − h_s)‖ / Σ_{t>s} ‖P(h_t − h_{t−1})‖ (1 = a straight line),
    /// with P the rows of `projection` (row-wise basis) or the identity when nil.
    static func medianStraightness(_ states: [Matrix], after start: Int, projection: Matrix?) -> Double {
        let projected = states[start...].map { x in projection.map { Matrix.product(x, $0, transposeRight: true) } ?? x }
        func distance(_ a: Matrix, _ b: Matrix, _ r: Int) -> Double {
            var squared = 0.0
            for c in 0..<a.columns { let d = a[r, c] - b[r, c]; squared += d * d }
            return squared.squareRoot()
        }
        let rows = projected[0].rows
        let ratios = (0..<rows).map { r in
            let path = zip(projected.dropFirst(), projected).reduce(0.0) { $0 + distance($1.0, $1.1, r) }
            return path > 0 ? distance(projected.last!, projected[0], r) / path : 0
        }
        return Statistics.median(ratios)
    }

    /// The LoT-3 fit A2 = ln α + λ·(t+τ) over the pairs ⌈3L/4⌉ ≤ t < t₂ ≤ L − 1.
    static func lastQuarterFit(_ bases: TrajectoryBases) throws -> LinearFit {
        let layers = bases.layerCount
        let first = (3 * layers + 3) / 4
        let pairs = TrajectoryResiduals.aggregates(bases) { t, t2 in t >= first && t2 <= layers - 1 }
        return try LinearFit(x: pairs.map { Double($0.t2) }, y: pairs.map(\.a2))
    }
}
