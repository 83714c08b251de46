import Foundation
import Recording

/// The figure each paper would show, for the claims that record what it needs. Each builder reads
/// only metric names (and the units that say what a layer slot holds), draws the model and its
/// controls in the same axes, and returns the names it drew so they are not drawn again generically.
extension ClaimFigures {
    struct Specific {
        var figures: [ReportFigure] = []
        var used: Set<String> = []
    }

    static func specific(claim: String, results: [ResultRecord], subjects: [String], names: [String]) -> Specific {
        var out = Specific()
        switch claim {
        case "LoT-1": lowRankTrajectories(results, subjects, names, &out)
        case "LoT-2": truncation(results, subjects, names, &out)
        case "LoT-3": gaussianResiduals(results, subjects, names, &out)
        case "TD-4": mutualInformation(results, subjects, names, &out)
        case "TD-6": turningAngle(results, subjects, names, &out)
        case "TD-7": perturbationRecovery(results, subjects, names, &out)
        case "SR-1": stableRegions(results, subjects, names, &out)
        case "SR-3": semanticRegions(results, subjects, names, &out)
        case "SR-slice": slice(results, names, &out)
        default: break
        }
        return out
    }

    /// The model solid, random-init dashed; other controls dotted in their own colour.
    static func isControl(_ subject: String) -> Bool { subject != "model" }

    static func result(_ results: [ResultRecord], _ subject: String) -> ResultRecord? { results.first { $0.subject == subject } }

    /// `(x, y)` pairs of two per-layer metrics matched by layer (an x–y path in layer order).
    static func paired(_ result: ResultRecord, x: String, y: String) -> [(x: Double, y: Double)] {
        let ys = Dictionary(curve(result, y).map { ($0.x, $0.y) }, uniquingKeysWith: { first, _ in first })
        return curve(result, x).compactMap { point in ys[point.x].map { (x: point.y, y: $0) } }
    }

    // MARK: LoT-2

    static func truncation(_ results: [ResultRecord], _ subjects: [String], _ names: [String], _ out: inout Specific) {
        guard names.contains("B_ratio") || names.contains("A_ratio") else { return }
        var ratio: [ChartSeries] = [], kl: [ChartSeries] = []
        var baselines: [ChartReference] = []
        for subject in subjects {
            guard let result = result(results, subject) else { continue }
            let slot = slot(of: subject, in: subjects)
            for (variant, dashed) in [("A", false), ("B", true)] {
                let r = curve(result, "\(variant)_ratio"), k = curve(result, "\(variant)_mean_kl")
                if !r.isEmpty {
                    ratio.append(ChartSeries(label: "\(subject) · \(variant)", points: r, colorSlot: slot, dashed: dashed,
                                             emphasized: subject == "model", intervals: intervals(result, "\(variant)_ratio")))
                }
                if !k.isEmpty { kl.append(ChartSeries(label: "\(subject) · \(variant)", points: k, colorSlot: slot, dashed: dashed, emphasized: subject == "model")) }
            }
            if let baseline = scalar(result, "baseline_median_kl") {
                baselines.append(ChartReference(label: "\(subject) unrelated pairs", low: baseline, high: baseline, colorSlot: slot))
            }
        }
        let kLabel = "K (singular directions kept)"
        out.figures.append(ReportFigure(id: figureID("LoT-2", "kl_ratio"), caption: """
            Mean KL divergence of the next-token distribution after keeping only the top K singular directions, \
            divided by the median KL between unrelated pairs of inputs, against K: variant A (bases of each \
            trajectory's own layer, solid) and B (pooled bases, dashed), trained model against random-init. The \
            dotted line at 1 is the unrelated-pairs baseline: a curve there means truncation destroyed the output. \
            The paper's claim is that a few dozen directions already bring the ratio under 0.10.
            """, chart: LineChart(title: "LoT-2: KL ratio vs K", xLabel: kLabel, yLabel: "mean KL / baseline median KL (ratio)",
                                  series: ratio, references: [
                                    ChartReference(label: "unrelated-pairs baseline", low: 1, high: 1, colorSlot: 5),
                                    ChartReference(label: "pass: A ratio ≤ 0.10", low: 0.1, high: 0.1, colorSlot: 2),
                                  ], logY: true, logX: true)))
        if !kl.isEmpty {
            out.figures.append(ReportFigure(id: figureID("LoT-2", "kl_nats"), caption: """
                The same curves in nats, with each subject's unrelated-pairs median KL as a dotted line in its colour. \
                random-init's outputs barely depend on the input (its baseline is far below 2 nats), so its small \
                ratio means nothing: that is what refutes the control.
                """, chart: LineChart(title: "LoT-2: KL vs K with the unrelated-pairs baseline", xLabel: kLabel,
                                      yLabel: "mean KL (nats)", series: kl, references: baselines, logY: true, logX: true)))
        }
        out.used.formUnion(["A_ratio", "B_ratio", "A_mean_kl", "B_mean_kl"])
    }

