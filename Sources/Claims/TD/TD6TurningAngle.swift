import Analysis
import Evidence
import Foundation

/// TD-6 — trajectories curve, then straighten (Fernando & Guitchounts, *Transformer
/// Dynamics*, PCA/CAE trajectories in the author thread).
///
/// Method (claims spec §1 TD-6), on the last-token states of TD-1's WikiText paragraphs: per
/// sample, the full-space turning angle φ_l = arccos cos(Δ_{l−1}, Δ_l) with
/// Δ_l = h_{l+1} − h_l, in degrees, for l = 1…L−1 (recorded as `phi[l]`), averaged over samples.
/// Φ_early, Φ_mid and Φ_late are the mean φ over the thirds of the depth, an angle belonging to
/// the third of its vertex h_l (§0.7: φ_1…φ_10 / φ_11…φ_20 / φ_21…φ_29 for L = 30), and the
/// straightening score is S = Φ_mid − Φ_late. The reduced-space
/// variant is recorded next to it: every state is scaled to unit norm, the states of all layers
/// and samples are pooled for one PCA, and the angles are measured between the steps projected
/// onto the first 2 and 3 PCs (angles in 2-D projections are unstable, so they are not judged).
///
/// Pass: S ≥ 5° and Φ_late ≤ 88°. The random-init control runs the same criteria and must be
/// refuted: random increments are nearly orthogonal, so its φ stays within 3° of 90° at every
/// layer (recorded as `max_deviation_from_90`; pilot 90 ± 1°).
public struct TD6TurningAngle: Claim {
    public let id = "TD-6"
    public let title = "Trajectories curve, then straighten"
    public let source = "Fernando & Guitchounts 2025, Transformer Dynamics (arXiv 2502.12131), author thread"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("straightening_min", statistic: "straightening", .atLeast, 5,
                            "straightening S = Φ_mid − Φ_late, in degrees"),
        CriterionDefinition("phi_late_max", statistic: "phi_late", .atMost, 88, "Φ_late, the mean turning angle of the late third, in degrees"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .paragraphs, absolute: 5, reason: "a mean angle over samples and its bootstrap need more than a handful of samples")
    public let uncertainty = """
        Percentile bootstrap over the prompts: each replicate re-averages the per-sample turning angles and recomputes \
        Φ per third and S. The reduced-space (PCA) variants are recorded without intervals (they are not judged).
        """

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let states = try context.lastPositionStates(.paragraphs)
        let blocks = states.blockCount
        guard blocks >= 4, states.sampleCount >= 2 else {
            throw ClaimError.insufficientData("TD-6 needs ≥ 4 blocks and ≥ 2 paragraphs, got \(blocks) blocks and \(states.sampleCount) paragraphs")
        }
        let thirds = try DepthThirds(layers: blocks)
        let trajectories = (0..<states.sampleCount).map { s in (0...blocks).map { states.residual[$0].row(s) } }
        let perSample = Self.turningAngles(trajectories)
        let full = Self.columnMeans(perSample)

        // Intervals: every resample of the prompts re-averages the per-sample angles.
        let bootstrap = context.bootstrap(states.sampleCount)
        let replicateMeans = Matrix.product(bootstrap.meanWeights(), perSample)
        let replicates = (0..<bootstrap.replicates).map { r in Self.summary(replicateMeans.row(r), thirds: thirds) }
        func interval(_ value: (Summary) -> Double) -> Interval { bootstrap.interval(replicates.map(value), unit: "prompts") }

        var metrics: [Metric] = []
        for (i, phi) in full.enumerated() {
            metrics.append(Metric("phi", layer: i + 1, unit: "degrees", value: phi,
                                  interval: bootstrap.interval((0..<bootstrap.replicates).map { replicateMeans[$0, i] }, unit: "prompts")))
        }
        let summary = Self.summary(full, thirds: thirds)
        metrics += [
            Metric("phi_early", unit: "degrees", value: summary.early, interval: interval(\.early)),
            Metric("phi_mid", unit: "degrees", value: summary.middle, interval: interval(\.middle)),
            Metric("phi_late", unit: "degrees", value: summary.late, interval: interval(\.late)),
            Metric("straightening", unit: "degrees", value: summary.straightening, interval: interval(\.straightening)),
            Metric("phi_first_two", unit: "degrees", value: mean(Array(full.prefix(2)))),
            Metric("max_deviation_from_90", unit: "degrees", value: full.map { abs($0 - 90) }.max()!),
        ]

