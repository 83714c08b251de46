import Foundation

/// One line of a chart: points joined in x order, styled by palette slot.
struct ChartSeries: Sendable, Equatable {
    var label: String
    var points: [(x: Double, y: Double)]
    /// Palette slot (0 is the model; the rest are controls or other series).
    var colorSlot: Int
    var dashed = false
    var emphasized = false
    /// Points only, no line (a scatter of many points).
    var markersOnly = false
    /// Per-point confidence intervals, drawn as a shaded band around the line.
    var intervals: [(x: Double, low: Double, high: Double)] = []

    static func == (lhs: ChartSeries, rhs: ChartSeries) -> Bool {
        lhs.label == rhs.label && lhs.colorSlot == rhs.colorSlot && lhs.dashed == rhs.dashed && lhs.markersOnly == rhs.markersOnly
            && lhs.points.map(\.x) == rhs.points.map(\.x) && lhs.points.map(\.y) == rhs.points.map(\.y)
            && lhs.intervals.map(\.low) == rhs.intervals.map(\.low) && lhs.intervals.map(\.high) == rhs.intervals.map(\.high)
    }
}

/// A horizontal reference drawn across the plot: a line (`low == high`) or a shaded band.
struct ChartReference: Sendable, Equatable {
    var label: String
    var low: Double
    var high: Double
    var colorSlot: Int
}

/// A line chart rendered as self-contained SVG whose text and axes follow `currentColor`.
///
/// Colours come from CSS classes (`s0`…`s7`), so the page decides light and dark variants;
/// a standalone file carries the same rules in its own `<style>`.
struct LineChart: Sendable {
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [ChartSeries]
    var references: [ChartReference] = []
    var logY = false
    /// A base-2 logarithmic x axis (ticks at powers of two), for K or rank axes.
    var logX = false
    /// Joins each series' points in the order given rather than by x: an x–y path (a trajectory in a plane).
    var connectInOrder = false
    /// Draws the diagonal y = x with this label (quantile–quantile and calibration charts).
    var diagonal: String? = nil
    /// Labels for integer x positions (history charts); nil draws numeric ticks.
    var xCategories: [String]? = nil

    static let width = 760.0
    static let height = 360.0
    static let margin = (left: 64.0, right: 210.0, top: 34.0, bottom: 58.0)