    // MARK: TD-7

    static func perturbationRecovery(_ results: [ResultRecord], _ subjects: [String], _ names: [String], _ out: inout Specific) {
        let recovery = names.filter { $0.hasPrefix("recovery_l") }.sorted()
        if !recovery.isEmpty {
            var series: [ChartSeries] = []
            for subject in subjects {
                guard let result = result(results, subject) else { continue }
                for (index, name) in recovery.enumerated() {
                    guard let injection = Int(name.dropFirst("recovery_l".count)) else { continue }
                    let points = curve(result, name)
                    guard !points.isEmpty else { continue }
                    // The curve starts at the injection, where Δ = δ.
                    series.append(ChartSeries(label: "\(subject) · l = \(injection)", points: [(x: Double(injection), y: 1)] + points,
                                              colorSlot: [0, 3, 2, 4, 6, 7, 5, 1][index % 8], dashed: isControl(subject),
                                              emphasized: false))
                }
            }
            let ys = series.flatMap { $0.points.map(\.y) }.filter { $0 > 0 }
            // A log axis once the curves span an order of magnitude: the growth of the early injections
            // would otherwise flatten every other curve onto the line at 1.
            let logY = (ys.max() ?? 1) / max(ys.min() ?? 1, .leastNormalMagnitude) > 10
            out.figures.append(ReportFigure(id: figureID("TD-7", "recovery"), caption: """
                Recovery of a perturbation over the following layers: a shift δ along the top two principal directions \
                is added at injection residual l (one colour per l) and the median over the 24-point grid of ‖Δ_k‖/‖δ‖ \
                is drawn at every later residual k, trained model solid, random-init dashed. At 1 the perturbation is \
                carried along unchanged; the paper's self-correction shows as curves that fall below 1, most for early l. \
                (The ratio is a norm: it also grows as the stream's norm grows with depth; κ below is the gated quantity.)
                """, chart: LineChart(title: "TD-7: recovery of a perturbation over the following layers", xLabel: "residual k (after injection at l)",
                                      yLabel: "‖Δ_k‖ / ‖δ‖ (ratio)", series: series,
                                      references: [ChartReference(label: "carried unchanged", low: 1, high: 1, colorSlot: 5)], logY: logY)))
            out.used.formUnion(recovery)
        }
        let kappas = ["kappa_shift", "kappa_teleport", "kappa_random"].filter(names.contains)
        guard !kappas.isEmpty else { return }
        var series: [ChartSeries] = []
        for subject in subjects {
            guard let result = result(results, subject) else { continue }
            for (index, name) in kappas.enumerated() {
                let points = curve(result, name)
                if !points.isEmpty {
                    series.append(ChartSeries(label: "\(subject) · \(name.dropFirst("kappa_".count))", points: points,
                                              colorSlot: [0, 3, 4][index], dashed: isControl(subject), emphasized: name == "kappa_shift",
                                              intervals: name == "kappa_shift" ? intervals(result, name) : []))
                }
            }
        }
        out.figures.append(ReportFigure(id: figureID("TD-7", "kappa"), caption: """
            Kept fraction κ = ⟨Δ_L, δ⟩/‖δ‖² at the final state against the injection residual, per perturbation kind, \
            trained solid, random-init dashed. The claim: κ(shift) ≤ 0.5 at the two earliest injections and rising with depth.
            """, chart: LineChart(title: "TD-7: kept fraction κ vs injection layer", xLabel: "injection residual l", yLabel: "κ (fraction)",
                                  series: series, references: [
                                    ChartReference(label: "pass: κ(shift) ≤ 0.5 (early l)", low: 0.5, high: 0.5, colorSlot: 2),
                                    ChartReference(label: "carried unchanged (κ = 1)", low: 1, high: 1, colorSlot: 5),
                                  ])))
        out.used.formUnion(kappas)
    }

