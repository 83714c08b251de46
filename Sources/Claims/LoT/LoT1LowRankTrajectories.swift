import Analysis
import Evidence
import Foundation

/// LoT-1 — pilot trajectories cluster on a low-dimensional manifold: fast singular-value
/// decay (Sarfati et al., *Lines of Thought in LLMs*, Fig. 1, Fig. 2a–b).
///
/// Method (claims spec §2 LoT-1): corpus P (Walden cut into non-overlapping N_k-token chunks,
/// sampling rule `.chunks`); the trajectory of a chunk is its last token's states h_1…h_L
/// (embedding excluded, pre-norm last point). Per layer t, the **uncentered** SVD of the
/// D×N matrix M(t) = [x₁(t) … x_N(t)] gives σ_i(t), from which:
/// - `participation_ratio` PR = (Σσ²)² / Σσ⁴;
/// - `k90`, the smallest k whose leading σ² reach 90 % of Σσ²;
/// - `sigma1_over_sigma2`, `sigma2_over_sigma10`, `sigma2_over_sigma100`;
/// - informational: `angle_u1`…`angle_u4` at layer t, the angle θ_i(t, t+1) = arccos|ψ_i(t)·ψ_i(t+1)|
///   in degrees between the aligned singular vectors of consecutive layers (Fig. 2a).
///
/// For the report only (not judged): `path<s>_u1/_u2` and `spectrum_t<t>`, see ``figureMetrics(_:)``.
///
/// Because the SVD is uncentered, σ₁ is the mean direction. N ≥ D is required (the run throws
/// ``ClaimError/insufficientData(_:)`` otherwise); the spec's full size is N = 1000, N_k = 50.
///
/// Pass: the median PR over t ≥ 3 is ≤ 10 (`median_pr_late`), and k90 ≤ 0.25·D for every
/// t ≥ 3 (`max_k90_late_fraction` = max k90 / D ≤ 0.25). Control `random-init` runs the same criteria on the random-init
/// model and must come out refuted: its trajectories fill the space (pilot PR 40–58,
/// k90 178–247 against PR 2–4, k90 42–112 trained), so both criteria fail.
public struct LoT1LowRankTrajectories: Claim {
    public let id = "LoT-1"
    public let title = "Pilot trajectories cluster on a low-dimensional manifold"
    public let source = "Sarfati, Liu, Boullé & Earls 2025, Lines of Thought in LLMs (arXiv 2410.01545), Fig. 1, Fig. 2a–b"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("median_pr_late_max", statistic: "median_pr_late", .atMost, 10,
                            "median participation ratio over t ≥ 3"),
        CriterionDefinition("max_k90_fraction_max", statistic: "max_k90_late_fraction", .atMost, 0.25,
                            "largest k90 over t ≥ 3, as a fraction of D"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .chunks, absolute: 4, perWidth: 1.25,
        reason: "each layer's basis must span ℝ^D with room to spare (claims spec §2 LoT-1: N ≥ 1.25·D)")
    public let uncertainty = """
        Delete-a-group jackknife over the trajectories (the suite's groups, default 10): the per-layer SVDs are refitted \
        without each group and the statistics recomputed; a Student-t interval around the full-sample estimate. A \
        bootstrap would refit 30 SVDs a thousand times.
        """

    public init() {}

    /// The first layer from which the criteria apply: early layers are still spreading the tokens out.
    static let firstJudgedLayer = 3

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let bases = try context.trajectoryBases(claim: id)
        let layers = bases.layerCount, width = bases.width
        var metrics: [Metric] = []
        var ratios: [Double] = [], k90s: [Int] = []
        for t in 1...layers {
            let sigma = bases.singularValues[t - 1]
            let pr = Statistics.participationRatio(singularValues: sigma)
            let k90 = Statistics.leadingCount(singularValues: sigma, fraction: 0.9)
            ratios.append(pr)
            k90s.append(k90)
            metrics.append(Metric("participation_ratio", layer: t, unit: "dimensions", value: pr))
            metrics.append(Metric("k90", layer: t, unit: "dimensions", value: Double(k90)))
            metrics.append(Metric("sigma1_over_sigma2", layer: t, unit: "ratio", value: sigma[0] / sigma[1]))
            metrics.append(Metric("sigma2_over_sigma10", layer: t, unit: "ratio", value: sigma[1] / sigma[9]))
            if sigma.count >= 100 {
                metrics.append(Metric("sigma2_over_sigma100", layer: t, unit: "ratio", value: sigma[1] / sigma[99]))
            }
        }
        for t in 1..<layers {
            let current = bases.aligned[t - 1], next = bases.aligned[t]
            for i in 0..<min(4, width) {
                var dot = 0.0
                for c in 0..<width { dot += current[i, c] * next[i, c] }
                let degrees = acos(min(1, abs(dot))) * 180 / Double.pi
                metrics.append(Metric("angle_u\(i + 1)", layer: t, unit: "degrees", value: degrees))
            }
        }

