import Claims
import Evidence
import Foundation
import Recording

/// A self-contained HTML report of one run: identity, regressions, verdicts, per-claim figures, history.
///
/// The page has no external resource (inline CSS and SVG, no script); every chart is also
/// available as a standalone SVG file.
public struct HTMLReport: Sendable {
    /// One chart as a standalone SVG document.
    public struct Chart: Sendable, Equatable {
        /// `<figure-id>.svg`.
        public var fileName: String
        public var svg: String
    }

    /// The whole page.
    public var html: String
    /// Every chart of the page, in page order.
    public var charts: [Chart]

    /// Renders the report of `run`.
    ///
    /// - Parameters:
    ///   - verdicts: the run judged against the baselines (`Comparator.compare`); non-pass ones are listed on top.
    ///   - history: when non-nil, other runs whose scalar metrics are drawn across revisions.
    ///   - baseline: the baseline file the run is judged against, for history reference lines.
    ///   - claims: the claims whose titles and sources label the sections.
    ///   - notices: warnings about how the run was recorded (e.g. verdicts never stored), shown under the identity.
    public static func render(run: RunRecord, verdicts: [MetricVerdict], history: [RunRecord]? = nil,
                              baseline: BaselineFile? = nil, claims: [any Claim] = ClaimCatalog.all,
                              notices: [String] = []) -> HTMLReport {
        var page = ReportPage()
        let catalog = Dictionary(claims.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let claimIDs = run.results.map(\.claimID).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        var figures: [ReportFigure] = []

        page.identity(run)
        page.notices(notices)
        page.regressions(verdicts, suite: run.suite)
        page.verdictTable(run)
        for claimID in claimIDs {
            let results = run.results.filter { $0.claimID == claimID }
            // A variant (`TD-1@walden`) draws its claim's figures under its own figure ids.
            let (base, variant) = ClaimFigures.splitVariant(claimID)
            var set = ClaimFigures.figures(claim: base, results: results)
            if let variant {
                for index in set.primary.indices { set.primary[index].id += "-\(variant)" }
                for index in set.more.indices { set.more[index].id += "-\(variant)" }
            }
            page.claimSection(claimID, claim: catalog[base], results: results, figures: set)
            figures += set.primary + set.more
        }
        if let history {
            let historyFigures = ReportHistory.figures(current: run, runs: history, baseline: baseline)
            page.historySection(historyFigures, runCount: history.count)
            figures += historyFigures
        }
        page.footer(run)
        return HTMLReport(html: page.finish(title: "rbench report · \(run.suite) · \(run.revision.commitSHA?.prefix(7) ?? "no commit")"),
                          charts: figures.map { Chart(fileName: "\($0.id).svg", svg: $0.svg(standalone: true)) })
    }

    /// Writes `index.html` and every chart's SVG file into `directory` (created if needed); returns the page's URL.
    @discardableResult
    public func write(to directory: URL) throws(HarnessError) -> URL {
        let index = directory.appendingPathComponent("index.html")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(html.utf8).write(to: index, options: .atomic)
            for chart in charts {
                try Data(chart.svg.utf8).write(to: directory.appendingPathComponent(chart.fileName), options: .atomic)
            }
        } catch {
            throw .badInput("cannot write the report into \(directory.path): \(error.localizedDescription); check that the folder is writable")
        }
        return index
    }
}

/// Accumulates the page body section by section.
struct ReportPage {
    var body = ""
    var nav: [(id: String, label: String)] = []

    static func short(_ sha: String?, _ length: Int = 12) -> String { sha.map { String($0.prefix(length)) } ?? "—" }

    static func duration(_ nanoseconds: UInt64) -> String {
        let seconds = Double(nanoseconds) / 1e9
        return seconds >= 10 ? String(format: "%.1f s", seconds) : seconds >= 0.1 ? String(format: "%.2f s", seconds) : String(format: "%.0f ms", seconds * 1000)
    }