    // MARK: LoT-3

    static func gaussianResiduals(_ results: [ResultRecord], _ subjects: [String], _ names: [String], _ out: inout Specific) {
        let steps = names.filter { $0.hasPrefix("qq_t") }.sorted()
        if names.contains("qq_gaussian") && !steps.isEmpty {
            var series: [ChartSeries] = []
            for subject in subjects {
                guard let result = result(results, subject) else { continue }
                for (index, name) in steps.enumerated() {
                    let t = Int(name.dropFirst("qq_t".count)) ?? 0
                    let points = paired(result, x: "qq_gaussian", y: name)
                    if !points.isEmpty {
                        series.append(ChartSeries(label: "\(subject) · t = \(t) → \(t + 1)", points: points,
                                                  colorSlot: [0, 3, 2, 4][index % 4], dashed: isControl(subject)))
                    }
                }
            }
            out.figures.append(ReportFigure(id: figureID("LoT-3", "qq"), caption: """
                Quantile–quantile plot of the linear model's residuals for a few single steps (t → t+1, early, middle, \
                late; one colour each): each coordinate's residual standardized by its own mean and SD, pooled, against \
                the standard normal's quantiles at the same probabilities (0.1 % … 99.9 %). Gaussian residuals lie on the \
                diagonal; heavy tails bend away from it at both ends. Trained solid, random-init dashed.
                """, chart: LineChart(title: "LoT-3: residuals against a Gaussian (Q–Q)", xLabel: "standard normal quantile",
                                      yLabel: "standardized residual quantile", series: series, diagonal: "Gaussian (y = x)")))
            out.used.formUnion(steps + ["qq_gaussian"])
            if let figure = residualHistogram(results, subjects, steps: steps) { out.figures.append(figure) }
        }
        let a2Names = names.filter { $0.hasPrefix("A2_tau") && Int($0.dropFirst("A2_tau".count)) != nil }
        guard !a2Names.isEmpty else { return }
        var series: [ChartSeries] = []
        for subject in subjects {
            guard let result = result(results, subject) else { continue }
            let slot = slot(of: subject, in: subjects)
            // Every pair (t, t+τ) at x = t + τ.
            let points = a2Names.flatMap { name in
                let tau = Double(Int(name.dropFirst("A2_tau".count))!)
                return curve(result, name).map { (x: $0.x + tau, y: $0.y) }
            }
            guard !points.isEmpty else { continue }
            series.append(ChartSeries(label: "\(subject) pairs", points: points, colorSlot: slot, markersOnly: true))
            if let lambda = scalar(result, "lambda_interior"), let intercept = scalar(result, "log_alpha_interior") {
                let xs = points.map(\.x)
                let low = xs.min()!, high = xs.max()!
                series.append(ChartSeries(label: "\(subject) fit λ = \(String(format: "%.3g", lambda))",
                                          points: [(x: low, y: intercept + lambda * low), (x: high, y: intercept + lambda * high)],
                                          colorSlot: slot, dashed: true, emphasized: true))
            }
        }
        out.figures.append(ReportFigure(id: figureID("LoT-3", "a2"), caption: """
            Log of the residual variance A2 = ln(mean_i σ_i²) of every pair (t, t+τ) against t + τ, with the line \
            A2 = ln α + λ·(t+τ) fitted on the interior pairs (dashed). The paper's Fig. 4: the points of all τ fall \
            on one line (variance depends on t + τ only) with λ in [0.1, 0.4] nats per layer; random-init's grow \
            like a logarithm and miss it.
            """, chart: LineChart(title: "LoT-3: residual variance vs t + τ", xLabel: "t + τ (layer of the predicted state)",
                                  yLabel: "A2 (ln variance)", series: series)))
        out.used.formUnion(a2Names)
    }

