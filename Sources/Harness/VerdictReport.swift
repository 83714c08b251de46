import Foundation
import Recording

/// Renders verdicts for people (table, markdown) and machines (versioned JSON, JUnit).
public enum VerdictReport {
    public static let jsonSchemaVersion = 1

    /// Worst first, then by check and metric.
    public static func sorted(_ verdicts: [MetricVerdict]) -> [MetricVerdict] {
        verdicts.sorted { ($0.outcome.severity, $0.check, $0.metric) < ($1.outcome.severity, $1.check, $1.metric) }
    }

    /// The human table, worst first, with reason codes: every claim-level verdict and every metric
    /// that needs attention; metrics that passed, and metrics without a baseline, are counted per
    /// check unless `full`. With a `regime` its line closes the table; when no baseline exists at
    /// all, that line says so once instead of one `missing` row per check.
    public static func table(_ verdicts: [MetricVerdict], full: Bool = false, regime: ComparisonRegime? = nil) -> String {
        var shown = verdicts
        var collapsed: [[String]] = []
        let noBaseline = regime?.kind == ComparisonRegime.Kind.none
        if noBaseline && !full {
            shown = verdicts.filter { $0.metric == claimVerdictMetric || $0.reason != "NO_BASELINE" }
        } else if !full {
            let quiet: Set<VerdictOutcome> = [.pass, .missing]
            shown = verdicts.filter { $0.metric == "(verdict)" || !quiet.contains($0.outcome) }
            let hidden = verdicts.filter { $0.metric != "(verdict)" && quiet.contains($0.outcome) }
            for (key, group) in Dictionary(grouping: hidden, by: { "\($0.outcome.rawValue)|\($0.check)" }).sorted(by: { $0.key < $1.key }) {
                let first = group[0]
                collapsed.append([first.outcome.rawValue, first.check, "(\(group.count) metrics)", "", "", "", first.reason,
                                  first.outcome == .missing ? first.detail : "equal to the baseline"])
                _ = key
            }
        }
        let rows: [[String]] = sorted(shown).map { verdict -> [String] in
            let observed: String = verdict.observed.map { "\($0)" } ?? ""
            let reference: String = verdict.reference.map { "\($0)" } ?? ""
            let ulp: String = verdict.ulpDistance.map { "\($0)" } ?? ""
            return [verdict.outcome.rawValue, verdict.check, verdict.metric, observed, reference, ulp, verdict.reason, verdict.detail]
        }
            + collapsed
        let header = ["outcome", "check", "metric", "observed", "reference", "ulp", "reason", "detail"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        let counts = Dictionary(grouping: verdicts, by: \.outcome).sorted { $0.key.severity < $1.key.severity }
            .map { "\($0.value.count) \($0.key.rawValue)" }.joined(separator: ", ")
        let closing = regime.map { ["", $0.summary] } ?? []
        return ([line(header)] + rows.map(line) + ["", verdicts.isEmpty ? "no verdicts" : counts] + closing).joined(separator: "\n") + "\n"
    }

    /// The versioned verdict document CI scripts read.
    /// `regime` (when given) says which rule judged the deterministic metrics (absent in older documents).
    public static func json(run: RunRecord, verdicts: [MetricVerdict], exitCode: Int32, regime: ComparisonRegime? = nil) -> Data {
        struct Document: Encodable {
            var schema: Int
            var runID: String
            var suite: String
            var revision: RevisionInfo
            var environmentFingerprint: String
            var determinismClass: String
            var exitCode: Int32
            var regime: ComparisonRegime?
            var verdicts: [MetricVerdict]
        }
        let document = Document(schema: jsonSchemaVersion, runID: run.id, suite: run.suite, revision: run.revision,
                                environmentFingerprint: run.environment.fingerprint,
                                determinismClass: run.environment.determinismClass, exitCode: exitCode,
                                regime: regime, verdicts: sorted(verdicts))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return (try? encoder.encode(document)) ?? Data("{}".utf8)
    }

    /// JUnit XML: one testcase per check × metric; regressions and changes fail, missing/stale/inconclusive skip.
    public static func junit(run: RunRecord, verdicts: [MetricVerdict]) -> String {
        let failing: Set<VerdictOutcome> = [.regress, .changed]
        let skipped: Set<VerdictOutcome> = [.missing, .stale, .inconclusive]
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                     "<testsuite name=\"\(escape("rbench \(run.suite)"))\" tests=\"\(verdicts.count)\" failures=\"\(verdicts.filter { failing.contains($0.outcome) }.count)\" skipped=\"\(verdicts.filter { skipped.contains($0.outcome) }.count)\">"]
        for verdict in sorted(verdicts) {
            let name = "<testcase classname=\"\(escape(verdict.check))\" name=\"\(escape(verdict.metric))\""
            let message = escape("\(verdict.outcome.rawValue) \(verdict.reason): \(verdict.detail)")
            if failing.contains(verdict.outcome) {
                lines.append("  \(name)><failure message=\"\(message)\" type=\"\(verdict.reason)\"/></testcase>")
            } else if skipped.contains(verdict.outcome) {
                lines.append("  \(name)><skipped message=\"\(message)\"/></testcase>")
            } else {
                lines.append("  \(name)/>")
            }
        }
        lines.append("</testsuite>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A PR-comment body: the status line, one row per claim (verdict, key statistic with its
    /// interval, controls, time), the claims whose verdict depends on the text source, and the
    /// table of every verdict that is not a pass.
    public static func markdown(run: RunRecord, verdicts: [MetricVerdict], exitCode: Int32, regime: ComparisonRegime? = nil) -> String {
        let noBaseline = regime?.kind == ComparisonRegime.Kind.none
        let problems = sorted(verdicts).filter { $0.outcome != .pass && $0.outcome != .missing }
        let missing = verdicts.filter { $0.outcome == .missing }.count
        var text = "### rbench \(run.suite): \(exitCode == 0 ? "✅ no findings" : "❌ exit code \(exitCode)")\n\n"
        let model = run.artifacts.first { $0.role == "model" }.map { URL(fileURLWithPath: $0.path).lastPathComponent } ?? "model"
        text += "Run `\(run.id)` of `\(model)` (`\(run.modelSHA256.prefix(8))`) at `\(run.revision.commitSHA?.prefix(12) ?? "no commit")`"
            + "\(run.revision.isDirty ? " (dirty)" : ""), determinism class `\(run.environment.determinismClass)`; "
            + "\(verdicts.count) verdicts, \(problems.count) not passing"
            + (missing > 0 ? ", \(missing) without a baseline (nothing compared for them)" : "") + ".\n\n"
        if let regime { text += (noBaseline ? "**\(regime.summary)**" : regime.summary) + "\n\n" }
        let level = run.results.lazy.flatMap(\.criteria).compactMap(\.interval).first?.level ?? 0.95
        text += "Verdicts: supported only if every criterion holds over its whole \(Int((level * 100).rounded())) % interval, "
            + "refuted if one fails over its whole interval, otherwise inconclusive.\n\n"
        text += ClaimSummary(run: run).markdown()
        let dependent = VerdictMatrix.corpusDependence(run)
        if !dependent.isEmpty {
            text += "\n**Corpus-dependent** (the verdict differs between text sources):\n"
            for entry in dependent {
                text += "- \(entry.check): " + entry.verdicts.map { "\($0.claim) \($0.verdict.rawValue)" }.joined(separator: ", ") + "\n"
            }
        }
        guard !problems.isEmpty else { return text }
        text += "\n<details open><summary>\(problems.count) verdict(s) not passing</summary>\n\n"
        text += "| outcome | check | metric | observed | reference | reason | detail |\n|---|---|---|---|---|---|---|\n"
        for verdict in problems.prefix(200) {
            let detail = verdict.detail.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
            text += "| \(verdict.outcome.rawValue) | \(verdict.check) | \(verdict.metric) | \(verdict.observed.map { "\($0)" } ?? "") | \(verdict.reference.map { "\($0)" } ?? "") | \(verdict.reason) | \(detail) |\n"
        }
        if problems.count > 200 { text += "\n… and \(problems.count - 200) more (see the run file).\n" }
        text += "\n</details>\n"
        return text
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
