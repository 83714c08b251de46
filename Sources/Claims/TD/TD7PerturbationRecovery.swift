import Analysis
import Profiling
import Engine
import Evidence

/// TD-7 — a perturbation self-corrects toward the unperturbed trajectory (pseudo-attractor),
/// most strongly in lower layers (Fernando & Guitchounts, *Transformer Dynamics*; author thread).
///
/// Method (claims spec §1 TD-7): a centered PCA (SVD of the centered states) of the
/// last-position inputs to each injection block, from N WikiText paragraphs (rule
/// `.paragraphs`), gives per layer the mean μ, the first two PCs u₁, u₂ and their score SDs.
/// The seed prompt "I'm sorry, Dave. I'm afraid I can't do that." (tokenized with special
/// tokens, so a BOS model gets its BOS; SmolLM2 gives 15 tokens, as the split rule separates
/// "'m" and "'t" — the spec's 13 is a miscount) is prefilled once; at each injection
/// residual index l only its last position x is edited and resumed from l against the cached
/// prefix. Grid: c₁, c₂ ∈ {−2, −1, 0, 1, 2} without (0, 0), 24 points. Perturbations:
/// - shift: x′ = x + δ, δ = c₁·sd₁·u₁ + c₂·sd₂·u₂;
/// - teleport: x′ = μ + c₁·sd₁·u₁ + c₂·sd₂·u₂ (the grid point mapped back from PC space,
///   discarding all off-plane content of x), δ = x′ − x;
/// - random: a seeded Gaussian direction scaled to the shift's ‖δ‖ at the same grid point.
/// With Δ_j = x′_j − x_j downstream: kept fraction κ = ⟨Δ_L, δ⟩/‖δ‖² at the final pre-norm
/// state (1 = carried along unchanged, < 1 = counteracted), amplification ‖Δ_L‖/‖δ‖, and the
/// TD-style return ratio: Δ's distance in PC-SD units of layer j = min(l + 4, L) over δ's at
/// l (shift and teleport; recorded, never gated, because a fixed δ shrinks in SD units merely
/// as the ensemble spreads with depth). Each metric is the median over every (prompt, grid
/// point): the seed prompt and, by default, 7 more WikiText paragraphs taken after the PCA
/// sample (held out from the PCA), so κ is not the property of one sentence.
///
/// The recovery curve `recovery_lNN` (layer = downstream residual k, l < k ≤ L) is the median
/// over the grid of ‖Δ_k‖/‖δ‖ for shift perturbations injected at l: the figure of the report.
///
/// Pass: κ(shift) ≤ 0.5 at the two earliest injection layers, and Spearman(injection layer,
/// κ(shift)) ≥ 0.8. The random-init control must come out refuted: its blocks are small next
/// to the residual, so a perturbation is carried along nearly unchanged (pilot κ 0.99–1.12 at
/// every layer) and the early-layer κ criterion fails.
///
/// Parameters: `layers` (injection residual indices; by default five spread evenly over the
/// model's depth, which for SmolLM2's 30 blocks are the spec's 0/7/14/22/29) and
/// `extra_prompts` (held-out paragraphs injected besides the seed prompt; default 7).
///
/// Intervals: a two-stage bootstrap, prompts then grid points within each drawn prompt, of the
/// medians over (prompt, grid point); the Spearman trend is recomputed on each replicate.
public struct TD7PerturbationRecovery: Claim {
    public let id = "TD-7"
    public let title = "A perturbation self-corrects toward the unperturbed trajectory, most strongly in lower layers"
    public let source = "Fernando & Guitchounts 2025, Transformer Dynamics (arXiv 2502.12131), author thread (teleportation)"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("kappa_first_max", statistic: "kappa_shift_first", .atMost, 0.5,
                            "kept fraction κ(shift) at the earliest injection layer"),
        CriterionDefinition("kappa_second_max", statistic: "kappa_shift_second", .atMost, 0.5,
                            "kept fraction κ(shift) at the second injection layer"),
        CriterionDefinition("spearman_kappa_min", statistic: "spearman_kappa_shift", .atLeast, 0.8,
                            "Spearman(injection layer, κ(shift))"),
    ]
    public let parameters = [
        ParameterSpec("layers", .ints, "injection residual indices (default: five spread over the depth)"),
        ParameterSpec("extra_prompts", .int, "held-out WikiText paragraphs injected besides the seed prompt (default 7)"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .paragraphs, absolute: 5, reason: "the per-layer PCA needs at least a few states")
    public let uncertainty = """
        Two-stage percentile bootstrap: the prompts (seed prompt and held-out paragraphs) are resampled, then the 24 \
        grid points within each drawn prompt; each replicate takes the medians over (prompt, grid point) and the \
        Spearman trend again. The PCA plane is held at the full sample: refitting it would need new forward passes.
        """

    public static let seedPrompt = "I'm sorry, Dave. I'm afraid I can't do that."

    public init() {}

    /// Five injection indices at 0, ¼, ½, ¾ and the end of the depth (0…L−1), rounded half to even.
    public static func defaultLayers(blocks: Int) -> [Int] {
        (0...4).map { Int((Double($0) * Double(blocks - 1) / 4).rounded(.toNearestOrEven)) }
    }

    /// The PC1/PC2 plane of one layer's ensemble.
    struct PrincipalPlane: Sendable {
        var mean: [Double]
        var directions: [[Double]]
        var standardDeviations: [Double]

        /// A displacement's length in this plane, in PC-SD units.
        func distance(_ displacement: [Double]) -> Double {
            zip(directions, standardDeviations).map { u, sd in
                let score = VectorMath.dot(displacement, u) / sd
                return score * score
            }.reduce(0, +).squareRoot()
        }
    }

    enum Perturbation: String, CaseIterable {
        case shift, teleport, random
    }

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let sampling = try context.requireSampling(id)
        let model = try context.model()
        let blocks = model.configuration.blockCount
        let layers = Array(Set(context.parameters.ints("layers", default: Self.defaultLayers(blocks: blocks)))).sorted()
        if let bad = layers.first(where: { !(0..<blocks).contains($0) }) {
            throw ClaimError.insufficientData("TD-7 parameter `layers` has \(bad), outside the injection range 0...\(blocks - 1) of this model; fix the suite's params")
        }
        guard layers.count >= 2 else {
            throw ClaimError.insufficientData("TD-7 parameter `layers` needs at least two injection layers, got \(layers)")
        }
        let extra = context.parameters.int("extra_prompts", default: 7)
        guard extra >= 0 else { throw ClaimError.insufficientData("TD-7 parameter extra_prompts must be ≥ 0, got \(extra)") }
        let states = try context.lastPositionStates(.paragraphs)
        guard states.sampleCount >= 3 else {
            throw ClaimError.insufficientData("TD-7 needs at least 3 paragraphs for the PCA, got \(states.sampleCount)")
        }
        let readout = layers.map { min($0 + 4, blocks) }
        let planeLayers = Array(Set(layers + readout)).sorted()
        let planes = try context.resources.memoized(
            "TD-7/planes/\(context.modelTag)/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)/\(planeLayers)"
        ) {
            var planes: [Int: PrincipalPlane] = [:]
            for l in planeLayers { planes[l] = try Self.principalPlane(states.residual[l]) }
            return planes
        }

        let tokenizer = try context.resources.tokenizer()
        let seedTokens = tokenizer.encode(Self.seedPrompt, addSpecial: true)
        // Held-out paragraphs: the ones the corpus rule yields right after the PCA sample.
        let heldOut: [[Int]] = extra == 0 ? [] : try context.resources.memoized(
            "TD-7/held-out/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)/\(extra)"
        ) {
            Array(try CorpusSampling.paragraphs(try context.resources.corpusText(sampling.corpus), tokenizer: tokenizer,
                                                count: sampling.count + extra, tokens: sampling.tokens,
                                                format: context.resources.corpusFormat(sampling.corpus)).suffix(extra))
        }
        let prompts = [seedTokens] + heldOut
        let (capture, cache) = try model.prefill(prompts, plan: CapturePlan(hooks: layers.map(HookPoint.residual)))
        let grid = (-2...2).flatMap { c1 in (-2...2).map { c2 in (Double(c1), Double(c2)) } }.filter { $0 != (0, 0) }
        var rng = PCG64(seed: context.seed, stream: 7)

        // values[perturbation][metric][layer slot][prompt][grid point]
        var kappa: [Perturbation: [[[Double]]]] = [:], amplification = kappa, returnRatio = kappa
        var recovery: [[[[Double]]]] = []  // [layer slot][downstream k][prompt][grid point], shift only
        for (l, j) in zip(layers, readout) {
            let plane = planes[l]!
            var layerKappa: [Perturbation: [[Double]]] = [:], layerAmplification = layerKappa, layerReturn = layerKappa
            let captured = Array((l + 1)...blocks)
            var layerRecovery = [[[Double]]](repeating: [], count: captured.count)
            for prompt in prompts.indices {
                let x = capture.vector(prompt: prompt, hook: .residual(l)).map(Double.init)
                var deltas: [Perturbation: [[Double]]] = [:]
                for (c1, c2) in grid {
                    let offset = VectorMath.add(VectorMath.scaled(plane.directions[0], c1 * plane.standardDeviations[0]),
                                                  VectorMath.scaled(plane.directions[1], c2 * plane.standardDeviations[1]))
                    deltas[.shift, default: []].append(offset)
                    deltas[.teleport, default: []].append(VectorMath.subtract(VectorMath.add(plane.mean, offset), x))
                    let direction = (0..<x.count).map { _ in rng.nextGaussian() }
                    deltas[.random, default: []].append(VectorMath.scaled(direction, VectorMath.norm(offset) / VectorMath.norm(direction)))
                }
                // Row 0 is the unperturbed state, resumed through the same path as the edits.
                let edits = Perturbation.allCases.flatMap { deltas[$0]! }
                let rows = ([x] + edits.map { VectorMath.add(x, $0) }).map { ResumeRow(prompt: prompt, residual: $0.map(Float.init)) }
                // Every downstream residual l+1…L (it holds j and L): the per-layer recovery curve is drawn from them.
                let output = try model.resume(cache, rows: rows, fromResidual: l, capture: captured)
                let width = x.count
                func state(row: Int, _ index: Int) -> [Double] {
                    let start = (row * captured.count + captured.firstIndex(of: index)!) * width
                    return output[start ..< start + width].map(Double.init)
                }
                let cleanJ = state(row: 0, j), cleanL = state(row: 0, blocks)
                let cleanStates = captured.map { state(row: 0, $0) }
                for (t, perturbation) in Perturbation.allCases.enumerated() {
                    var kappas: [Double] = [], amplifications: [Double] = [], returns: [Double] = []
                    for (g, delta) in deltas[perturbation]!.enumerated() {
                        let row = 1 + t * grid.count + g
                        let deltaL = VectorMath.subtract(state(row: row, blocks), cleanL)
                        let deltaJ = VectorMath.subtract(state(row: row, j), cleanJ)
                        kappas.append(VectorMath.dot(deltaL, delta) / VectorMath.dot(delta, delta))
                        amplifications.append(VectorMath.norm(deltaL) / VectorMath.norm(delta))
                        returns.append(planes[j]!.distance(deltaJ) / plane.distance(delta))
                    }
                    layerKappa[perturbation, default: []].append(kappas)
                    layerAmplification[perturbation, default: []].append(amplifications)
                    layerReturn[perturbation, default: []].append(returns)
                    if perturbation == .shift {
                        // The recovery curve: ‖Δ_k‖/‖δ‖ at each downstream residual k.
                        for (slot, k) in captured.enumerated() {
                            layerRecovery[slot].append(deltas[.shift]!.indices.map { g in
                                VectorMath.norm(VectorMath.subtract(state(row: 1 + t * grid.count + g, k), cleanStates[slot]))
                                    / VectorMath.norm(deltas[.shift]![g])
                            })
                        }
                    }
                }
            }
            for perturbation in Perturbation.allCases {
                kappa[perturbation, default: []].append(layerKappa[perturbation]!)
                amplification[perturbation, default: []].append(layerAmplification[perturbation]!)
                returnRatio[perturbation, default: []].append(layerReturn[perturbation]!)
            }
            recovery.append(layerRecovery)
        }

        // Two-stage bootstrap: prompts, then grid points within each drawn prompt.
        let resamples = Self.twoStageResamples(prompts: prompts.count, points: grid.count, context: context)
        func median(_ values: [[Double]]) -> Double { Statistics.median(values.flatMap { $0 }) }
        func replicateMedians(_ values: [[Double]]) -> [Double] {
            PhaseClock.time(.resampling) {
                resamples.map { draw in Statistics.medianIgnoringNaN(draw.flatMap { pick in pick.points.map { values[pick.prompt][$0] } }) }
            }
        }
        func interval(_ replicates: [Double]) -> Interval {
            Bootstrap.percentileInterval(replicates, level: context.resampling.level, sampleSize: prompts.count * grid.count,
                                         unit: "prompt × grid points (\(prompts.count) × \(grid.count))")
        }

        var metrics: [Metric] = []
        var kappaShift: [Double] = [], kappaShiftReplicates: [[Double]] = []
        for (slot, l) in layers.enumerated() {
            for perturbation in Perturbation.allCases {
                let name = perturbation.rawValue
                let kappas = kappa[perturbation]![slot]
                let kappaReplicates = replicateMedians(kappas)
                metrics.append(Metric("kappa_\(name)", layer: l, unit: "fraction", value: median(kappas), interval: interval(kappaReplicates)))
                metrics.append(Metric("amplification_\(name)", layer: l, unit: "ratio", value: median(amplification[perturbation]![slot])))
                // A random direction barely touches the PC plane, so its SD-unit ratio is meaningless.
                if perturbation != .random {
                    metrics.append(Metric("return_ratio_\(name)", layer: l, unit: "ratio", value: median(returnRatio[perturbation]![slot])))
                }
                if perturbation == .shift {
                    kappaShift.append(median(kappas))
                    kappaShiftReplicates.append(kappaReplicates)
                    // The spec's protocol (the seed prompt alone), for comparison with the pilot.
                    metrics.append(Metric("kappa_shift_seed_prompt", layer: l, unit: "fraction", value: Statistics.median(kappas[0])))
                }
            }
            for (offset, curve) in recovery[slot].enumerated() {
                metrics.append(Metric(Self.recoveryMetricName(injection: l), layer: l + 1 + offset,
                                      unit: "‖Δ‖/‖δ‖ (layer = downstream residual)", value: median(curve)))
            }
        }
        let trend = Statistics.spearman(layers.map(Double.init), kappaShift)
        let trendReplicates = resamples.indices.map { r in
            Statistics.spearman(layers.map(Double.init), kappaShiftReplicates.map { $0[r] })
        }
        metrics += [
            Metric("spearman_kappa_shift", unit: "rho", value: trend, interval: interval(trendReplicates)),
            Metric("kappa_shift_first", unit: "fraction", value: kappaShift[0], interval: interval(kappaShiftReplicates[0])),
            Metric("kappa_shift_second", unit: "fraction", value: kappaShift[1], interval: interval(kappaShiftReplicates[1])),
            Metric("prompts", unit: "count", value: Double(prompts.count)),
        ]
        return ClaimOutcome(metrics: metrics, notes: [
            "seed prompt: \(seedTokens.count) tokens, plus \(heldOut.count) held-out paragraphs of \(sampling.tokens) tokens; PCA over \(states.sampleCount) paragraphs",
            "injection layers \(layers.map(String.init).joined(separator: ", ")): κ(shift) first/second = \(kappaShift[0]) / \(kappaShift[1])",
            "return ratio read at residual min(l + 4, \(blocks)); recorded, not gated",
        ])
    }

    /// One replicate of the two-stage bootstrap: for each drawn prompt, the drawn grid points.
    struct Draw: Sendable {
        var prompt: Int
        var points: [Int]
    }

    /// The replicates of the two-stage bootstrap, from the check's seed (stream 0xB007 + 7, its own).
    static func twoStageResamples(prompts: Int, points: Int, context: ClaimContext) -> [[Draw]] {
        var rng = PCG64(seed: context.seed, stream: 0xB007 + 7)
        return (0..<context.resampling.replicates).map { _ in
            (0..<prompts).map { _ in
                Draw(prompt: rng.nextInt(below: prompts), points: (0..<points).map { _ in rng.nextInt(below: points) })
            }
        }
    }

    /// The per-layer recovery curve of a shift injected at residual `injection`, e.g. `recovery_l07`.
    public static func recoveryMetricName(injection: Int) -> String {
        "recovery_l" + (injection < 10 ? "0" : "") + String(injection)
    }

    /// Mean, first two principal directions and their score SDs of the rows of `states`.
    static func principalPlane(_ states: Matrix) throws -> PrincipalPlane {
        let n = states.rows, d = states.columns
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<n { for c in 0..<d { mean[c] += states[r, c] } }
        mean = mean.map { $0 / Double(n) }
        var centered = states.storage
        for r in 0..<n { for c in 0..<d { centered[r * d + c] -= mean[c] } }
        let svd = try Matrix(rows: n, columns: d, storage: centered).singularValueDecomposition()
        return PrincipalPlane(mean: mean, directions: [svd.vt.row(0), svd.vt.row(1)],
                              standardDeviations: svd.singularValues.prefix(2).map { $0 / Double(n - 1).squareRoot() })
    }
}

/// Small Float64 vector helpers for one grid point at a time (D = width, 24 points per layer).
private enum VectorMath {
    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { $0 * $1 }.reduce(0, +) }
    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
    static func add(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 + $1 } }
    static func subtract(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 - $1 } }
    static func scaled(_ a: [Double], _ s: Double) -> [Double] { a.map { $0 * s } }
}