    /// The chart's points that can be drawn (finite, and positive on a log axis).
    private func drawable(_ points: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        let kept = points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) && (!logX || $0.x > 0) }
        return connectInOrder ? kept : kept.sorted { $0.x < $1.x }
    }

    /// The SVG text; `standalone` adds the XML namespace header and the colour rules.
    func svg(id: String, standalone: Bool) -> String {
        let lines = series.map { drawable($0.points) }
        let xs = lines.flatMap { $0.map(\.x) }
        var ys = lines.flatMap { $0.map(\.y) }
        let bands = series.map { line in
            line.intervals.filter { $0.x.isFinite && $0.low.isFinite && $0.high.isFinite && (!logY || $0.low > 0) && (!logX || $0.x > 0) }
                .sorted { $0.x < $1.x }
        }
        ys += bands.flatMap { $0.flatMap { [$0.low, $0.high] } }
        ys += references.flatMap { [$0.low, $0.high] }.filter { $0.isFinite && (!logY || $0 > 0) }
        let plot = (x0: Self.margin.left, x1: Self.width - Self.margin.right,
                    y0: Self.margin.top, y1: Self.height - Self.margin.bottom)

        var xMin = xs.min() ?? 0, xMax = xs.max() ?? 1
        if let categories = xCategories { xMin = -0.5; xMax = Double(max(categories.count, 1)) - 0.5 }
        if xMax - xMin < 1e-12 { xMin -= 1; xMax += 1 }
        if connectInOrder && !logX {
            // An x–y path has no natural x range: pad it so points on the edge stay clear of the frame.
            let pad = (xMax - xMin) * 0.03
            xMin -= pad; xMax += pad
        }
        if logX {
            xMin = pow(2, floor(log2(max(xMin, .leastNormalMagnitude))))
            xMax = pow(2, max(ceil(log2(max(xMax, .leastNormalMagnitude))), log2(xMin) + 1))
        }
        var yMin = ys.min() ?? 0, yMax = ys.max() ?? 1
        let yTicks: [Double]
        if logY {
            let low = floor(log10(yMin)), high = ceil(log10(yMax))
            yMin = pow(10, low); yMax = pow(10, max(high, low + 1))
            yTicks = Self.logTicks(low: low, high: max(high, low + 1))
        } else {
            if yMax - yMin < 1e-12 { let pad = max(abs(yMax) * 0.1, 1e-3); yMin -= pad; yMax += pad }
            let ticks = Self.niceTicks(yMin, yMax, count: 6)
            yMin = min(yMin, ticks.first ?? yMin); yMax = max(yMax, ticks.last ?? yMax)
            yTicks = ticks
        }
        func px(_ x: Double) -> Double {
            let t = logX ? (log2(x) - log2(xMin)) / (log2(xMax) - log2(xMin)) : (x - xMin) / (xMax - xMin)
            return plot.x0 + t * (plot.x1 - plot.x0)
        }
        func py(_ y: Double) -> Double {
            let t = logY ? (log10(y) - log10(yMin)) / (log10(yMax) - log10(yMin)) : (y - yMin) / (yMax - yMin)
            return plot.y1 - t * (plot.y1 - plot.y0)
        }

        var out = ""
        let header = standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : ""
        out += "<svg\(header) id=\"\(escapeXML(id))\" class=\"chart\" viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" role=\"img\" aria-labelledby=\"\(escapeXML(id))-title\">\n"
        out += "<title id=\"\(escapeXML(id))-title\">\(escapeXML(title))</title>\n"
        if standalone {
            out += "<style>\(ChartStyle.css)\(ChartStyle.standaloneCSS)</style>\n"
            out += "<rect class=\"bg\" width=\"100%\" height=\"100%\"/>\n"
        }
        out += "<text class=\"ctitle\" x=\"\(fmt(plot.x0))\" y=\"20\">\(escapeXML(title))</text>\n"

        // Grid and y ticks.
        out += "<g class=\"axis\">\n"
        for tick in yTicks where tick >= yMin - 1e-12 && tick <= yMax + 1e-12 {
            let y = py(tick)
            out += "<line class=\"grid\" x1=\"\(fmt(plot.x0))\" x2=\"\(fmt(plot.x1))\" y1=\"\(fmt(y))\" y2=\"\(fmt(y))\"/>"
            out += "<text class=\"tick\" x=\"\(fmt(plot.x0 - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(Self.tickLabel(tick))</text>\n"
        }
        // X ticks.
        if let categories = xCategories {
            let stride = max(1, Int((Double(categories.count) / 8).rounded(.up)))
            for (index, label) in categories.enumerated() where index % stride == 0 || index == categories.count - 1 {
                let x = px(Double(index))
                out += "<line class=\"tickmark\" x1=\"\(fmt(x))\" x2=\"\(fmt(x))\" y1=\"\(fmt(plot.y1))\" y2=\"\(fmt(plot.y1 + 5))\"/>"
                let parts = label.split(separator: "\n", omittingEmptySubsequences: false)
                out += "<text class=\"tick\" x=\"\(fmt(x))\" y=\"\(fmt(plot.y1 + 17))\" text-anchor=\"middle\">"
                for (row, part) in parts.enumerated() {
                    out += "<tspan x=\"\(fmt(x))\" dy=\"\(row == 0 ? 0 : 12)\">\(escapeXML(String(part)))</tspan>"
                }
                out += "</text>\n"
            }
        } else {
            let integral = xs.allSatisfy { $0 == $0.rounded() }
            var ticks = logX ? Self.powerOfTwoTicks(xMin, xMax) : Self.niceTicks(xMin, xMax, count: 10)
            if integral && !logX { ticks = ticks.filter { $0 == $0.rounded() } }
            for tick in ticks where tick >= xMin - 1e-9 && tick <= xMax + 1e-9 {
                let x = px(tick)
                out += "<line class=\"tickmark\" x1=\"\(fmt(x))\" x2=\"\(fmt(x))\" y1=\"\(fmt(plot.y1))\" y2=\"\(fmt(plot.y1 + 5))\"/>"
                out += "<text class=\"tick\" x=\"\(fmt(x))\" y=\"\(fmt(plot.y1 + 18))\" text-anchor=\"middle\">\(Self.tickLabel(tick))</text>\n"
            }
        }
        out += "<rect class=\"frame\" x=\"\(fmt(plot.x0))\" y=\"\(fmt(plot.y0))\" width=\"\(fmt(plot.x1 - plot.x0))\" height=\"\(fmt(plot.y1 - plot.y0))\"/>\n"
        let xLabelY = plot.y1 + (xCategories == nil ? 40 : 46)
        out += "<text class=\"label\" x=\"\(fmt((plot.x0 + plot.x1) / 2))\" y=\"\(fmt(xLabelY))\" text-anchor=\"middle\">\(escapeXML(xLabel + (logX ? " (log₂ scale)" : "")))</text>\n"
        out += "<text class=\"label\" transform=\"translate(16 \(fmt((plot.y0 + plot.y1) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeXML(yLabel + (logY ? " (log scale)" : "")))</text>\n"
        out += "</g>\n"

        // References under the data.
        for reference in references where reference.low.isFinite && reference.high.isFinite {
            let low = py(logY ? max(reference.low, yMin) : reference.low), high = py(reference.high)
            if reference.low == reference.high {
                out += "<line class=\"ref s\(reference.colorSlot % 8)\" x1=\"\(fmt(plot.x0))\" x2=\"\(fmt(plot.x1))\" y1=\"\(fmt(low))\" y2=\"\(fmt(low))\"><title>\(escapeXML("\(reference.label): \(Self.valueText(reference.low))"))</title></line>\n"
            } else {
                out += "<rect class=\"band s\(reference.colorSlot % 8)\" x=\"\(fmt(plot.x0))\" y=\"\(fmt(min(low, high)))\" width=\"\(fmt(plot.x1 - plot.x0))\" height=\"\(fmt(max(abs(low - high), 1)))\"><title>\(escapeXML("\(reference.label): \(Self.valueText(reference.low)) … \(Self.valueText(reference.high))"))</title></rect>\n"
            }
        }

        // The diagonal y = x, clipped to the range both axes share.
        if let diagonal {
            let low = max(xMin, yMin), high = min(xMax, yMax)
            if high > low {
                out += "<line class=\"ref s5\" x1=\"\(fmt(px(low)))\" x2=\"\(fmt(px(high)))\" y1=\"\(fmt(py(low)))\" y2=\"\(fmt(py(high)))\"><title>\(escapeXML(diagonal))</title></line>\n"
            }
        }

        // Interval bands under the lines: the upper edge left to right, the lower edge back.
        for (line, band) in zip(series, bands) where band.count >= 2 {
            let edge = band.map { "\(fmt(px($0.x))),\(fmt(py($0.high)))" } + band.reversed().map { "\(fmt(px($0.x))),\(fmt(py($0.low)))" }
            out += "<polygon class=\"band s\(line.colorSlot % 8)\" points=\"\(edge.joined(separator: " "))\"><title>\(escapeXML("\(line.label): confidence band"))</title></polygon>\n"
        }

        // Data.
        for (line, points) in zip(series, lines) where !points.isEmpty {
            let classes = "series s\(line.colorSlot % 8)\(line.dashed ? " dashed" : "")\(line.emphasized ? " strong" : "")\(line.markersOnly ? " markers" : "")"
            let path = points.map { "\(fmt(px($0.x))),\(fmt(py($0.y)))" }.joined(separator: " ")
            out += "<g class=\"\(classes)\">" + (line.markersOnly ? "" : "<polyline points=\"\(path)\"/>")
            // Many points get small markers without tooltips, which keeps the page small.
            let withTitles = points.count <= 120
            for point in points {
                out += "<circle cx=\"\(fmt(px(point.x)))\" cy=\"\(fmt(py(point.y)))\" r=\"\(points.count > 40 ? 1.6 : 2.6)\">"
                if withTitles {
                    let name = xCategories.flatMap { Int(point.x) < $0.count && point.x >= 0 ? $0[Int(point.x)].replacingOccurrences(of: "\n", with: " ") : nil }
                        ?? Self.tickLabel(point.x)
                    out += "<title>\(escapeXML("\(line.label) @ \(name): \(Self.valueText(point.y))"))</title>"
                }
                out += "</circle>"
            }
            out += "</g>\n"
        }

        // Legend, right of the plot.
        out += "<g class=\"legend\">\n"
        var legendY = plot.y0 + 8
        let legendX = plot.x1 + 16
        for line in series {
            out += "<g class=\"series s\(line.colorSlot % 8)\(line.dashed ? " dashed" : "")\(line.emphasized ? " strong" : "")\">"
            out += line.markersOnly ? "<circle cx=\"\(fmt(legendX + 11))\" cy=\"\(fmt(legendY))\" r=\"3\"/></g>"
                : "<line x1=\"\(fmt(legendX))\" x2=\"\(fmt(legendX + 22))\" y1=\"\(fmt(legendY))\" y2=\"\(fmt(legendY))\"/></g>"
            out += "<text class=\"tick\" x=\"\(fmt(legendX + 28))\" y=\"\(fmt(legendY + 4))\">\(escapeXML(Self.clip(line.label)))</text>\n"
            legendY += 18
        }
        if let diagonal {
            out += "<line class=\"ref s5\" x1=\"\(fmt(legendX))\" x2=\"\(fmt(legendX + 22))\" y1=\"\(fmt(legendY + 5))\" y2=\"\(fmt(legendY - 5))\"/>"
            out += "<text class=\"tick\" x=\"\(fmt(legendX + 28))\" y=\"\(fmt(legendY + 4))\">\(escapeXML(Self.clip(diagonal)))</text>\n"
            legendY += 18
        }
        for reference in references {
            let kind = reference.low == reference.high ? "ref" : "band"
            if kind == "ref" {
                out += "<line class=\"ref s\(reference.colorSlot % 8)\" x1=\"\(fmt(legendX))\" x2=\"\(fmt(legendX + 22))\" y1=\"\(fmt(legendY))\" y2=\"\(fmt(legendY))\"/>"
            } else {
                out += "<rect class=\"band s\(reference.colorSlot % 8)\" x=\"\(fmt(legendX))\" y=\"\(fmt(legendY - 5))\" width=\"22\" height=\"10\"/>"
            }
            out += "<text class=\"tick\" x=\"\(fmt(legendX + 28))\" y=\"\(fmt(legendY + 4))\">\(escapeXML(Self.clip(reference.label)))</text>\n"
            legendY += 18
        }
        out += "</g>\n</svg>\n"
        return out
    }

    private static func clip(_ text: String) -> String { text.count > 27 ? String(text.prefix(26)) + "…" : text }

    /// Round-numbered ticks (1, 2, 5 × 10ⁿ steps) covering `low…high`.
    static func niceTicks(_ low: Double, _ high: Double, count: Int) -> [Double] {
        guard low.isFinite, high.isFinite, high > low else { return [low] }
        let raw = (high - low) / Double(max(count - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var ticks: [Double] = []
        var tick = floor(low / step) * step
        while tick <= high + step * 0.5 && ticks.count < 50 {
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return ticks
    }

    /// Powers of two covering `low…high` (every other one when there are more than ten).
    static func powerOfTwoTicks(_ low: Double, _ high: Double) -> [Double] {
        guard low > 0, high > low else { return [low] }
        let exponents = Array(Int(floor(log2(low)))...Int(ceil(log2(high))))
        let stride = exponents.count > 10 ? 2 : 1
        return exponents.enumerated().filter { $0.offset % stride == 0 }.map { pow(2, Double($0.element)) }
    }

    /// Decades, with 2 and 5 in between when the axis spans few of them.
    static func logTicks(low: Double, high: Double) -> [Double] {
        var ticks: [Double] = []
        for exponent in Int(low)...Int(high) {
            let decade = pow(10, Double(exponent))
            ticks.append(decade)
            if high - low <= 2, exponent < Int(high) { ticks += [2 * decade, 5 * decade] }
        }
        return ticks
    }

    static func tickLabel(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.0e", value) }
        if value == value.rounded() { return String(format: "%.0f", value) }
        let text = String(format: "%.4g", value)
        return text
    }

    static func valueText(_ value: Double) -> String { String(format: "%.6g", value) }
}

/// The colour and line rules shared by the page and standalone chart files.
enum ChartStyle {
    static let css = """
    svg.chart{font:12px system-ui,-apple-system,"Segoe UI",sans-serif;max-width:100%;height:auto}
    svg.chart text{fill:currentColor}
    svg.chart .ctitle{font-weight:600;font-size:13px}
    svg.chart .label{font-size:12px}
    svg.chart .tick{font-size:11px;fill-opacity:.85}
    svg.chart .grid{stroke:currentColor;stroke-opacity:.12}
    svg.chart .tickmark{stroke:currentColor;stroke-opacity:.6}
    svg.chart .frame{fill:none;stroke:currentColor;stroke-opacity:.45}
    svg.chart .series polyline,svg.chart .series line{fill:none;stroke-width:1.8;stroke-linejoin:round}
    svg.chart .series.strong polyline,svg.chart .series.strong line{stroke-width:2.8}
    svg.chart .series.dashed polyline,svg.chart .series.dashed line{stroke-dasharray:6 4}
    svg.chart .ref{stroke-width:1.4;stroke-dasharray:2 3}
    svg.chart .band{stroke:none;fill-opacity:.16}
    svg.chart .series.markers circle{fill-opacity:.55;stroke:none}
    svg.chart .cell{stroke:none}svg.chart .cell.k0{fill:#1f6feb}svg.chart .cell.k1{fill:#bc4c00}svg.chart .cell.k2{fill:#1a7f37}
    svg.chart .s0{stroke:#1f6feb;fill:#1f6feb}svg.chart .s1{stroke:#d1242f;fill:#d1242f}
    svg.chart .s2{stroke:#1a7f37;fill:#1a7f37}svg.chart .s3{stroke:#bc4c00;fill:#bc4c00}
    svg.chart .s4{stroke:#8250df;fill:#8250df}svg.chart .s5{stroke:#6e7781;fill:#6e7781}
    svg.chart .s6{stroke:#bf3989;fill:#bf3989}svg.chart .s7{stroke:#0a7c86;fill:#0a7c86}
    @media (prefers-color-scheme:dark){
    svg.chart .s0{stroke:#58a6ff;fill:#58a6ff}svg.chart .s1{stroke:#ff7b72;fill:#ff7b72}
    svg.chart .s2{stroke:#3fb950;fill:#3fb950}svg.chart .s3{stroke:#f0883e;fill:#f0883e}
    svg.chart .s4{stroke:#bc8cff;fill:#bc8cff}svg.chart .s5{stroke:#9da7b3;fill:#9da7b3}
    svg.chart .s6{stroke:#ff80c8;fill:#ff80c8}svg.chart .s7{stroke:#39c5cf;fill:#39c5cf}}
    """

    /// A standalone file has no page around it: it paints its own background and text colour.
    static let standaloneCSS = """
    svg.chart{color:#1f2328}.bg{fill:#ffffff}
    @media (prefers-color-scheme:dark){svg.chart{color:#e6edf3}.bg{fill:#0d1117}}
    """
}

func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

/// Escapes text for XML/HTML content and attribute values.
func escapeXML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(character)
        }
    }
    return out
}
