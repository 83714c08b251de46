import Foundation
import Recording

/// One chart of the report with the sentence that says what it shows.
struct ReportFigure: Sendable {
    /// Unique in the report; also the standalone file name (`<id>.svg`).
    var id: String
    var caption: String
    var chart: LineChart
    /// When set, the figure is this grid instead of `chart`.
    var heatMap: HeatMap? = nil

    func svg(standalone: Bool) -> String {
        heatMap?.svg(id: id, standalone: standalone) ?? chart.svg(id: id, standalone: standalone)
    }
}

/// The figures of one claim: those its paper would show first, then every other per-layer metric.
struct ClaimFigureSet: Sendable {
    var primary: [ReportFigure]
    var more: [ReportFigure]
}

/// Builds per-claim figures from recorded per-layer metrics.
///
/// Claim-specific figures are keyed only by metric names; when a claim lacks them (or is new),
/// every metric with at least ``minimumLayers`` layer values still gets a generic chart.
enum ClaimFigures {
    static let minimumLayers = 3

    /// `TD-1@walden` → (`TD-1`, `walden`); an id without `@` has no variant.
    static func splitVariant(_ id: String) -> (base: String, variant: String?) {
        guard let at = id.firstIndex(of: "@") else { return (id, nil) }
        return (String(id[..<at]), String(id[id.index(after: at)...]))
    }

    /// Subjects in drawing order: the model, random-init, then the other controls as recorded.
    static func orderedSubjects(_ results: [ResultRecord]) -> [String] {
        let subjects = results.map(\.subject).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let rank: (String) -> Int = { $0 == "model" ? 0 : $0 == "random-init" ? 1 : 2 }
        return subjects.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
    }

    /// The palette slot of a subject: stable within a claim (model 0, random-init 1, others after).
    static func slot(of subject: String, in subjects: [String]) -> Int { subjects.firstIndex(of: subject) ?? 5 }

    /// `(layer, value)` of one metric name, in layer order.
    static func curve(_ result: ResultRecord, _ name: String) -> [(x: Double, y: Double)] {
        result.metrics.filter { $0.name == name && $0.layer != nil }
            .map { (x: Double($0.layer!), y: $0.value) }.sorted { $0.x < $1.x }
    }

    static func scalar(_ result: ResultRecord, _ name: String) -> Double? {
        result.metrics.first { $0.name == name && $0.layer == nil }?.value
    }

    static func unit(_ results: [ResultRecord], _ name: String) -> String {
        results.lazy.flatMap(\.metrics).first { $0.name == name }?.unit ?? ""
    }

    static func axisLabel(_ name: String, unit: String) -> String {
        let unit = unitParts(unit).value
        return unit.isEmpty ? name : "\(name) (\(unit))"
    }

