import Analysis
import BLASThreading
import Evidence
import Foundation

/// LoT-4 — a linear classifier barely separates extrapolated from true ensembles
/// (Sarfati et al., *Lines of Thought in LLMs*, v2/v3; reported about 50–51 % at τ = 1 and about
/// 60 % at τ = 10; not in v1, so the reported numbers are unverified).
///
/// Method (claims spec §2 LoT-4, with "a null that knows the protocol's own bias"), on the
/// Walden-chunk trajectories (`.chunks`, last token, h₁…h_L pre-norm):
/// 1. **Splits.** A seeded permutation (`PCG64(seed: suite seed, stream: 4)`) cuts the N trajectories
///    into K = `splits` (default 10) disjoint evaluation sets E_g. For each, the basis set B_g is
///    **every other trajectory** (N_B = N − |E_g|, the largest basis set the corpus allows next to
///    E_g), so every trajectory is evaluated exactly once, with bases it took no part in.
/// 2. **Bases.** The aligned uncentered bases ψ(t), σ(t) of B_g (``TrajectoryBases``, from the
///    Gram matrices G_B(t) = G_all(t) − G_E(t), layers 1 … t_max + 10 only), and E_g extrapolated
///    with them: x̃_k(t+τ) = ψ(t+τ)·diag(σ(t+τ)/σ(t))·ψ(t)ᵀ·x_k(t).
/// 3. **Classifier.** {x_k(t+τ)} (true) against {x̃_k(t+τ)}, k ∈ E_g, with ``LinearSVM`` (squared hinge,
///    L2 λ = 1e-2 with the bias regularized as a constant feature, standardized on the training fold,
///    solved by dual coordinate descent until the optimality violation is below 1e-3, at most 20,000
///    epochs; the largest relative duality gap is recorded) under 5-fold ``CrossValidation`` grouped
///    by trajectory. Accuracies are pooled over all splits (every trajectory once).
/// 4. At t = round(L/3) and round(L/2) (at most L − 10), for τ = 1 and τ = 10, with a label-permutation
///    null (`nullPermutations`, default 5) per cell.
/// 5. **Model-true control.** A world in which the rotate-and-stretch model is exactly true: for each
///    cell, the target layer is replaced by y_k = M(t→t+τ)·x_k(t) + w_k, with M the map fitted on all N
///    real trajectories and w_k,i ~ N(0, v_i), v_i the variance of the real residuals x(t+τ) − M·x(t) in
///    Cartesian coordinate i (`PCG64(seed, stream: 5 + cell)`); the source layer x(t) and every other
///    layer stay real. The identical splits, bases (B_g's own layers, with the synthetic target layer's
///    basis refitted on B_g and aligned to layer t+τ−1) and classifier then score it. Even here the
///    classifier beats 0.5: B_g's finite-sample bases and the stretch fitted from marginal singular
///    values are not the generating M. That accuracy is the protocol's own bias, the yardstick.
///
/// Pass (criteria as data): the excess accuracy over the model-true control at τ = 1,
/// accuracy(real) − accuracy(model-true), lies within ±0.06 — the half-width of the paper's chance
/// band [0.44, 0.56], re-centred from 0.5 on what the protocol scores when the model is true — and
/// accuracy at τ = 10 ≥ accuracy at τ = 1 − 0.02, at both t. Recorded, not gated: the paper's band
/// itself (`paper_band_tau1_*`: 1 when the accuracy's interval lies inside [0.44, 0.56], 0 when outside,
/// 0.5 when it straddles; the synthetic world alone falls outside it at small N_B, so gating on it
/// would judge the protocol, not the model), the excess at τ = 10, and whether τ = 10 reaches 0.60.
/// An SVM fit that does not meet its tolerance withholds the verdict (inconclusive) and says so.
///
/// Measured on SmolLM2 before this design (one split, N = 1000, 692 basis / 308 evaluated): 0.62–0.63
/// at τ = 1 — against a chance band, biased upward by the small basis set; an independent check found the
/// same protocol scores 0.54–0.62 in a model-true world at 692 basis trajectories and 0.50–0.55 at 2,574.
/// With this design at smoke size (774 chunks of 8 tokens, N_B = 696–697, seed 1234): τ = 1 accuracy 0.587
/// at t = 10 and 0.541 at t = 15 against model-true 0.587 and 0.599 (excess +0.001 and −0.058, the latter's
/// interval reaching past −0.06: inconclusive); identity-extrapolation +0.35/+0.40, in-sample −0.32/−0.36.
///
/// Controls — what makes the check able to fail, judged by the same criteria against the same
/// model-true yardstick:
/// - `identity-extrapolation`: x̃ = x(t), no rotate-and-stretch. A visibly wrong extrapolation the same
///   classifier must detect (excess far above +0.06), proving the check can reject a bad model.
/// - `in-sample`: the bases fitted on all N trajectories and all N classified (5-fold CV). The two
///   ensembles then have identical uncentered second moments (X̃ᵀX̃ = XᵀX, ψ orthonormal) and the
///   classifier anti-learns (pilot 0.27–0.40): the excess falls far below −0.06, proving the band is not
///   reached by construction. Its per-split accuracies are its held-out predictions on each E_g.
/// The label-permutation null is recorded per cell (mean and maximum) for comparison.
public struct LoT4ExtrapolationClassifier: Claim {
    public let id = "LoT-4"
    public let title = "A linear classifier barely separates extrapolated from true trajectories"
    public let source = "Sarfati et al. 2024/25, Lines of Thought in LLMs (arXiv 2410.01545, v2/v3), linear-SVM test of Eq. 1"
    public static let identityControl = "identity-extrapolation"
    public static let inSampleControl = "in-sample"
    public let controls = [LoT4ExtrapolationClassifier.identityControl, LoT4ExtrapolationClassifier.inSampleControl]
    /// The tolerance of the paper's band [0.44, 0.56] around chance, kept around the model-true control.
    public static let margin = 0.06
    /// The paper's chance band at τ = 1, recorded next to the verdict.
    public static let paperBand = (low: 0.44, high: 0.56)
    public let criteria: [CriterionDefinition] = ["first", "second"].flatMap { which in [
        CriterionDefinition("excess_tau1_\(which)_min", statistic: "excess_tau1_\(which)", .atLeast, -LoT4ExtrapolationClassifier.margin,
                            "accuracy at τ = 1 minus the model-true control's, the \(which) judged layer (t ≈ L/3, L/2): not below the control by more than the band's half-width"),
        CriterionDefinition("excess_tau1_\(which)_max", statistic: "excess_tau1_\(which)", .atMost, LoT4ExtrapolationClassifier.margin,
                            "accuracy at τ = 1 minus the model-true control's, the \(which) judged layer: barely separable, no more than the band's half-width above the control"),
        CriterionDefinition("tau10_minus_tau1_\(which)_min", statistic: "tau10_minus_tau1_\(which)", .atLeast, -0.02,
                            "accuracy at τ = 10 minus accuracy at τ = 1, the \(which) judged layer"),
    ] }
    public let parameters = [
        ParameterSpec("splits", .int, "disjoint evaluation sets; each is classified with bases fitted on every other trajectory (default 10)"),
        ParameterSpec("nullPermutations", .int, "label permutations per cell for the null (default 5)"),
    ]
    /// With the default 10 splits: N − ⌈N/10⌉ ≥ ⌈1.2·D⌉ basis trajectories and ≥ 50 evaluated per split.
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .chunks, absolute: 10 * LoT4ExtrapolationClassifier.folds * LoT4ExtrapolationClassifier.defaultSplits,
        perWidth: 1.34, plus: 2,
        reason: "every split's basis set (all trajectories but its evaluation set) needs ≥ 1.2·D trajectories, and each of the 10 evaluation sets ≥ 50 (10 per fold)")
    public let uncertainty = """
        Student-t interval over the K basis/evaluation splits (unit "folds"): each split has its own bases, \
        classifiers and evaluation trajectories, so the spread between splits covers the sampling of the \
        evaluated trajectories, of the basis set and of the classifier's training. The excess over the \
        model-true control and the τ = 10 minus τ = 1 difference are paired split by split (same \
        trajectories, same folds). Not covered: the draw of the synthetic residuals (one draw; its noise \
        averages over all N trajectories). The verdict rests on excess_tau1_first/second and \
        tau10_minus_tau1_first/second; the paper's band is recorded beside it, not gated.
        """

    public init() {}

    static let folds = 5
    static let defaultSplits = 10
    static let lambda = 1e-2
    static let taus = [1, 10]
    /// The SVM solver's stopping rule: projected-gradient spread below this, within `svmMaxEpochs`.
    static let svmTolerance = 1e-3
    static let svmMaxEpochs = 20_000

    /// One (t, τ) of the grid.
    struct Cell: Sendable, Hashable {
        var t: Int, tau: Int
        var target: Int { t + tau }
    }

    /// Correct held-out predictions of one variant at one cell, per basis/evaluation split.
    struct Scores: Sendable, Equatable {
        var hits: [Int]
        var counts: [Int]
        var accuracy: Double { Double(hits.reduce(0, +)) / Double(counts.reduce(0, +)) }
        var splitAccuracies: [Double] { zip(hits, counts).map { Double($0) / Double($1) } }
        var classified: Int { counts.reduce(0, +) }
    }

    /// How exactly the SVMs were solved, over every fit that went into a result.
    struct SolverReport: Sendable, Equatable {
        var epochs = 0
        var converged = true
        var relativeGap = 0.0
        var fits = 0

        mutating func add(_ validation: CrossValidation) {
            epochs = max(epochs, validation.epochs)
            converged = converged && validation.converged
            relativeGap = max(relativeGap, validation.maxRelativeDualityGap)
            fits += 1
        }

        mutating func merge(_ other: SolverReport) {
            epochs = max(epochs, other.epochs)
            converged = converged && other.converged
            relativeGap = max(relativeGap, other.relativeGap)
            fits += other.fits
        }
    }

    /// What every subject is judged against: per cell, the held-out scores, the model-true control's
    /// scores and the pooled permutation null, with the synthetic world's diagnostics.
    struct Grid: Sendable {
        var heldOut: [Scores]
        var modelTrue: [Scores]
        /// Per cell, the accuracy pooled over splits for each label permutation.
        var null: [[Double]]
        /// Per cell, Σ‖y‖² / Σ‖x(t+τ)‖²: how much the independent noise inflates the target's energy.
        var energyRatio: [Double]
        /// Per cell, the mean over coordinates of the residual variance v_i the noise is drawn with.
        var noiseVariance: [Double]
        var basisSizes: [Int]
        var solver: SolverReport
    }

    /// A variant's scores per cell with how its SVMs were solved.
    struct VariantScores: Sendable {
        var scores: [Scores]
        var solver: SolverReport
    }

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        _ = try context.requireSampling(id)
        let states = try context.lastPositionStates(.chunks)
        let layers = states.blockCount, width = states.residual[0].columns, count = states.sampleCount
        let splitCount = context.parameters.int("splits", default: Self.defaultSplits)
        let permutations = max(0, context.parameters.int("nullPermutations", default: 5))
        let minimumBasis = Int((1.2 * Double(width)).rounded(.up))
        guard splitCount >= 2 else {
            throw ClaimError.insufficientData("\(id): splits = \(splitCount); at least 2 disjoint evaluation sets are needed")
        }
        let sets = Self.evaluationSets(count: count, splits: splitCount, seed: context.seed)
        let smallestBasis = count - sets.map(\.count).max()!, smallestEvaluation = sets.map(\.count).min()!
        guard smallestBasis >= minimumBasis else {
            throw ClaimError.insufficientData("\(id): N = \(count) trajectories in \(splitCount) splits leave \(smallestBasis) basis trajectories next to an evaluation set; the bases need ≥ ⌈1.2·D⌉ = \(minimumBasis): raise `sampling: count` or `splits`")
        }
        guard smallestEvaluation >= 10 * Self.folds else {
            throw ClaimError.insufficientData("\(id): N = \(count) in \(splitCount) splits gives evaluation sets of \(smallestEvaluation) trajectories; \(Self.folds)-fold CV needs ≥ \(10 * Self.folds): raise `sampling: count` or lower `splits`")
        }
        // t ≈ L/3 and L/2, moved down where t + τ_max would pass the last layer (shallow models, e.g. Gemma 3's 18).
        let latest = layers - Self.taus.max()!
        let layersAt = Array(Set([Int((Double(layers) / 3).rounded()), Int((Double(layers) / 2).rounded())].map { min($0, latest) })).sorted()
        guard layersAt.allSatisfy({ $0 >= 1 && $0 + Self.taus.max()! <= layers }) else {
            throw ClaimError.insufficientData("\(id): t = \(layersAt) with τ up to \(Self.taus.max()!) exceeds the model's \(layers) blocks")
        }
        let cells = layersAt.flatMap { t in Self.taus.map { Cell(t: t, tau: $0) } }

        let memo = "LoT-4/\(context.modelTag)/\(context.samplingKey)/\(splitCount)/\(context.seed)"
        let grid = try context.resources.memoized(memo + "/grid/\(permutations)") {
            try Self.grid(states: states, sets: sets, cells: cells, permutations: permutations, seed: context.seed, claim: id)
        }

        let judged: VariantScores
        let variantName: String
        var notes: [String] = []
        switch context.subject {
        case .control(Self.identityControl):
            judged = try context.resources.memoized(memo + "/identity") {
                Self.identityScores(states: states, sets: sets, cells: cells, seed: context.seed)
            }
            variantName = "identity"
            notes.append("control: x̃(t+τ) = x(t) (no rotate-and-stretch) must be separated far better than the model-true control")
        case .control(Self.inSampleControl):
            judged = try context.resources.memoized(memo + "/insample") {
                try Self.inSampleScores(states: states, sets: sets, cells: cells, seed: context.seed, claim: id)
            }
            variantName = "insample"
            notes.append("control: bases fitted on all \(count) trajectories and all of them classified; equal second moments make the classifier anti-learn")
        default:
            judged = VariantScores(scores: grid.heldOut, solver: grid.solver)
            variantName = "heldout"
        }
        var solver = grid.solver
        if variantName != "heldout" { solver.merge(judged.solver) }

        let level = context.resampling.level
        func interval(_ splitValues: [Double], classified: Int) -> Interval {
            ExactIntervals.folds(splitValues, level: level, sampleSize: classified)
        }
        func difference(_ a: Scores, _ b: Scores) -> [Double] { zip(a.splitAccuracies, b.splitAccuracies).map { $0 - $1 } }

        var metrics = [
            Metric("basis_trajectories", unit: "count", value: Double(grid.basisSizes.min()!)),
            Metric("basis_trajectories_max", unit: "count", value: Double(grid.basisSizes.max()!)),
            Metric("evaluation_trajectories", unit: "count", value: Double(sets.map(\.count).reduce(0, +))),
            Metric("evaluation_per_split_min", unit: "count", value: Double(smallestEvaluation)),
            Metric("splits", unit: "count", value: Double(splitCount)),
            Metric("svm_epochs_max", unit: "epochs", value: Double(solver.epochs)),
            Metric("svm_relative_gap_max", unit: "relative duality gap", value: solver.relativeGap),
            Metric("svm_converged", unit: "bool", value: solver.converged ? 1 : 0),
        ]
        for (c, cell) in cells.enumerated() {
            metrics.append(Metric("\(variantName)_accuracy_tau\(cell.tau)", layer: cell.t, unit: "accuracy", value: judged.scores[c].accuracy))
            metrics.append(Metric("modeltrue_accuracy_tau\(cell.tau)", layer: cell.t, unit: "accuracy", value: grid.modelTrue[c].accuracy))
            metrics.append(Metric("modeltrue_energy_ratio_tau\(cell.tau)", layer: cell.t, unit: "ratio", value: grid.energyRatio[c]))
            metrics.append(Metric("modeltrue_noise_variance_tau\(cell.tau)", layer: cell.t, unit: "variance", value: grid.noiseVariance[c]))
            if variantName == "heldout", !grid.null[c].isEmpty {
                metrics.append(Metric("null_mean_tau\(cell.tau)", layer: cell.t, unit: "accuracy", value: Statistics.mean(grid.null[c])))
                metrics.append(Metric("null_max_tau\(cell.tau)", layer: cell.t, unit: "accuracy", value: grid.null[c].max()!))
            }
        }

        // The judged layers are named first/second so the criteria keep their names on any depth.
        for (slot, t) in zip(["first", "second"], layersAt + layersAt.suffix(1)) {
            guard let near = cells.firstIndex(of: Cell(t: t, tau: 1)), let far = cells.firstIndex(of: Cell(t: t, tau: 10)) else { continue }
            let real1 = judged.scores[near], real10 = judged.scores[far]
            let true1 = grid.modelTrue[near], true10 = grid.modelTrue[far]
            let accuracyInterval = interval(real1.splitAccuracies, classified: real1.classified)
            metrics += [
                Metric("accuracy_tau1_\(slot)", unit: "accuracy", value: real1.accuracy, interval: accuracyInterval),
                Metric("accuracy_tau10_\(slot)", unit: "accuracy", value: real10.accuracy,
                       interval: interval(real10.splitAccuracies, classified: real10.classified)),
                Metric("modeltrue_accuracy_tau1_\(slot)", unit: "accuracy", value: true1.accuracy,
                       interval: interval(true1.splitAccuracies, classified: true1.classified)),
                Metric("modeltrue_accuracy_tau10_\(slot)", unit: "accuracy", value: true10.accuracy,
                       interval: interval(true10.splitAccuracies, classified: true10.classified)),
                Metric("excess_tau1_\(slot)", unit: "accuracy", value: real1.accuracy - true1.accuracy,
                       interval: interval(difference(real1, true1), classified: real1.classified)),
                Metric("excess_tau10_\(slot)", unit: "accuracy", value: real10.accuracy - true10.accuracy,
                       interval: interval(difference(real10, true10), classified: real10.classified)),
                Metric("tau10_minus_tau1_\(slot)", unit: "accuracy", value: real10.accuracy - real1.accuracy,
                       interval: interval(difference(real10, real1), classified: real1.classified)),
                Metric("paper_band_tau1_\(slot)", unit: "1 inside / 0 outside / 0.5 straddles [0.44, 0.56]",
                       value: Self.bandPosition(real1.accuracy, accuracyInterval)),
                Metric("judged_layer_\(slot)", unit: "layer", value: Double(t)),
            ]
            if slot == "first" || t != layersAt.first {
                metrics.append(Metric("reaches_060", layer: t, unit: "bool", value: real10.accuracy >= 0.60 ? 1 : 0))
                let position = Self.bandPosition(real1.accuracy, accuracyInterval)
                let band = position == 1 ? "inside" : position == 0 ? "outside" : "straddled"
                notes.append(String(format: "t = %d: τ = 1 accuracy %.3f [%.3f, %.3f], model-true control %.3f, excess %+.3f; ",
                                    t, real1.accuracy, accuracyInterval.low, accuracyInterval.high, true1.accuracy,
                                    real1.accuracy - true1.accuracy) + "the paper's band [0.44, 0.56] (recorded, not gated): \(band)")
            }
        }
        notes.insert("\(splitCount) disjoint evaluation sets (\(smallestEvaluation)–\(sets.map(\.count).max()!) trajectories), each classified with bases from the other \(grid.basisSizes.min()!)–\(grid.basisSizes.max()!); \(Self.folds)-fold CV grouped by trajectory; \(permutations) label permutations per cell", at: 0)
        notes.append("model-true control: the target layer replaced by M·x(t) + Gaussian noise with the real residuals' per-coordinate variances; same splits, bases and classifier")
        notes.append(String(format: "SVM: squared hinge, λ = 1e-2, bias regularized; solved to a projected-gradient spread < %.0e (≤ %d epochs): %d fits, at most %d epochs, largest relative duality gap %.1e",
                            Self.svmTolerance, Self.svmMaxEpochs, solver.fits, solver.epochs, solver.relativeGap))
        guard solver.converged else {
            notes.append("verdict withheld: an SVM fit reached \(Self.svmMaxEpochs) epochs without meeting its tolerance, so its accuracy is not the classifier the protocol defines")
            return ClaimOutcome(metrics: metrics, notes: notes, policy: .withheld)
        }
        return ClaimOutcome(metrics: metrics, notes: notes)
    }

    /// 1 when the whole interval (and the estimate) lies in the paper's band, 0 when all of it lies outside, 0.5 otherwise.
    static func bandPosition(_ value: Double, _ interval: Interval) -> Double {
        let points = [value, interval.low, interval.high]
        let inside = points.filter { $0 >= paperBand.low && $0 <= paperBand.high }.count
        return inside == points.count ? 1 : inside == 0 && (interval.high < paperBand.low || interval.low > paperBand.high) ? 0 : 0.5
    }

    /// Step 1: the K disjoint evaluation sets (sorted rows), cut from one seeded permutation.
    static func evaluationSets(count: Int, splits: Int, seed: UInt64) -> [[Int]] {
        var rng = PCG64(seed: seed, stream: 4)
        let order = rng.permutation(count)
        return (0..<splits).map { g in Array(order[(g * count / splits) ..< ((g + 1) * count / splits)]).sorted() }
    }

    /// Steps 2–5 for every split: the held-out scores, the model-true control's and the null.
    /// OpenBLAS runs single-threaded throughout, so the bases (eigendecompositions) are bit-reproducible.
    static func grid(states: LastPositionStates, sets: [[Int]], cells: [Cell], permutations: Int, seed: UInt64,
                     claim: String) throws -> Grid {
        try BLASThreads.withSingleThread {
            try singleThreadedGrid(states: states, sets: sets, cells: cells, permutations: permutations, seed: seed, claim: claim)
        }
    }

    private static func singleThreadedGrid(states: LastPositionStates, sets: [[Int]], cells: [Cell], permutations: Int,
                                           seed: UInt64, claim: String) throws -> Grid {
        let n = states.sampleCount, d = states.residual[0].columns
        let last = cells.map(\.target).max()!
        let grams = (1...last).map { Matrix.product(states.residual[$0], states.residual[$0], transposeLeft: true) }
        let full = try TrajectoryBases(grams: grams, sampleCount: n, claim: claim)

        // Step 5: one model-true target per cell, from the map fitted on all N trajectories.
        var targets: [Matrix] = [], targetGrams: [Matrix] = [], energyRatio: [Double] = [], noiseVariance: [Double] = []
        for (c, cell) in cells.enumerated() {
            let predicted = full.extrapolate(states.residual[cell.t], from: cell.t, to: cell.target)
            let actual = states.residual[cell.target]
            let variances = residualVariances(actual: actual, predicted: predicted)
            var rng = PCG64(seed: seed, stream: 5 + UInt64(c))
            var target = predicted
            let scales = variances.map { $0.squareRoot() }
            target.withUnsafeMutableStorage { y in
                for r in 0..<n { for i in 0..<d { y[r * d + i] += scales[i] * rng.nextGaussian() } }
            }
            targets.append(target)
            targetGrams.append(Matrix.product(target, target, transposeLeft: true))
            energyRatio.append(squaredNorm(target) / squaredNorm(actual))
            noiseVariance.append(Statistics.mean(variances))
        }

        struct Split: Sendable {
            var heldOut: [(hits: Int, count: Int)], modelTrue: [(hits: Int, count: Int)]
            var null: [[Int]]
            var basisSize: Int
            var solver: SolverReport
        }
        // Each worker runs single-threaded BLAS so the splits are bit-reproducible whatever the scheduling.
        let results = BLASThreads.withSingleThread {
            Parallel.map(sets.count, workers: 2) { g -> Result<Split, any Error> in
                Result {
                    let rows = sets[g]
                    let bases = try TrajectoryBases(
                        grams: (1...last).map { grams[$0 - 1] - gram(states.residual[$0].rows(at: rows)) },
                        sampleCount: n - rows.count, claim: claim)
                    var split = Split(heldOut: [], modelTrue: [], null: [], basisSize: n - rows.count, solver: SolverReport())
                    for (c, cell) in cells.enumerated() {
                        let source = states.residual[cell.t].rows(at: rows)
                        let actual = states.residual[cell.target].rows(at: rows)
                        let predicted = bases.extrapolate(source, from: cell.t, to: cell.target)
                        let real = classify(actual: actual, predicted: predicted, seed: seed)
                        split.solver.add(real)
                        split.heldOut.append((Int((real.accuracy * Double(2 * rows.count)).rounded()), 2 * rows.count))
                        split.null.append(permutations == 0 ? [] : nullHits(actual: actual, predicted: predicted,
                                                                            permutations: permutations, seed: seed))

                        let synthetic = targets[c].rows(at: rows)
                        let syntheticBases = try bases.replacingLayer(cell.target, gram: targetGrams[c] - gram(synthetic))
                        let control = classify(actual: synthetic, predicted: syntheticBases.extrapolate(source, from: cell.t, to: cell.target),
                                               seed: seed)
                        split.solver.add(control)
                        split.modelTrue.append((Int((control.accuracy * Double(2 * rows.count)).rounded()), 2 * rows.count))
                    }
                    return split
                }
            }
        }
        let splits = try results.map { try $0.get() }
        var solver = SolverReport()
        for split in splits { solver.merge(split.solver) }
        func scores(_ pick: (Split) -> (hits: Int, count: Int)) -> Scores {
            Scores(hits: splits.map { pick($0).hits }, counts: splits.map { pick($0).count })
        }
        let classified = Double(sets.map { 2 * $0.count }.reduce(0, +))
        return Grid(
            heldOut: cells.indices.map { c in scores { $0.heldOut[c] } },
            modelTrue: cells.indices.map { c in scores { $0.modelTrue[c] } },
            null: cells.indices.map { c in
                (0..<permutations).map { r in Double(splits.map { $0.null[c][r] }.reduce(0, +)) / classified }
            },
            energyRatio: energyRatio, noiseVariance: noiseVariance, basisSizes: splits.map(\.basisSize), solver: solver)
    }

    /// The `identity-extrapolation` control: x̃(t+τ) = x(t), per split.
    static func identityScores(states: LastPositionStates, sets: [[Int]], cells: [Cell], seed: UInt64) -> VariantScores {
        let perSplit = BLASThreads.withSingleThread {
            Parallel.map(sets.count, workers: 2) { g -> ([(Int, Int)], SolverReport) in
                let rows = sets[g]
                var solver = SolverReport()
                let scores = cells.map { cell -> (Int, Int) in
                    let validation = classify(actual: states.residual[cell.target].rows(at: rows),
                                              predicted: states.residual[cell.t].rows(at: rows), seed: seed)
                    solver.add(validation)
                    return (Int((validation.accuracy * Double(2 * rows.count)).rounded()), 2 * rows.count)
                }
                return (scores, solver)
            }
        }
        var solver = SolverReport()
        for split in perSplit { solver.merge(split.1) }
        return VariantScores(scores: cells.indices.map { c in
            Scores(hits: perSplit.map { $0.0[c].0 }, counts: perSplit.map { $0.0[c].1 })
        }, solver: solver)
    }

    /// The `in-sample` control: bases fitted on all N trajectories, all N classified with 5-fold CV; the
    /// held-out predictions of each split's trajectories give its per-split accuracy.
    static func inSampleScores(states: LastPositionStates, sets: [[Int]], cells: [Cell], seed: UInt64,
                               claim: String) throws -> VariantScores {
        let n = states.sampleCount
        let last = cells.map(\.target).max()!
        let full = try BLASThreads.withSingleThread {
            try TrajectoryBases(grams: (1...last).map { Matrix.product(states.residual[$0], states.residual[$0], transposeLeft: true) },
                                sampleCount: n, claim: claim)
        }
        var solver = SolverReport()
        let validations = BLASThreads.withSingleThread {
            Parallel.map(cells.count, workers: 2) { c in
                classify(actual: states.residual[cells[c].target],
                         predicted: full.extrapolate(states.residual[cells[c].t], from: cells[c].t, to: cells[c].target), seed: seed)
            }
        }
        for validation in validations { solver.add(validation) }
        return VariantScores(scores: validations.map { validation in
            Scores(hits: sets.map { rows in rows.reduce(0) { $0 + (validation.correct[$1] ? 1 : 0) + (validation.correct[n + $1] ? 1 : 0) } },
                   counts: sets.map { 2 * $0.count })
        }, solver: solver)
    }

    /// True rows (label true) stacked over the extrapolated rows (label false), trajectory k as the CV group.
    static func classify(actual: Matrix, predicted: Matrix, seed: UInt64) -> CrossValidation {
        let m = actual.rows
        return CrossValidation(features: stacked(actual, predicted), labels: [Bool](repeating: true, count: m) + [Bool](repeating: false, count: m),
                               groups: Array(0..<m) + Array(0..<m), folds: folds, lambda: lambda, seed: seed,
                               tolerance: svmTolerance, maxEpochs: svmMaxEpochs)
    }

    /// Correct predictions under each label permutation.
    static func nullHits(actual: Matrix, predicted: Matrix, permutations: Int, seed: UInt64) -> [Int] {
        let m = actual.rows
        return CrossValidation.permutationNull(
            features: stacked(actual, predicted), labels: [Bool](repeating: true, count: m) + [Bool](repeating: false, count: m),
            groups: Array(0..<m) + Array(0..<m), folds: folds, lambda: lambda, permutations: permutations, seed: seed,
            tolerance: svmTolerance, maxEpochs: svmMaxEpochs).map { Int(($0 * Double(2 * m)).rounded()) }
    }

    static func stacked(_ a: Matrix, _ b: Matrix) -> Matrix {
        Matrix(rows: a.rows + b.rows, columns: a.columns, storage: a.storage + b.storage)
    }

    /// XᵀX.
    static func gram(_ x: Matrix) -> Matrix { Matrix.product(x, x, transposeLeft: true) }

    /// Σ of squared entries.
    static func squaredNorm(_ x: Matrix) -> Double { x.storage.reduce(0) { $0 + $1 * $1 } }

    /// The variance (divisor N − 1) of each Cartesian coordinate of the residuals actual − predicted.
    static func residualVariances(actual: Matrix, predicted: Matrix) -> [Double] {
        let n = actual.rows, d = actual.columns
        var sums = [Double](repeating: 0, count: d), squares = sums
        for r in 0..<n {
            for i in 0..<d {
                let e = actual[r, i] - predicted[r, i]
                sums[i] += e
                squares[i] += e * e
            }
        }
        return (0..<d).map { (squares[$0] - sums[$0] * sums[$0] / Double(n)) / Double(n - 1) }
    }
}

private func - (a: Matrix, b: Matrix) -> Matrix {
    precondition(a.rows == b.rows && a.columns == b.columns, "matrix difference: \(a.rows)×\(a.columns) − \(b.rows)×\(b.columns)")
    return Matrix(rows: a.rows, columns: a.columns, storage: zip(a.storage, b.storage).map { $0 - $1 })
}
