import Analysis
import Evidence
import Engine

/// SR-3 — stable regions align with semantics: prompts with similar endings lie in one region,
/// so interpolating between them is smooth (Janiak et al. 2024, Appendix G, notebook
/// `max_deriv_sem.ipynb`).
///
/// Method (claims spec §3 SR-3): a seeded pool of 10-token Walden windows (rule `.windows`,
/// `sampling.count` windows; random pairs rarely share an ending, so the pool is larger than
/// SR-1's). Pairs are chosen deterministically:
/// - "similar": two windows ending in the same token id. Windows are grouped by last token in
///   order of first appearance; groups are visited round-robin and each visit pairs the next two
///   unused members, so one frequent token (",") cannot fill the quota. Identical windows are skipped.
/// - "dissimilar": consecutive pool windows (k, k+1), from the first 2·`pairs` + 1 windows, with
///   different last tokens and different top-1 next-token predictions of the clean model.
/// Only the windows some pair uses are run through the model.
/// Each group gets up to `pairs` pairs. Sharpness is SR-1's (``StableRegionProbe``: write after
/// block 1, final-norm readout, S values).
///
/// Pass: median sharpness(similar) < median sharpness(dissimilar), and the difference is
/// significant under a one-sided label-permutation test (p ≤ 0.05, 2,000 seeded permutations of
/// the similar/dissimilar labels over the pooled pairs). The shares of pairs below 1.2 and above
/// 10 are recorded per group.
///
/// Control `shuffled-labels`: the similar/dissimilar labels are permuted once (seeded) before the
/// statistics, so the groups are random halves of the same pairs; the medians then differ only by
/// chance and the permutation test must fail — refuted. (Random-init is not used: its curves are
/// all near-linear, so sharpness carries no region structure either way and a comparison of two
/// medians near 1.07 would be uninformative rather than a failure.)
///
/// Parameters: `pairs` (per group, default 120), `steps` (S, default 21), `permutations` (2000).
public struct SR3SemanticRegions: Claim {
    public let id = "SR-3"
    public let title = "Stable regions align with semantics: similar prompts interpolate smoothly, dissimilar ones sharply"
    public let source = "Janiak et al. 2024, Characterizing stable regions in the residual stream of LLMs (arXiv 2409.17113), App. G"
    public static let shuffledLabels = "shuffled-labels"
    public let controls = [SR3SemanticRegions.shuffledLabels]
    public let criteria = [
        CriterionDefinition("median_difference_min", statistic: "median_difference", .greaterThan, 0,
                            "median sharpness(dissimilar) − median sharpness(similar)"),
        CriterionDefinition("permutation_p_max", statistic: "permutation_p", .atMost, 0.05,
                            "one-sided label-permutation p of the median difference"),
    ]
    public let parameters = [
        ParameterSpec("pairs", .int, "pairs per group (default 120)"),
        ParameterSpec("steps", .int, "interpolation points S (default 21)"),
        ParameterSpec("permutations", .int, "label permutations of the test (default 2000)"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .windows, absolute: 20, reason: "similar pairs need windows that share a last token")
    public let uncertainty = """
        The median difference: percentile bootstrap over the pairs, stratified by group (similar and dissimilar pairs         resampled separately). The permutation p: the Clopper–Pearson interval of its Monte Carlo estimate (the count         of permutations at least as extreme, out of the permutations run).
        """

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let perGroup = context.parameters.int("pairs", default: 120)
        let steps = context.parameters.int("steps", default: 21)
        let permutations = context.parameters.int("permutations", default: 2000)
        guard perGroup >= 3, steps >= 3, permutations >= 100 else {
            throw ClaimError.insufficientData("SR-3 needs pairs ≥ 3, steps ≥ 3 and permutations ≥ 100; got \(perGroup), \(steps), \(permutations)")
        }
        let sampling = try context.requireSampling(id)
        let pool = try context.sequences(.windows)
        // The curves do not depend on the subject (the control only relabels), so they are computed once.
        let key = "SR-3/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)/\(context.seed)/\(perGroup)/\(steps)"
        let measured = try context.resources.memoized(key) { try Self.measure(context, pool: pool, perGroup: perGroup, steps: steps) }
        let summary = (sharpness: measured.sharpness, kept: measured.kept)
        let similar = measured.similar, dissimilar = measured.dissimilar
        var labels = summary.kept.map { $0 < similar.count }
        if context.subject == .control(Self.shuffledLabels) {
            var rng = PCG64(seed: context.seed, stream: 31)
            rng.shuffle(&labels)
        }
        let similarSharpness = zip(summary.sharpness, labels).filter { $0.1 }.map(\.0)
        let dissimilarSharpness = zip(summary.sharpness, labels).filter { !$0.1 }.map(\.0)
        guard similarSharpness.count >= 3, dissimilarSharpness.count >= 3 else {
            throw ClaimError.insufficientData("SR-3 kept \(similarSharpness.count) similar and \(dissimilarSharpness.count) dissimilar "
                + "pairs after dropping d(1) < 1e-6; raise sampling.count")
        }
        let difference = Statistics.median(dissimilarSharpness) - Statistics.median(similarSharpness)

        // One-sided permutation test of the median difference: how often random labels do as well.
        var rng = PCG64(seed: context.seed, stream: 32)
        var shuffled = labels
        var atLeast = 0
        for _ in 0..<permutations {
            rng.shuffle(&shuffled)
            let a = zip(summary.sharpness, shuffled).filter { $0.1 }.map(\.0)
            let b = zip(summary.sharpness, shuffled).filter { !$0.1 }.map(\.0)
            if Statistics.median(b) - Statistics.median(a) >= difference { atLeast += 1 }
        }
        let p = Double(atLeast + 1) / Double(permutations + 1)
        let level = context.resampling.level
        // The Monte Carlo p's interval: (atLeast + 1) of (permutations + 1), the observed labelling counted.
        let pInterval = ExactIntervals.binomial(successes: atLeast + 1, trials: permutations + 1, level: level,
                                                sampleSize: summary.sharpness.count, unit: "permutations")
        // The difference's interval: each group's pairs resampled on their own.
        let similarBootstrap = Bootstrap(sampleCount: similarSharpness.count, settings: context.resampling, seed: context.seed)
        let dissimilarBootstrap = Bootstrap(sampleCount: dissimilarSharpness.count, settings: context.resampling, seed: context.seed &+ 1)
        let replicateDifferences = zip(similarBootstrap.indices, dissimilarBootstrap.indices).map { a, b in
            Statistics.medianIgnoringNaN(b.map { dissimilarSharpness[$0] }) - Statistics.medianIgnoringNaN(a.map { similarSharpness[$0] })
        }
        let differenceInterval = Bootstrap.percentileInterval(replicateDifferences, level: level,
                                                              sampleSize: summary.sharpness.count, unit: "pairs (stratified)")

        var metrics: [Metric] = []
        for (name, values) in [("similar", similarSharpness), ("dissimilar", dissimilarSharpness)] {
            metrics += [
                Metric("sharpness_median_\(name)", unit: "sharpness", value: Statistics.median(values)),
                Metric("sharpness_q25_\(name)", unit: "sharpness", value: Statistics.quantile(values, 0.25)),
                Metric("sharpness_q75_\(name)", unit: "sharpness", value: Statistics.quantile(values, 0.75)),
                Metric("share_below_1.2_\(name)", unit: "fraction", value: Self.share(values) { $0 < 1.2 }),
                Metric("share_above_10_\(name)", unit: "fraction", value: Self.share(values) { $0 > 10 }),
                Metric("pairs_\(name)", unit: "pairs", value: Double(values.count)),
            ]
        }
        metrics += [
            Metric("median_difference", unit: "sharpness", value: difference, interval: differenceInterval),
            Metric("permutation_p", unit: "p", value: p, interval: pInterval),
            Metric("pool_windows", unit: "windows", value: Double(pool.count)),
            Metric("windows_run", unit: "windows", value: Double(measured.windowsRun)),
        ]
        return ClaimOutcome(metrics: metrics, notes: [
            "pool of \(pool.count) windows (\(measured.windowsRun) run); \(similar.count) same-last-token pairs over "
                + "\(Set(similar.map { pool[$0.0].last! }).count) distinct last tokens, \(dissimilar.count) dissimilar consecutive pairs; S = \(steps)",
        ] + (context.subject == .control(Self.shuffledLabels) ? ["labels permuted once (seeded) before the statistics"] : []))
    }