    /// Splits a unit like `d̂ (layer = α index j, α = j/7)` into the value's unit and what the layer slot holds.
    static func unitParts(_ unit: String) -> (value: String, layer: String?) {
        guard let range = unit.range(of: "(layer = ") else { return (unit, nil) }
        let value = unit[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        var layer = String(unit[range.upperBound...])
        if layer.hasSuffix(")") { layer.removeLast() }
        return (value, layer)
    }

    /// What the layer slot of a metric holds, for the x axis: the unit's `(layer = …)` when it says,
    /// else what the claim is known to store there, else "layer".
    static func xAxis(claim: String, name: String, unit: String) -> (label: String, logX: Bool) {
        if let layer = unitParts(unit).layer { return (layer, layer.hasPrefix("rank") || layer == "K") }
        if claim == "LoT-2" { return ("K (singular directions kept)", true) }
        if claim == "TD-7" && !name.hasPrefix("recovery") { return ("injection residual l", false) }
        if name.hasPrefix("lag_") { return ("lag Δ (layers)", false) }
        if claim == "TD-1" || claim == "TD-4" { return ("block b (transition h_{b−1} → h_b)", false) }
        if claim == "TD-3" && name != "norm" { return ("layer l (step h_l → h_{l+1})", false) }
        return ("layer", false)
    }

    /// The threshold the named criterion was judged against in `result` (an override's value when the suite set one).
    static func threshold(_ result: ResultRecord?, criterion name: String) -> Double? {
        result?.criteria.first { $0.name == name }?.threshold
    }

    /// The per-layer intervals of one metric name, in layer order.
    static func intervals(_ result: ResultRecord, _ name: String) -> [(x: Double, low: Double, high: Double)] {
        result.metrics.compactMap { metric in
            guard metric.name == name, let layer = metric.layer, let interval = metric.interval else { return nil }
            return (x: Double(layer), low: interval.low, high: interval.high)
        }.sorted { $0.x < $1.x }
    }

    static func figureID(_ claim: String, _ suffix: String) -> String {
        let raw = "\(claim)-\(suffix)".lowercased()
        return String(raw.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }

    /// One series per subject for `name` (subjects without it are skipped).
    static func subjectSeries(_ results: [ResultRecord], _ subjects: [String], _ name: String, dashed: Bool = false,
                              suffix: String = "") -> [ChartSeries] {
        subjects.compactMap { subject in
            guard let result = results.first(where: { $0.subject == subject }) else { return nil }
            let points = curve(result, name)
            guard !points.isEmpty else { return nil }
            return ChartSeries(label: subject + suffix, points: points, colorSlot: slot(of: subject, in: subjects),
                               dashed: dashed, emphasized: subject == "model", intervals: intervals(result, name))
        }
    }

    /// A per-layer chart of one metric for every subject, its x axis named by what the layer slot holds.
    static func generic(claim: String, name: String, results: [ResultRecord], subjects: [String]) -> ReportFigure {
        let unit = unit(results, name)
        let x = xAxis(claim: claim, name: name, unit: unit)
        let positive = results.flatMap { curve($0, name) }.allSatisfy { $0.y > 0 }
        let spread = results.flatMap { curve($0, name) }.map(\.y)
        // A log axis only when the values are positive and span more than two decades.
        let logY = positive && (spread.max() ?? 1) / max(spread.min() ?? 1, .leastNormalMagnitude) > 100
        let along = x.label == "layer" ? "per layer" : "vs \(x.label)"
        let chart = LineChart(title: "\(claim): \(name) \(along)", xLabel: x.label, yLabel: axisLabel(name, unit: unit),
                              series: subjectSeries(results, subjects, name), logY: logY, logX: x.logX)
        let at = x.label == "layer" ? "at each layer" : "against \(x.label)"
        return ReportFigure(id: figureID(claim, name), caption: "\(name) \(at) for the model and every control that recorded it.",
                            chart: chart)
    }

    static let accelerationClaim = "The claim is that the trained stream speeds up in the last third of the layers."

    /// The figures for one claim's results in a run.
    static func figures(claim: String, results: [ResultRecord]) -> ClaimFigureSet {
        let subjects = orderedSubjects(results)
        let names = results.flatMap(\.metrics).filter { $0.layer != nil }.map(\.name)
            .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let layered = names.filter { name in results.contains { curve($0, name).count >= minimumLayers } }
        let model = results.first { $0.subject == "model" }
        var primary: [ReportFigure] = []
        var used: Set<String> = []

        if layered.contains("med_r") {
            var references: [ChartReference] = []
            if let threshold = threshold(model, criterion: "null_shuffle_max") {
                references.append(ChartReference(label: "null bound |r| ≤ \(LineChart.tickLabel(threshold))",
                                                 low: -threshold, high: threshold, colorSlot: 5))
            }
            for metric in model?.metrics ?? [] where metric.layer == nil && metric.name.hasPrefix("null_") {
                let control = String(metric.name.dropFirst("null_".count))
                references.append(ChartReference(label: "\(control) null", low: metric.value, high: metric.value,
                                                 colorSlot: subjects.contains(control) ? slot(of: control, in: subjects) : 5))
            }
            if let pass = threshold(model, criterion: "R_min") {
                references.append(ChartReference(label: "pass: R ≥ \(LineChart.tickLabel(pass))", low: pass, high: pass, colorSlot: 0))
            }
            let chart = LineChart(title: "TD-1: median unit correlation across consecutive layers",
                                  xLabel: "block b (transition h_{b−1} → h_b)", yLabel: "med_r (r)",
                                  series: subjectSeries(results, subjects, "med_r"), references: references)
            primary.append(ReportFigure(id: figureID(claim, "med_r"), caption: """
                Median over units of the Pearson correlation between unit u at state k and at k+1. The paper's \
                Fig. 1C shows this curve high and flat. Dotted lines are the three null pairings' median |r| on \
                the model; the shaded band is the bound they must stay in. random-init is a positive comparison, \
                the other controls must collapse to zero.
                """, chart: chart))
            used.insert("med_r")
        }
        if layered.contains("rho_excl_massive") {
            var series = subjectSeries(results, subjects, "rho_excl_massive", suffix: " · excl. massive")
            if layered.contains("rho_all") { series += subjectSeries(results, subjects, "rho_all", dashed: true, suffix: " · all units") }
            let chart = LineChart(title: "TD-2: density (Hoyer ρ) per layer", xLabel: "layer",
                                  yLabel: axisLabel("ρ", unit: unit(results, "rho_excl_massive")), series: series)
            primary.append(ReportFigure(id: figureID(claim, "rho"), caption: """
                Hoyer density of the residual state at each layer, without the massive units (solid) and with \
                all units (dashed), trained model against random-init. The paper's Fig. 1B shows density rising with depth.
                """, chart: chart))
            used.formUnion(["rho_excl_massive", "rho_all"])
        }
        for name in ["velocity", "norm"] where layered.contains(name) {
            let chart = LineChart(title: "\(claim): \(name) per layer", xLabel: xAxis(claim: claim, name: name, unit: "").label,
                                  yLabel: axisLabel(name, unit: unit(results, name)),
                                  series: subjectSeries(results, subjects, name), logY: true)
            let what = name == "velocity" ? "Step size ‖h_{l+1} − h_l‖ (mean over samples)" : "Residual norm ‖h_l‖ (mean over samples)"
            primary.append(ReportFigure(id: figureID(claim, name), caption: """
                \(what), log scale, trained model against random-init. \(claim == "TD-3" ? accelerationClaim : "")
                """, chart: chart))
            used.insert(name)
        }

        let specific = ClaimFigures.specific(claim: claim, results: results, subjects: subjects, names: names)
        primary += specific.figures
        used.formUnion(specific.used)

        let rest = layered.filter { !used.contains($0) }.map { generic(claim: claim, name: $0, results: results, subjects: subjects) }
        // A claim without a specific figure shows its generic charts up front.
        return primary.isEmpty ? ClaimFigureSet(primary: rest, more: []) : ClaimFigureSet(primary: primary, more: rest)
    }
}