        metrics += Self.figureMetrics(bases)

        let judged = Self.firstJudgedLayer - 1
        guard layers > judged else {
            throw ClaimError.insufficientData("\(id) judges layers t ≥ \(Self.firstJudgedLayer), the model has only \(layers) blocks")
        }
        func summaries(_ spectra: [[Double]]) -> (medianPR: Double, maxK90Fraction: Double) {
            let late = spectra[judged...]
            return (Statistics.median(late.map { Statistics.participationRatio(singularValues: $0) }),
                    Double(late.map { Statistics.leadingCount(singularValues: $0, fraction: 0.9) }.max()!) / Double(width))
        }
        let medianPR = Statistics.median(Array(ratios[judged...]))
        let maxK90 = Double(k90s[judged...].max()!)
        let (jackknife, replicates) = try context.trajectoryJackknife(claim: id)
        let replicateSummaries = replicates.map { summaries($0.singularValues) }
        func interval(_ estimate: Double, _ values: [Double]) -> Interval {
            jackknife.interval(estimate: estimate, replicateValues: values, unit: "trajectories")
        }
        metrics += [
            Metric("median_pr_late", unit: "dimensions", value: medianPR, interval: interval(medianPR, replicateSummaries.map(\.medianPR))),
            Metric("max_k90_late", unit: "dimensions", value: maxK90),
            Metric("max_k90_late_fraction", unit: "fraction of D", value: maxK90 / Double(width),
                   interval: interval(maxK90 / Double(width), replicateSummaries.map(\.maxK90Fraction))),
            Metric("min_k90_late", unit: "dimensions", value: Double(k90s[judged...].min()!)),
        ]
        return ClaimOutcome(metrics: metrics,
                            notes: ["N = \(bases.sampleCount) trajectories, D = \(width), uncentered SVD per layer; jackknife over \(jackknife.groups.count) groups"])
    }

    /// How many trajectories the report draws in the plane of the top two directions (Fig. 1).
    public static let drawnTrajectories = 5
    /// The singular-value ranks recorded for the spectrum figure (log-spaced, clipped to min(N, D)).
    public static let spectrumRanks = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024]

    /// Recorded only for the report's figures, never judged:
    /// - `path<s>_u1`, `path<s>_u2` at layer t: the projections ⟨x_s(t), ψ₁(t)⟩, ⟨x_s(t), ψ₂(t)⟩ of the first
    ///   ``drawnTrajectories`` trajectories onto the per-layer *aligned* singular vectors (the bases of
    ///   ``TrajectoryBases``, sign-continuous across layers, as the paper's Fig. 1 uses), so one
    ///   x–y line per trajectory, joined in layer order, is its path through the plane;
    /// - `spectrum_t<t>` at layer k (a rank of ``spectrumRanks``): σ_k(t)/σ₁(t), for t ≈ 1, L/3, 2L/3, L.
    static func figureMetrics(_ bases: TrajectoryBases) -> [Metric] {
        let layers = bases.layerCount, width = bases.width
        var metrics: [Metric] = []
        for sample in 0..<min(drawnTrajectories, bases.sampleCount) {
            for t in 1...layers {
                let x = bases.states[t - 1], psi = bases.aligned[t - 1]
                for direction in 0..<min(2, psi.rows) {
                    var projection = 0.0
                    for c in 0..<width { projection += x[sample, c] * psi[direction, c] }
                    metrics.append(Metric("path\(sample)_u\(direction + 1)", layer: t,
                                          unit: "projection on aligned ψ\(direction + 1)(t) (layer = t)", value: projection))
                }
            }
        }
        let spectrumLayers = Array(Set([1, max(1, layers / 3), max(1, 2 * layers / 3), layers])).sorted()
        for t in spectrumLayers {
            let sigma = bases.singularValues[t - 1]
            for k in spectrumRanks where k <= sigma.count {
                metrics.append(Metric(String(format: "spectrum_t%02d", t), layer: k,
                                      unit: "σ_k/σ₁ (layer = rank k)", value: sigma[k - 1] / sigma[0]))
            }
        }
        return metrics
    }
}