    /// A histogram of the middle step's standardized residuals, read from the recorded quantiles: between two
    /// consecutive quantiles x_q < x_{q+1} (probabilities p_q = Φ(qq_gaussian[q])) the density is
    /// (p_{q+1} − p_q)/(x_{q+1} − x_q), drawn as steps of unequal width against the standard normal density.
    static func residualHistogram(_ results: [ResultRecord], _ subjects: [String], steps: [String]) -> ReportFigure? {
        let middle = steps[steps.count / 2]
        let t = Int(middle.dropFirst("qq_t".count)) ?? 0
        var series: [ChartSeries] = []
        for subject in subjects {
            guard let result = result(results, subject) else { continue }
            let pairs = paired(result, x: "qq_gaussian", y: middle)
            guard pairs.count >= 2 else { continue }
            var points: [(x: Double, y: Double)] = []
            for (low, high) in zip(pairs, pairs.dropFirst()) where high.y > low.y {
                let mass = 0.5 * erfc(-high.x / 2.squareRoot()) - 0.5 * erfc(-low.x / 2.squareRoot())
                let density = mass / (high.y - low.y)
                points += [(x: low.y, y: density), (x: high.y, y: density)]
            }
            guard !points.isEmpty else { continue }
            series.append(ChartSeries(label: subject, points: points, colorSlot: slot(of: subject, in: subjects),
                                      dashed: isControl(subject), emphasized: subject == "model"))
        }
        guard !series.isEmpty else { return nil }
        let span = series.flatMap(\.points).map(\.x)
        let low = min(-4, span.min()!), high = max(4, span.max()!)
        let gaussian = (0...80).map { i -> (x: Double, y: Double) in
            let x = low + (high - low) * Double(i) / 80
            return (x: x, y: exp(-x * x / 2) / (2 * Double.pi).squareRoot())
        }
        series.append(ChartSeries(label: "standard normal", points: gaussian, colorSlot: 5, dashed: true))
        return ReportFigure(id: figureID("LoT-3", "histogram"), caption: """
            Histogram of the standardized residuals of step t = \(t) → \(t + 1), built from the recorded quantiles: \
            each step spans two consecutive quantiles and its height is the probability between them over its width, \
            so bins are narrow where data are dense. The dashed curve is the standard normal density: Gaussian \
            residuals follow it; a taller centre with wider tails means heavy tails.
            """, chart: LineChart(title: "LoT-3: residual distribution, t = \(t) → \(t + 1)",
                                  xLabel: "standardized residual", yLabel: "density", series: series))
    }

    // MARK: LoT-1

    static func lowRankTrajectories(_ results: [ResultRecord], _ subjects: [String], _ names: [String], _ out: inout Specific) {
        let paths = names.filter { $0.hasPrefix("path") && $0.hasSuffix("_u1") }.sorted()
        for subject in subjects where !paths.isEmpty {
            guard let result = result(results, subject) else { continue }
            var series: [ChartSeries] = [], starts: [(x: Double, y: Double)] = [], ends: [(x: Double, y: Double)] = []
            for (index, name) in paths.enumerated() {
                let stem = String(name.dropLast("_u1".count))
                let points = paired(result, x: stem + "_u1", y: stem + "_u2")
                guard let first = points.first, let last = points.last else { continue }
                starts.append(first)
                ends.append(last)
                series.append(ChartSeries(label: "trajectory \(index + 1)", points: points, colorSlot: [0, 3, 2, 4, 6, 7][index % 6]))
            }
            guard !series.isEmpty else { continue }
            series.append(ChartSeries(label: "start (t = 1)", points: starts, colorSlot: 5, markersOnly: true))
            series.append(ChartSeries(label: "end (t = L)", points: ends, colorSlot: 1, markersOnly: true))
            var chart = LineChart(title: "LoT-1: \(series.count - 2) trajectories in the (ψ₁, ψ₂) plane · \(subject)",
                                  xLabel: "projection on aligned ψ₁(t)", yLabel: "projection on aligned ψ₂(t)", series: series)
            chart.connectInOrder = true
            out.figures.append(ReportFigure(id: figureID("LoT-1", "paths-\(subject)"), caption: """
                \(subject): the last-token trajectories of the first \(series.count - 2) chunks, each state x(t) projected on the \
                first two singular vectors of its own layer, aligned layer to layer (the paper's Fig. 1), joined from t = 1 to L. \
                The model and random-init are drawn in separate axes because their norms differ by orders of magnitude.
                """, chart: chart))
        }
        out.used.formUnion(paths + paths.map { String($0.dropLast(3)) + "_u2" })

        let spectra = names.filter { $0.hasPrefix("spectrum_t") }.sorted()
        if !spectra.isEmpty {
            var series: [ChartSeries] = []
            for subject in subjects {
                guard let result = result(results, subject) else { continue }
                for (index, name) in spectra.enumerated() {
                    let points = curve(result, name)
                    if !points.isEmpty {
                        series.append(ChartSeries(label: "\(subject) · t = \(Int(name.dropFirst("spectrum_t".count)) ?? 0)",
                                                  points: points, colorSlot: [0, 3, 2, 4][index % 4], dashed: isControl(subject)))
                    }
                }
            }
            out.figures.append(ReportFigure(id: figureID("LoT-1", "spectrum"), caption: """
                Normalized singular-value spectra σ_k/σ₁ of the trajectory ensemble at a few layers (the paper's Fig. 2b), \
                trained solid, random-init dashed. Fast decay means the trajectories live near a low-dimensional subspace.
                """, chart: LineChart(title: "LoT-1: singular-value spectrum per layer", xLabel: "rank k", yLabel: "σ_k / σ₁ (ratio)",
                                      series: series, logY: true, logX: true)))
            out.used.formUnion(spectra)
        }
        if names.contains("participation_ratio") {
            out.figures.append(ReportFigure(id: figureID("LoT-1", "participation_ratio"), caption: """
                Participation ratio (Σσ²)²/Σσ⁴ per layer: the effective number of dimensions the trajectories use. \
                Pass: its median over t ≥ 3 is at most 10.
                """, chart: LineChart(title: "LoT-1: participation ratio per layer", xLabel: "layer t", yLabel: "PR (dimensions)",
                                      series: subjectSeries(results, subjects, "participation_ratio"),
                                      references: [ChartReference(label: "pass: median ≤ 10 (t ≥ 3)", low: 10, high: 10, colorSlot: 2)], logY: true)))
            out.used.insert("participation_ratio")
        }
    }

