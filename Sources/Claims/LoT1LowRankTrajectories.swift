import Analysis
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
/// t ≥ 3 (`max_k90_late`). Control `random-init` runs the same criteria on the random-init
/// model and must come out refuted: its trajectories fill the space (pilot PR 40–58,
/// k90 178–247 against PR 2–4, k90 42–112 trained), so both criteria fail.
public struct LoT1LowRankTrajectories: Claim {
    public let id = "LoT-1"
    public let title = "Pilot trajectories cluster on a low-dimensional manifold"
    public let source = "Sarfati, Liu, Boullé & Earls 2025, Lines of Thought in LLMs (arXiv 2410.01545), Fig. 1, Fig. 2a–b"
    public let controls = [RandomInitialization.controlName]

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
        let medianPR = Statistics.median(Array(ratios[judged...]))
        let maxK90 = Double(k90s[judged...].max()!)
        let k90Limit = 0.25 * Double(width)
        metrics += [
            Metric("median_pr_late", unit: "dimensions", value: medianPR),
            Metric("max_k90_late", unit: "dimensions", value: maxK90),
            Metric("min_k90_late", unit: "dimensions", value: Double(k90s[judged...].min()!)),
        ]
        let criteria = [
            Criterion("median participation ratio over t ≥ \(Self.firstJudgedLayer) ≤ 10", observed: medianPR, passed: medianPR <= 10),
            Criterion("k90 ≤ 0.25·D (\(k90Limit)) for all t ≥ \(Self.firstJudgedLayer)", observed: maxK90, passed: maxK90 <= k90Limit),
        ]
        return ClaimOutcome(judging: criteria, metrics: metrics,
                            notes: ["N = \(bases.sampleCount) trajectories, D = \(width), uncentered SVD per layer"])
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