    /// Pairs and their sharpness (final-norm readout); `kept` indexes `similar + dissimilar`.
    struct Measurement: Sendable {
        var similar: [(Int, Int)]
        var dissimilar: [(Int, Int)]
        var sharpness: [Double]
        var kept: [Int]
        /// How many pool windows were prefilled (those some pair uses).
        var windowsRun: Int
    }

    static func measure(_ context: ClaimContext, pool: [[Int]], perGroup: Int, steps: Int) throws -> Measurement {
        // Similar pairs need only token ids; dissimilar pairs need the clean top-1 prediction of
        // consecutive windows from the start of the pool. Only the windows some pair uses are run.
        let similar = similarPairs(pool, limit: perGroup)
        let candidates = min(pool.count, 2 * perGroup + 1)
        let used = Array(Set(similar.flatMap { [$0.0, $0.1] }).union(0..<candidates)).sorted()
        let slot = Dictionary(uniqueKeysWithValues: used.enumerated().map { ($1, $0) })
        let model = try context.resources.trainedModel()
        let probe = try StableRegionProbe(model: model, prompts: used.map { pool[$0] })
        let top1 = try topPredictions(model: model, normed: (0..<candidates).map { probe.cleanNormed[slot[$0]!] })
        let dissimilar = dissimilarPairs(Array(pool.prefix(candidates)), top1: top1, limit: perGroup)
        guard similar.count >= 3, dissimilar.count >= 3 else {
            throw ClaimError.insufficientData("SR-3 found \(similar.count) similar and \(dissimilar.count) dissimilar pairs in "
                + "\(pool.count) windows; raise sampling.count")
        }
        let pairs = (similar + dissimilar).map { (slot[$0.0]!, slot[$0.1]!) }
        let curves = try probe.curves(pairs: pairs, alphas: StableRegionProbe.grid(steps), readouts: [.normed])
        let summary = StableRegionProbe.summarize(curves[.normed] ?? [])
        return Measurement(similar: similar, dissimilar: dissimilar, sharpness: summary.sharpness, kept: summary.kept,
                           windowsRun: used.count)
    }

