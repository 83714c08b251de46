import Foundation

/// Side-by-side square grids of categorical cells (e.g. which anchor is nearest at each point of a
/// 2-D slice), rendered as self-contained SVG in the same style as ``LineChart``.
struct HeatMap: Sendable {
    /// One grid: `cells[row * size + column]`, row 0 drawn at the bottom (the y axis grows upward).
    struct Panel: Sendable {
        var label: String
        var size: Int
        var cells: [Int]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var panels: [Panel]
    /// The legend text of each category (category k is drawn with class `k<k>`).
    var categories: [String]

    static let width = 760.0
    static let height = 360.0

    func svg(id: String, standalone: Bool) -> String {
        let header = standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : ""
        var out = "<svg\(header) id=\"\(escapeXML(id))\" class=\"chart\" viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" role=\"img\" aria-labelledby=\"\(escapeXML(id))-title\">\n"
        out += "<title id=\"\(escapeXML(id))-title\">\(escapeXML(title))</title>\n"
        if standalone {
            out += "<style>\(ChartStyle.css)\(ChartStyle.standaloneCSS)</style>\n"
            out += "<rect class=\"bg\" width=\"100%\" height=\"100%\"/>\n"
        }
        out += "<text class=\"ctitle\" x=\"64\" y=\"20\">\(escapeXML(title))</text>\n"
        let side = 250.0, top = 52.0, gap = 40.0
        for (index, panel) in panels.enumerated() where panel.size > 0 {
            let x0 = 64 + Double(index) * (side + gap), cell = side / Double(panel.size)
            out += "<text class=\"label\" x=\"\(fmt(x0 + side / 2))\" y=\"\(fmt(top - 8))\" text-anchor=\"middle\">\(escapeXML(panel.label))</text>\n<g>"
            for (k, value) in panel.cells.enumerated() where k < panel.size * panel.size {
                let row = k / panel.size, column = k % panel.size
                let y = top + side - Double(row + 1) * cell
                out += "<rect class=\"cell k\(max(0, value) % 3)\" x=\"\(fmt(x0 + Double(column) * cell))\" y=\"\(fmt(y))\" width=\"\(fmt(cell + 0.3))\" height=\"\(fmt(cell + 0.3))\"/>"
            }
            out += "</g>\n<rect class=\"frame\" x=\"\(fmt(x0))\" y=\"\(fmt(top))\" width=\"\(fmt(side))\" height=\"\(fmt(side))\"/>\n"
            out += "<text class=\"label\" x=\"\(fmt(x0 + side / 2))\" y=\"\(fmt(top + side + 22))\" text-anchor=\"middle\">\(escapeXML(xLabel))</text>\n"
            out += "<text class=\"label\" transform=\"translate(\(fmt(x0 - 10)) \(fmt(top + side / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeXML(yLabel))</text>\n"
        }
        var legendY = top + 8
        let legendX = 64 + Double(panels.count) * (side + gap)
        for (k, label) in categories.enumerated() {
            out += "<rect class=\"cell k\(k % 3)\" x=\"\(fmt(legendX))\" y=\"\(fmt(legendY - 6))\" width=\"14\" height=\"12\"/>"
            out += "<text class=\"tick\" x=\"\(fmt(legendX + 20))\" y=\"\(fmt(legendY + 4))\">\(escapeXML(label))</text>\n"
            legendY += 18
        }
        out += "</svg>\n"
        return out
    }
}