    // MARK: TD-4, TD-6

    static func mutualInformation(_ results: [ResultRecord], _ subjects: [String], _ names: [String], _ out: inout Specific) {
        guard names.contains("mi") else { return }
        var series = subjectSeries(results, subjects, "mi")
        if let model = result(results, "model"), !curve(model, "mi_null_shuffle").isEmpty {
            series.append(ChartSeries(label: "shuffle null (model)", points: curve(model, "mi_null_shuffle"), colorSlot: 5, dashed: true))
        }
        out.figures.append(ReportFigure(id: figureID("TD-4", "mi"), caption: """
            Mutual information between consecutive states per transition (kernel-density estimate), for the model and its \
            controls; the dashed grey line is the model's null with the samples shuffled between the two layers, which any \
            real dependence must clear.
            """, chart: LineChart(title: "TD-4: mutual information per transition", xLabel: "block b (transition h_{b−1} → h_b)",
                                  yLabel: "MI (nats)", series: series)))
        out.used.formUnion(["mi", "mi_null_shuffle"])
    }

    static func turningAngle(_ results: [ResultRecord], _ subjects: [String], _ names: [String], _ out: inout Specific) {
        guard names.contains("phi") else { return }
        out.figures.append(ReportFigure(id: figureID("TD-6", "phi"), caption: """
            Turning angle between consecutive steps of the trajectory per layer, trained against random-init. The dotted \
            line at 90° is what independent steps in high dimension give; the claim is about how the angle departs from it with depth.
            """, chart: LineChart(title: "TD-6: turning angle per layer", xLabel: "layer l (turn at h_l between its steps)",
                                  yLabel: "φ (degrees)", series: subjectSeries(results, subjects, "phi"),
                                  references: [ChartReference(label: "90° (orthogonal steps)", low: 90, high: 90, colorSlot: 5),
                                               ChartReference(label: "pass: late-third mean ≤ 88°", low: 88, high: 88, colorSlot: 2)])))
        out.used.insert("phi")
    }

    // MARK: SR-1, SR-slice

    static func stableRegions(_ results: [ResultRecord], _ subjects: [String], _ names: [String], _ out: inout Specific) {
        guard names.contains("dhat_mean") else { return }
        // The unit says "α = j/N": the layer slot j maps to α = j/N.
        let layer = unitParts(unit(results, "dhat_mean")).layer ?? ""
        let steps = layer.range(of: "j/").flatMap { Double(layer[$0.upperBound...].prefix { $0.isNumber }) }
        let series = subjectSeries(results, subjects, "dhat_mean").map { line -> ChartSeries in
            var line = line
            if let steps, steps > 0 { line.points = line.points.map { (x: $0.x / steps, y: $0.y) } }
            return line
        }
        out.figures.append(ReportFigure(id: figureID("SR-1", "dhat"), caption: """
            Mean normalized output distance d̂ along the straight line between two inputs' residual states, against the \
            interpolation weight α, trained against random-init. The diagonal is what a smooth (linear) map gives; stable \
            regions show as a flat start and a sharp jump (a step, not the diagonal).
            """, chart: LineChart(title: "SR-1: output distance along an interpolation", xLabel: steps == nil ? "α index j" : "α (interpolation weight)",
                                  yLabel: "mean d̂", series: series, diagonal: steps == nil ? nil : "linear map (d̂ = α)")))
        out.used.insert("dhat_mean")
    }

