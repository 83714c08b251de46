import Analysis
import Evidence
import Engine

/// SR-slice — a 2-D slice through three anchors shows flat regions with sharp boundaries for a
/// trained model and a smooth gradient for random init (Janiak et al. 2024, Fig. 1, code
/// `scripts/2d_slice.py`; claims spec §4 "2-D slices").
///
/// Method: triplets of consecutive Walden windows (rule `.windows`) give anchors A, B, C, the
/// residuals after block 1 at their last positions. The plane is X(α, β) = A + α(B − A) + β(C − P),
/// with P the projection of C onto the line AB, on a G × G grid of α, β ∈ [−0.25, 1.25]. Each grid
/// point is run in each anchor's own context (``StableRegionProbe``), and scored by the distance of
/// the final-norm output from that anchor's clean output, d_k(X). The nearest anchor labels the point.
/// - boundary density: the share of horizontally or vertically adjacent grid points whose labels differ;
/// - plateau share: the share of grid points with min_k d_k(X)/s_k ≤ 0.2, where s_k is the mean
///   distance of the other two anchors' points from anchor k's output in k's context (flat regions
///   put many points at almost the anchor's output; a gradient does not).
/// Both models are run in one check (trained and the random-init twin) and the first triplet's
/// label grids are recorded (`nearest_anchor`, `nearest_anchor_ri`, layer = row-major index
/// β-row · G + α-column) for a figure.
///
/// Informational: the spec gives no threshold, and nearest-anchor labels partition the plane for
/// any model (a linear map gives straight Voronoi-like boundaries), so boundary density alone need
/// not separate trained from random weights; the plateau share is the contrast.
///
/// Parameters: `triplets` (default 8), `grid` (G, default 13).
public struct SR2DSlice: Claim {
    public let id = "SR-slice"
    public let title = "A 2-D slice through three anchors shows flat regions with sharp boundaries; random init is a gradient"
    public let source = "Janiak et al. 2024, Characterizing stable regions in the residual stream of LLMs (arXiv 2409.17113), Fig. 1"
    public let controls: [String] = []
    public let criteria = [
        CriterionDefinition("plateau_share_difference_min", statistic: "plateau_share_difference", .greaterThan, 0,
                            "plateau share of the trained model minus that of random-init (same triplets)"),
    ]
    public let parameters = [
        ParameterSpec("triplets", .int, "anchor triplets, three consecutive windows each (default 8)"),
        ParameterSpec("grid", .int, "grid points per axis G (default 13)"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .windows, absolute: 6, reason: "at least two triplets of windows")
    public let uncertainty = """
        Percentile bootstrap over the anchor triplets, the trained and random-init slices of a triplet resampled together.
        """

    public init() {}

    struct Slice {
        var labels: [Int]
        var boundaryDensity: Double
        var plateauShare: Double
    }

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let tripletCount = context.parameters.int("triplets", default: 8)
        let size = context.parameters.int("grid", default: 13)
        guard tripletCount >= 1, size >= 3 else {
            throw ClaimError.insufficientData("SR-slice needs triplets ≥ 1 and grid ≥ 3, got \(tripletCount), \(size)")
        }
        let prompts = try context.sequences(.windows)
        guard prompts.count >= 3 * tripletCount else {
            throw ClaimError.insufficientData("SR-slice needs 3 windows per triplet: \(3 * tripletCount) for \(tripletCount) triplets, "
                + "got \(prompts.count); raise sampling.count")
        }
        let coordinates = (0..<size).map { -0.25 + 1.5 * Double($0) / Double(size - 1) }
        var metrics: [Metric] = []
        var summaries: [String: (density: Double, plateau: Double)] = [:]
        var plateaus: [String: [Double]] = [:]
        for (suffix, model) in [("", try context.resources.trainedModel()), ("_ri", try context.resources.randomInitModel())] {
            let probe = try StableRegionProbe(model: model, prompts: Array(prompts.prefix(3 * tripletCount)))
            var slices: [Slice] = []
            for t in 0..<tripletCount {
                slices.append(try Self.slice(probe, anchors: [3 * t, 3 * t + 1, 3 * t + 2], coordinates: coordinates))
            }
            let density = Statistics.mean(slices.map(\.boundaryDensity))
            let plateau = Statistics.mean(slices.map(\.plateauShare))
            summaries[suffix] = (density, plateau)
            plateaus[suffix] = slices.map(\.plateauShare)
            metrics += [
                Metric("boundary_density" + suffix, unit: "fraction of adjacent grid pairs", value: density),
                Metric("plateau_share" + suffix, unit: "fraction of grid points", value: plateau),
            ]
            for (k, label) in slices[0].labels.enumerated() {
                metrics.append(Metric("nearest_anchor" + suffix, layer: k,
                                      unit: "anchor 0/1/2 (layer = β-row·\(size) + α-column, α, β from −0.25 to 1.25)",
                                      value: Double(label)))
            }
        }
        let trained = summaries[""]!, random = summaries["_ri"]!
        let bootstrap = context.bootstrap(tripletCount)
        let differences = bootstrap.indices.map { drawn in
            Statistics.mean(drawn.map { plateaus[""]![$0] }) - Statistics.mean(drawn.map { plateaus["_ri"]![$0] })
        }
        metrics.append(Metric("plateau_share_difference", unit: "fraction of grid points", value: trained.plateau - random.plateau,
                              interval: bootstrap.interval(differences, unit: "triplets")))
        return ClaimOutcome(metrics: metrics, notes: [
            "\(tripletCount) triplets of consecutive windows, \(size)×\(size) grid; boundary density trained \(trained.density), "
                + "random-init \(random.density); plateau share trained \(trained.plateau), random-init \(random.plateau)",
            "informational: the spec gives no threshold for the slice",
        ], informational: true)
    }