    static func date(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds)) + " UTC"
    }

    static func anchor(_ claim: String) -> String { "claim-" + ClaimFigures.figureID(claim, "").dropLast() }

    static func badge(_ text: String, _ kind: String) -> String { "<span class=\"badge \(kind)\">\(escapeXML(text))</span>" }

    static func verdictBadge(_ verdict: RecordedVerdict, expected: RecordedVerdict?) -> String {
        let kind: String
        if let expected, verdict != expected { kind = "bad" } else {
            switch verdict {
            case .supported: kind = "good"
            case .refuted: kind = expected == .refuted ? "good" : "bad"
            case .informational: kind = "info"
            case .inconclusive: kind = expected == .inconclusive ? "good" : "warn"
            case .error: kind = "bad"
            case .needsEngine: kind = "info"
            }
        }
        return badge(verdict.rawValue, kind)
    }

    mutating func identity(_ run: RunRecord) {
        let revision = run.revision
        let environment = run.environment
        let corpora = run.corporaSHA256.sorted { $0.key < $1.key }
            .map { "\(escapeXML($0.key)) <code>\(Self.short($0.value))</code>" }.joined(separator: ", ")
        let rows: [(String, String)] = [
            ("commit", "<code>\(Self.short(revision.commitSHA))</code> " + (revision.inRepository
                ? (revision.isDirty ? Self.badge("dirty", "bad") : Self.badge("clean", "good")) : Self.badge("not in a repository", "info"))),
            ("branch", escapeXML(revision.branch ?? "detached")),
            ("suite", "\(escapeXML(run.suite)) <code>\(Self.short(run.suiteSHA256))</code>"),
            ("model", "<code>\(Self.short(run.modelSHA256))</code> \(escapeXML(run.artifacts.first { $0.role == "model" }.map { URL(fileURLWithPath: $0.path).lastPathComponent } ?? ""))"),
            ("corpora", corpora.isEmpty ? "—" : corpora),
            ("machine", escapeXML("\(environment.cpuModel) (\(environment.cpuArch)), \(environment.threads) threads, BLAS core \(environment.blasCoreType)\(environment.blasCoreOverride.map { " (\($0))" } ?? "")")),
            ("determinism class", "<code>\(escapeXML(environment.determinismClass))</code>"),
            ("date", escapeXML(Self.date(run.startedAt)) + (run.finishedAt.map { " · took " + Self.duration(UInt64(max(0, $0 - run.startedAt) * 1e9)) } ?? "")),
            ("run", "<code>\(escapeXML(run.id))</code> · \(escapeXML(run.status.rawValue)) · seed \(run.masterSeed)"),
        ]
        body += "<header id=\"identity\"><h1>ResidualBench · \(escapeXML(run.suite))</h1>\n<dl class=\"identity\">\n"
        for (key, value) in rows { body += "<dt>\(key)</dt><dd>\(value)</dd>\n" }
        body += "</dl></header>\n"
    }

    mutating func notices(_ notices: [String]) {
        guard !notices.isEmpty else { return }
        body += "<section id=\"notices\">\n"
        for notice in notices { body += "<p>\(Self.badge("warning", "bad")) \(escapeXML(notice))</p>\n" }
        body += "</section>\n"
    }

    mutating func regressions(_ verdicts: [MetricVerdict], suite: String) {
        let notPassing = verdicts.filter { $0.outcome != .pass }
        let missing = notPassing.filter { $0.outcome == .missing }
        let findings = VerdictReport.sorted(notPassing.filter { $0.outcome != .missing })
        body += "<section id=\"regressions\"><h2>Against the baseline</h2>\n"
        if verdicts.isEmpty {
            body += "<p class=\"muted\">Not compared with any baseline.</p>"
        } else if notPassing.isEmpty {
            body += "<p>\(Self.badge("all pass", "good")) \(verdicts.count) verdicts, every one equal to the baseline.</p>"
        } else {
            let passing = verdicts.count - notPassing.count
            // No file at all (not merely a line missing from one): say it before any count.
            if !missing.isEmpty, missing.allSatisfy({ $0.reason == "NO_BASELINE" && $0.referenceKind == "none" }) {
                body += "<p>\(Self.badge("no baseline", "bad")) Nothing was compared: suite \(escapeXML(suite)) has no baseline file. "
                    + "<code>rbench baseline init --suite \(escapeXML(suite))</code> writes a candidate from this run to review and commit; "
                    + "until then runs exit 0, and 4 with <code>--strict</code>.</p>\n"
            }
            body += "<p>\(findings.isEmpty ? Self.badge("no regressions", "good") : Self.badge("\(findings.count) not passing", "bad")) "
                + "\(passing) pass, \(missing.count) without a baseline value.</p>\n"
        }
        if !findings.isEmpty {
            body += "<table class=\"findings\"><thead><tr><th>outcome</th><th>check</th><th>metric</th><th>observed</th><th>reference</th><th>reason</th><th>detail</th></tr></thead><tbody>\n"
            for verdict in findings {
                let claim = String(verdict.check.split(separator: "/").first ?? "")
                body += "<tr><td>\(Self.badge(verdict.outcome.rawValue, verdict.outcome == .improve || verdict.outcome == .acknowledged ? "info" : "bad"))</td>"
                    + "<td><a href=\"#\(Self.anchor(claim))\">\(escapeXML(verdict.check))</a></td><td><code>\(escapeXML(verdict.metric))</code></td>"
                    + "<td class=\"num\">\(verdict.observed.map(LineChart.valueText) ?? "")</td><td class=\"num\">\(verdict.reference.map(LineChart.valueText) ?? "")</td>"
                    + "<td><code>\(escapeXML(verdict.reason))</code></td><td>\(escapeXML(verdict.detail))</td></tr>\n"
            }
            body += "</tbody></table>\n"
        }
        body += "</section>\n"
    }

    mutating func verdictTable(_ run: RunRecord) {
        body += "<section id=\"verdicts\"><h2>Verdicts</h2>\n<p class=\"muted\">A claim is supported only when every criterion holds over its whole \(Self.levelText(run)) interval, refuted when one fails over its whole interval, inconclusive otherwise.</p>\n<table class=\"verdicts\"><thead><tr><th>claim</th><th>subject</th><th>verdict</th><th>expected</th><th>criteria (observed [interval], n)</th><th>duration</th></tr></thead><tbody>\n"
        for result in run.results {
            let criteria = result.criteria.map(Self.criterionHTML).joined(separator: "<br>")
                + (result.error.map { "<br><span class=\"bad-text\">error: \(escapeXML($0))</span>" } ?? "")
            body += "<tr><td><a href=\"#\(Self.anchor(result.claimID))\">\(escapeXML(result.claimID))</a></td><td>\(escapeXML(result.subject))</td>"
                + "<td>\(Self.verdictBadge(result.verdict, expected: result.expectedVerdict))</td><td>\(result.expectedVerdict.map { escapeXML($0.rawValue) } ?? "<span class=\"muted\">—</span>")</td>"
                + "<td class=\"notes\">\(criteria)</td><td class=\"num\">\(Self.duration(result.durationNS))</td></tr>\n"
        }
        body += "</tbody></table></section>\n"
    }

    /// One judged criterion: its outcome mark, rule, observed value with interval and sample size, and any override.
    static func criterionHTML(_ criterion: Criterion) -> String {
        let mark: String
        switch criterion.outcome {
        case .held: mark = "<span class=\"good-text\" title=\"held over its whole interval\">✓</span>"
        case .failed: mark = "<span class=\"bad-text\" title=\"failed over its whole interval\">✗</span>"
        case .undecided: mark = "<span class=\"warn-text\" title=\"the interval straddles the threshold\">?</span>"
        }
        var text = "\(mark) <code>\(escapeXML(criterion.rule))</code>: \(escapeXML(criterion.observedWithInterval))"
        if let interval = criterion.interval {
            text += " <span class=\"muted\">(\(interval.method.rawValue), n = \(interval.sampleSize) \(escapeXML(interval.unit)))</span>"
        }
        if let override = criterion.override {
            text += " <span class=\"warn-text\">override: threshold \(Interval.format(override.original)) → \(Interval.format(override.value)) — \(escapeXML(override.reason))</span>"
        }
        return text
    }

    /// "95 %" from the first interval of the run (the suite's level).
    static func levelText(_ run: RunRecord) -> String {
        let level = run.results.lazy.flatMap(\.criteria).compactMap(\.interval).first?.level ?? 0.95
        return "\(Int((level * 100).rounded())) %"
    }

    /// A result note with its `pass:`/`fail:` prefix marked.
    static func noteHTML(_ raw: String) -> String {
        let note = roundingLongNumbers(raw)
        if note.hasPrefix("pass:") { return "<span class=\"good-text\">✓</span> " + escapeXML(String(note.dropFirst(5))) }
        if note.hasPrefix("fail:") { return "<span class=\"bad-text\">✗</span> " + escapeXML(String(note.dropFirst(5))) }
        return "<span class=\"muted\">\(escapeXML(note))</span>"
    }

    /// Shortens numbers printed with full precision (`0.8419998926317291` → `0.842`); the run file keeps the exact values.
    static func roundingLongNumbers(_ text: String) -> String {
        var out = ""
        var number = ""
        func flush() {
            if number.count > 7, let value = Double(number), number.contains(".") {
                out += String(format: "%.4g", value)
            } else {
                out += number
            }
            number = ""
        }
        for character in text {
            if character.isASCII && (character.isNumber || character == "." || (character == "-" && number.isEmpty)
                || (character == "e" && !number.isEmpty)) {
                number.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out
    }

    mutating func claimSection(_ id: String, claim: (any Claim)?, results: [ResultRecord], figures: ClaimFigureSet) {
        let anchor = Self.anchor(id)
        nav.append((anchor, id))
        body += "<section class=\"claim\" id=\"\(anchor)\"><h2>\(escapeXML(id))\(claim.map { " · " + escapeXML($0.title) } ?? "")</h2>\n"
        if let claim { body += "<p class=\"source\">\(escapeXML(claim.source))</p>\n" }
        if let summary = ClaimDescriptions.description(of: id)?.summary { body += "<p class=\"summary\">\(escapeXML(summary))</p>\n" }
        body += "<div class=\"claim-body\"><div class=\"figures\">\n"
        if figures.primary.isEmpty { body += "<p class=\"muted\">No metric of this claim has \(ClaimFigures.minimumLayers) or more layer values to draw.</p>\n" }
        for figure in figures.primary { appendFigure(figure) }
        body += "</div><aside class=\"criteria\">\n"
        for result in results {
            body += "<h3>\(escapeXML(result.subject)) \(Self.verdictBadge(result.verdict, expected: result.expectedVerdict))</h3><ul>"
            for criterion in result.criteria { body += "<li>\(Self.criterionHTML(criterion))</li>" }
            for note in result.notes { body += "<li>\(Self.noteHTML(note))</li>" }
            body += "</ul>\n"
        }
        body += "</aside></div>\n"
        appendScalarTable(results)
        if !figures.more.isEmpty {
            body += "<details class=\"more\"><summary>\(figures.more.count) more per-layer metrics</summary>\n<div class=\"grid\">\n"
            for figure in figures.more { appendFigure(figure) }
            body += "</div></details>\n"
        }
        body += "</section>\n"
    }

    mutating func appendScalarTable(_ results: [ResultRecord]) {
        let subjects = ClaimFigures.orderedSubjects(results)
        let names = results.flatMap(\.metrics).filter { $0.layer == nil }.map(\.name)
            .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        guard !names.isEmpty else { return }
        body += "<table class=\"scalars\"><thead><tr><th>metric</th><th>unit</th>" + subjects.map { "<th>\(escapeXML($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for name in names {
            body += "<tr><td><code>\(escapeXML(name))</code></td><td>\(escapeXML(ClaimFigures.unit(results, name)))</td>"
            for subject in subjects {
                let value = results.first { $0.subject == subject }.flatMap { ClaimFigures.scalar($0, name) }
                body += "<td class=\"num\">\(value.map { String(format: "%.4g", $0) } ?? "")</td>"
            }
            body += "</tr>\n"
        }
        body += "</tbody></table>\n"
    }

    mutating func appendFigure(_ figure: ReportFigure) {
        body += "<figure id=\"fig-\(figure.id)\">\n\(figure.svg(standalone: false))"
        body += "<figcaption>\(escapeXML(figure.caption)) <a class=\"svg-link\" href=\"\(figure.id).svg\">SVG</a></figcaption></figure>\n"
    }

    mutating func historySection(_ figures: [ReportFigure], runCount: Int) {
        nav.append(("history", "history"))
        body += "<section id=\"history\"><h2>History</h2>\n<p class=\"muted\">Every scalar metric across revisions, from \(runCount) recorded runs.</p>\n"
        if figures.isEmpty { body += "<p class=\"muted\">No scalar metric to draw.</p>\n" }
        body += "<div class=\"grid\">\n"
        for figure in figures { appendFigure(figure) }
        body += "</div></section>\n"
    }

    mutating func footer(_ run: RunRecord) {
        body += "<footer>Generated by <code>rbench report</code> from run <code>\(escapeXML(run.id))</code> (\(escapeXML(run.argv.joined(separator: " ")))).</footer>\n"
    }

    func finish(title: String) -> String {
        let links = ([("identity", "run"), ("regressions", "baseline"), ("verdicts", "verdicts")] + nav)
            .map { "<a href=\"#\($0.0)\">\(escapeXML($0.1))</a>" }.joined(separator: " ")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>\(escapeXML(title))</title>
        <style>\(Self.css)\(ChartStyle.css)</style></head>
        <body><nav>\(links)</nav><main>
        \(body)</main></body></html>

        """
    }

    static let css = """
    :root{--bg:#ffffff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa;--good:#1a7f37;--bad:#cf222e;--info:#0969da;--warn:#9a6700}
    @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--panel:#151b23;--good:#3fb950;--bad:#f85149;--info:#4493f8;--warn:#d29922}}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
    main{max-width:1180px;margin:0 auto;padding:8px 24px 40px}
    nav{position:sticky;top:0;z-index:1;background:var(--panel);border-bottom:1px solid var(--line);padding:6px 24px;font-size:13px}
    nav a{margin-right:14px}
    a{color:var(--info);text-decoration:none}a:hover{text-decoration:underline}
    h1{font-size:26px;margin:18px 0 8px}h2{font-size:20px;margin:34px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
    h3{font-size:14px;margin:10px 0 4px}
    code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
    .identity{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0;padding:12px 16px;background:var(--panel);border:1px solid var(--line);border-radius:8px}
    .identity dt{color:var(--muted)}.identity dd{margin:0}
    table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
    th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
    th{color:var(--muted);font-weight:600}
    td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    td.notes{font-size:12px}
    table.scalars{width:auto}
    .badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600;border:1px solid currentColor}
    .badge.good,.good-text{color:var(--good)}.badge.bad,.bad-text{color:var(--bad)}.badge.info{color:var(--info)}.badge.warn,.warn-text{color:var(--warn)}
    .muted,.source{color:var(--muted)}.source{margin-top:0;font-size:13px}
    .claim-body{display:grid;grid-template-columns:minmax(0,1fr) 300px;gap:20px;align-items:start}
    @media (max-width:900px){.claim-body{grid-template-columns:1fr}}
    .criteria{font-size:13px;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:4px 12px}
    .criteria ul{padding-left:16px;margin:2px 0 8px}
    figure{margin:10px 0 18px}
    figcaption{font-size:13px;color:var(--muted);max-width:760px}
    .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:8px 20px}
    details.more summary{cursor:pointer;color:var(--info);margin:8px 0}
    footer{margin-top:40px;font-size:12px;color:var(--muted)}
    """
}