        // Reduced space: one PCA of all unit-norm states pooled over layers and samples.
        let projected = try Self.projectedTrajectories(trajectories, components: 3)
        for components in [2, 3] {
            let angles = Self.columnMeans(Self.turningAngles(projected.map { $0.map { Array($0.prefix(components)) } }))
            let reduced = Self.summary(angles, thirds: thirds)
            for (i, phi) in angles.enumerated() {
                metrics.append(Metric("phi_pc\(components)", layer: i + 1, unit: "degrees", value: phi))
            }
            metrics += [
                Metric("phi_pc\(components)_early", unit: "degrees", value: reduced.early),
                Metric("phi_pc\(components)_mid", unit: "degrees", value: reduced.middle),
                Metric("phi_pc\(components)_late", unit: "degrees", value: reduced.late),
                Metric("straightening_pc\(components)", unit: "degrees", value: reduced.straightening),
            ]
        }

        metrics += thirds.metrics
        var notes = ["thirds of the depth: layers \(thirds.summary); an angle belongs to the third of its vertex h_l"]
        if context.subject == .control(RandomInitialization.controlName) {
            let deviation = full.map { abs($0 - 90) }.max()!
            notes.append(deviation < 3
                ? "random-init stays within \(String(format: "%.2f", deviation))° of 90° at every layer, as the spec requires"
                : "random-init leaves the spec's 90° ± 3° band (max deviation \(String(format: "%.2f", deviation))°)")
        }
        return ClaimOutcome(metrics: metrics, notes: notes)
    }

    /// The turning angle between consecutive steps of every trajectory, in degrees, `[N × (count − 2)]`:
    /// column l − 1 is φ_l = arccos cos(x_l − x_{l−1}, x_{l+1} − x_l), for l = 1…count − 2.
    static func turningAngles(_ trajectories: [[[Double]]]) -> Matrix {
        let length = trajectories[0].count
        var angles = Matrix(rows: trajectories.count, columns: length - 2)
        for (s, trajectory) in trajectories.enumerated() {
            let steps = (0..<(length - 1)).map { l in zip(trajectory[l + 1], trajectory[l]).map { $0 - $1 } }
            for l in 1..<(length - 1) {
                let cosine = min(1, max(-1, Statistics.cosineSimilarity(steps[l - 1], steps[l])))
                angles[s, l - 1] = acos(cosine) * 180 / .pi
            }
        }
        return angles
    }

    /// The mean of each column, summed in row order.
    static func columnMeans(_ m: Matrix) -> [Double] {
        var sums = [Double](repeating: 0, count: m.columns)
        for r in 0..<m.rows { for c in 0..<m.columns { sums[c] += m[r, c] } }
        return sums.map { $0 / Double(m.rows) }
    }

    struct Summary {
        var early: Double, middle: Double, late: Double
        var straightening: Double { middle - late }
    }

    /// Φ over the thirds of the depth, `angles[l − 1]` being φ_l (vertex h_l), and S = Φ_mid − Φ_late.
    static func summary(_ angles: [Double], thirds: DepthThirds) -> Summary {
        func third(_ t: DepthThirds.Third) -> Double {
            mean(angles.indices.filter { thirds.third(ofVertex: $0 + 1) == t }.map { angles[$0] })
        }
        return Summary(early: third(.early), middle: third(.middle), late: third(.late))
    }

    /// Every state scaled to unit norm, then projected onto the leading `components` principal
    /// axes of all those states pooled (centred on their pooled mean).
    static func projectedTrajectories(_ trajectories: [[[Double]]], components: Int) throws -> [[[Double]]] {
        let width = trajectories[0][0].count
        let unit = trajectories.map { $0.map { state -> [Double] in
            let norm = state.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? state.map { $0 / norm } : state
        } }
        let pooled = unit.flatMap { $0 }
        var centred = Matrix(pooled)
        let centre = (0..<width).map { c in pooled.reduce(0) { $0 + $1[c] } / Double(pooled.count) }
        centred.withUnsafeMutableStorage { storage in
            for r in 0..<pooled.count {
                for c in 0..<width { storage[r * width + c] -= centre[c] }
            }
        }
        let covariance = Matrix.product(centred, centred, transposeLeft: true)
        let eigen = try covariance.symmetricEigendecomposition()
        // Eigenvalues ascend: the leading axes are the last columns.
        let axes = (0..<components).map { eigen.vectors.column(width - 1 - $0) }
        return unit.map { trajectory in
            trajectory.map { state in axes.map { axis in zip(state, axis).reduce(0) { $0 + $1.0 * $1.1 } } }
        }
    }
}