    /// The nearest-anchor labels and summaries of one plane through the anchors of three prompts.
    static func slice(_ probe: StableRegionProbe, anchors prompts: [Int], coordinates: [Double]) throws -> Slice {
        let a = probe.anchors[prompts[0]].map(Double.init)
        let b = probe.anchors[prompts[1]].map(Double.init)
        let c = probe.anchors[prompts[2]].map(Double.init)
        let ab = zip(b, a).map { $0 - $1 }
        let t = zip(zip(c, a).map { $0 - $1 }, ab).map { $0 * $1 }.reduce(0, +) / ab.map { $0 * $0 }.reduce(0, +)
        let offAxis = c.indices.map { c[$0] - (a[$0] + t * ab[$0]) }  // C − P
        let size = coordinates.count
        var points: [[Float]] = []
        for beta in coordinates {
            for alpha in coordinates {
                points.append(a.indices.map { Float(a[$0] + alpha * ab[$0] + beta * offAxis[$0]) })
            }
        }
        // Every grid point in every anchor's context, then each anchor's scale rows: the other anchors' states.
        var rows: [ResumeRow] = []
        for k in prompts { rows += points.map { ResumeRow(prompt: k, residual: $0) } }
        for k in prompts { for j in prompts where j != k { rows.append(ResumeRow(prompt: k, residual: probe.anchors[j])) } }
        let normed = try probe.run(rows).normed
        let d = probe.model.configuration.modelWidth
        func distance(row: Int, to prompt: Int) -> Double {
            let clean = probe.cleanNormed[prompt]
            var sum = 0.0
            for i in 0..<d {
                let difference = Double(normed[row * d + i]) - Double(clean[i])
                sum += difference * difference
            }
            return sum.squareRoot()
        }
        let scaleBase = prompts.count * points.count
        let scales = prompts.enumerated().map { k, prompt in
            (distance(row: scaleBase + 2 * k, to: prompt) + distance(row: scaleBase + 2 * k + 1, to: prompt)) / 2
        }
        var labels: [Int] = [], plateau = 0
        for g in points.indices {
            let distances = prompts.enumerated().map { k, prompt in distance(row: k * points.count + g, to: prompt) }
            let nearest = distances.indices.min { distances[$0] < distances[$1] }!
            labels.append(nearest)
            if distances[nearest] / max(scales[nearest], 1e-30) <= 0.2 { plateau += 1 }
        }
        var adjacent = 0, differing = 0
        for row in 0..<size {
            for column in 0..<size {
                let here = labels[row * size + column]
                if column + 1 < size { adjacent += 1; if labels[row * size + column + 1] != here { differing += 1 } }
                if row + 1 < size { adjacent += 1; if labels[(row + 1) * size + column] != here { differing += 1 } }
            }
        }
        return Slice(labels: labels, boundaryDensity: Double(differing) / Double(adjacent),
                     plateauShare: Double(plateau) / Double(points.count))
    }
}