    static func share(_ values: [Double], _ predicate: (Double) -> Bool) -> Double {
        Double(values.filter(predicate).count) / Double(values.count)
    }

    /// The clean model's top-1 next token per prompt, from its final-norm outputs.
    static func topPredictions(model: any ResidualModel, normed: [[Float]]) throws -> [Int] {
        let vocabulary = model.configuration.vocabularySize
        var result: [Int] = []
        // Chunks bound the logits buffer (rows × vocabulary floats).
        for first in stride(from: 0, to: normed.count, by: 128) {
            let chunk = normed[first ..< min(normed.count, first + 128)]
            let logits = try model.logits(fromNormalized: chunk.flatMap { $0 }, rows: chunk.count)
            for r in 0..<chunk.count {
                let row = logits[r * vocabulary ..< (r + 1) * vocabulary]
                result.append(row.indices.max { row[$0] < row[$1] }! - r * vocabulary)
            }
        }
        return result
    }

    /// Same-last-token pairs, round-robin over last-token groups in order of first appearance.
    static func similarPairs(_ pool: [[Int]], limit: Int) -> [(Int, Int)] {
        var order: [Int] = [], groups: [Int: [Int]] = [:]
        for (k, window) in pool.enumerated() {
            let last = window.last!
            if groups[last] == nil { order.append(last) }
            groups[last, default: []].append(k)
        }
        var next = [Int: Int](), pairs: [(Int, Int)] = []
        var progressed = true
        while pairs.count < limit && progressed {
            progressed = false
            for token in order where pairs.count < limit {
                let members = groups[token]!
                var i = next[token, default: 0]
                // Skip to the next member that is a different window from the current one.
                while i + 1 < members.count {
                    let a = members[i]
                    guard let j = members[(i + 1)...].firstIndex(where: { pool[$0] != pool[a] }) else { break }
                    pairs.append((a, members[j]))
                    progressed = true
                    i = j + 1
                    break
                }
                next[token] = i
            }
        }
        return pairs
    }

    /// Consecutive pool windows with different last tokens and different top-1 predictions.
    static func dissimilarPairs(_ pool: [[Int]], top1: [Int], limit: Int) -> [(Int, Int)] {
        var pairs: [(Int, Int)] = []
        for k in 0 ..< pool.count - 1 where pairs.count < limit {
            if pool[k].last! != pool[k + 1].last! && top1[k] != top1[k + 1] { pairs.append((k, k + 1)) }
        }
        return pairs
    }
}
