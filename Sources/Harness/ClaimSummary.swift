import Evidence
import Foundation
import Recording

/// One row per claim of a run, for people: the model's verdict with the statistic it rests on and
/// that statistic's interval, each control's outcome, and the time the claim took.
///
/// The key criterion is the one that decided the verdict: the first that failed (refuted), the
/// first left undecided (inconclusive), else the claim's first criterion.
public struct ClaimSummary: Sendable {
    public struct Row: Sendable {
        public var claim: String
        public var verdict: Verdict
        public var key: Criterion?
        /// Criteria left undecided, by name.
        public var undecided: [String]
        public var controls: [(name: String, verdict: Verdict, expected: Verdict?)]
        public var overrides: [Criterion]
        public var seconds: Double
        public var error: String?

        /// Whether every control came out as its suite entry expects.
        public var controlsAsExpected: Bool {
            controls.allSatisfy { $0.expected == nil || $0.verdict == $0.expected || $0.verdict == .informational }
        }
    }

    public var rows: [Row]

    public init(run: RunRecord) {
        var order: [String] = []
        for result in run.results where !order.contains(result.claimID) { order.append(result.claimID) }
        rows = order.map { claim in
            let results = run.results.filter { $0.claimID == claim }
            let model = results.first { $0.subject == "model" }
            let criteria = model?.criteria ?? []
            let key = criteria.first { $0.outcome == .failed } ?? criteria.first { $0.outcome == .undecided } ?? criteria.first
            return Row(claim: claim, verdict: model?.verdict ?? .error, key: key,
                       undecided: criteria.filter { $0.outcome == .undecided }.map(\.name),
                       controls: results.filter { $0.subject != "model" }.map { ($0.subject, $0.verdict, $0.expectedVerdict) },
                       overrides: results.flatMap(\.criteria).filter { $0.override != nil }
                           .reduce(into: [Criterion]()) { list, c in if !list.contains(where: { $0.name == c.name }) { list.append(c) } },
                       seconds: Double(results.reduce(0) { $0 + $1.durationNS }) / 1e9, error: model?.error)
        }
    }

    /// `R = 0.840 [0.826, 0.851] ≥ 0.7 (n = 200 prompts)`.
    static func keyText(_ row: Row) -> String {
        if let error = row.error { return "error: \(error)" }
        guard let key = row.key else { return "—" }
        var text = "\(key.statistic) = \(key.observedWithInterval) \(key.comparison.symbol) \(Interval.format(key.threshold))"
        if let interval = key.interval {
            text += interval.reachesNominalCoverage
                ? " (n = \(interval.sampleSize) \(interval.unit))"
                : " (n = \(interval.sampleSize) \(interval.unit) < \(interval.method.minimumSampleSize): too few for a \(interval.method.rawValue) interval, undecided)"
        }
        return text
    }

    static func controlText(_ control: (name: String, verdict: Verdict, expected: Verdict?), markdown: Bool) -> String {
        let ok = control.expected == nil || control.verdict == control.expected || control.verdict == .informational
        let mark = ok ? (markdown ? "✅" : "ok") : (markdown ? "❌" : "FAIL")
        let expected = !ok ? " (expected \(control.expected?.rawValue ?? "—"))" : ""
        return "\(control.name) \(control.verdict.rawValue)\(expected) \(mark)"
    }

    static func verdictText(_ row: Row) -> String {
        row.verdict == .inconclusive && !row.undecided.isEmpty
            ? "inconclusive (undecided: \(row.undecided.joined(separator: ", ")))" : row.verdict.rawValue
    }

    /// The terminal table printed at the end of `rbench run`.
    public func table() -> String {
        let header = ["claim", "verdict", "key statistic [interval]", "controls", "time"]
        let body = rows.map { row in
            [row.claim, Self.verdictText(row), Self.keyText(row),
             row.controls.isEmpty ? "—" : row.controls.map { Self.controlText($0, markdown: false) }.joined(separator: "; "),
             String(format: "%.1f s", row.seconds)]
        }
        let widths = header.indices.map { column in ([header] + body).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        var lines = [line(header)] + body.map(line)
        for row in rows { for criterion in row.overrides { lines.append(Self.overrideText(row.claim, criterion)) } }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The Markdown table of a PR comment.
    public func markdown() -> String {
        var text = "| claim | verdict | key statistic [interval] | controls | time |\n|---|---|---|---|---|\n"
        for row in rows {
            let verdict: String
            switch row.verdict {
            case .supported: verdict = "✅ supported"
            case .refuted: verdict = "⛔ refuted"
            case .inconclusive: verdict = "❔ " + Self.verdictText(row)
            case .informational: verdict = "ℹ️ informational"
            case .error: verdict = "💥 error"
            case .needsEngine: verdict = "⏭️ needs an engine"
            }
            let controls = row.controls.isEmpty ? "—" : row.controls.map { Self.controlText($0, markdown: true) }.joined(separator: "<br>")
            text += "| \(row.claim) | \(verdict) | \(Self.keyText(row).replacingOccurrences(of: "|", with: "\\|")) | \(controls) | \(String(format: "%.1f s", row.seconds)) |\n"
        }
        let overrides = rows.flatMap { row in row.overrides.map { Self.overrideText(row.claim, $0) } }
        if !overrides.isEmpty { text += "\n" + overrides.map { "- \($0)" }.joined(separator: "\n") + "\n" }
        return text
    }

    static func overrideText(_ claim: String, _ criterion: Criterion) -> String {
        guard let override = criterion.override else { return "" }
        return "override \(claim) \(criterion.name): \(criterion.statistic) \(criterion.comparison.symbol) \(Interval.format(override.value)) "
            + "instead of \(Interval.format(override.original)) — \(override.reason)"
    }
}