    /// SR-3's sharpness of similar against dissimilar pairs: per subject the median of each group joined by a
    /// line, with its interquartile range as a vertical bar (the shuffled-label control offset to the right).
    static func semanticRegions(_ results: [ResultRecord], _ subjects: [String], _ names: [String], _ out: inout Specific) {
        let groups = ["similar", "dissimilar"]
        // Scalars only (no layer slot), so look for them in the results rather than in `names`.
        guard results.contains(where: { result in groups.allSatisfy { scalar(result, "sharpness_median_\($0)") != nil } }) else { return }
        var series: [ChartSeries] = []
        for (rank, subject) in subjects.enumerated() {
            guard let result = result(results, subject) else { continue }
            let slot = slot(of: subject, in: subjects), offset = 0.06 * Double(rank)
            var medians: [(x: Double, y: Double)] = []
            for (index, group) in groups.enumerated() {
                let x = Double(index + 1) + offset
                guard let median = scalar(result, "sharpness_median_\(group)") else { continue }
                medians.append((x: x, y: median))
                if let low = scalar(result, "sharpness_q25_\(group)"), let high = scalar(result, "sharpness_q75_\(group)") {
                    series.append(ChartSeries(label: "\(subject) IQR, \(group)", points: [(x: x, y: low), (x: x, y: high)],
                                              colorSlot: slot, dashed: isControl(subject)))
                }
            }
            guard medians.count == 2 else { continue }
            series.append(ChartSeries(label: "\(subject) median", points: medians, colorSlot: slot,
                                      dashed: isControl(subject), emphasized: subject == "model"))
        }
        guard !series.isEmpty else { return }
        out.figures.append(ReportFigure(id: figureID("SR-3", "groups"), caption: """
            Interpolation sharpness of pairs whose windows end in the same token (1, similar) against pairs with different \
            last tokens and predictions (2, dissimilar): the median of each group joined by a line, with the interquartile \
            range as a bar. Regions that follow semantics make similar pairs smooth (near 1, the dotted line) and \
            dissimilar pairs sharp; the shuffled-label control mixes the groups, so its line stays flat.
            """, chart: LineChart(title: "SR-3: sharpness, similar vs dissimilar pairs", xLabel: "pair group (1 = similar, 2 = dissimilar)",
                                  yLabel: "sharpness (steepest normalized slope)", series: series,
                                  references: [ChartReference(label: "1.2: near-linear", low: 1.2, high: 1.2, colorSlot: 5)])))
    }

    static func slice(_ results: [ResultRecord], _ names: [String], _ out: inout Specific) {
        guard let model = result(results, "model") else { return }
        var panels: [HeatMap.Panel] = []
        for (name, label) in [("nearest_anchor", "trained"), ("nearest_anchor_ri", "random-init")] where names.contains(name) {
            let cells = curve(model, name)
            let size = Int(Double(cells.count).squareRoot().rounded())
            guard size > 1, size * size == cells.count else { continue }
            panels.append(HeatMap.Panel(label: label, size: size, cells: cells.map { Int($0.y) }))
        }
        guard !panels.isEmpty else { return }
        let heat = HeatMap(title: "SR-slice: nearest anchor on the plane through three inputs", xLabel: "α (−0.25 … 1.25)",
                           yLabel: "β (−0.25 … 1.25)", panels: panels, categories: ["anchor 0", "anchor 1", "anchor 2"])
        out.figures.append(ReportFigure(id: figureID("SR-slice", "nearest_anchor"), caption: """
            Which of three anchor inputs the output is nearest to, at each point of the plane through their residual states \
            (first triplet), trained against random-init. Stable regions show as large one-colour plateaus with sharp borders.
            """, chart: LineChart(title: heat.title, xLabel: "", yLabel: "", series: []), heatMap: heat))
        out.used.formUnion(["nearest_anchor", "nearest_anchor_ri"])
    }
}
