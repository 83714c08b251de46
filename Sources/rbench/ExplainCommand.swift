import ArgumentParser
import Claims
import Evidence
import Foundation

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Explain one claim: what it measures, its criteria, its intervals, its controls and reference numbers.",
        discussion: """
        Claim ids are case-insensitive. Claims described in the spec but not shipped in this \
        build are explained too, marked as such.

        Examples:
          rbench explain TD-1
          rbench explain lot-2 --json
        """)

    @Argument(help: "A claim id, e.g. TD-1 (see `rbench claims`).")
    var claim: String

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    func run() throws {
        let claims = ClaimCatalog.all
        let found = claims.first { $0.id.caseInsensitiveCompare(claim) == .orderedSame }
        let id = found?.id ?? claim.uppercased()
        guard let description = ClaimDescriptions.description(of: id) ?? ClaimDescriptions.all.first(where: {
            $0.key.caseInsensitiveCompare(claim) == .orderedSame })?.value else {
            printError("no claim '\(claim)' is known to this build; `rbench claims` lists them (\(claims.map(\.id).joined(separator: ", ")))")
            throw ExitCode.validationFailure
        }
        if json {
            struct Parameter: Encodable { var name, kind, summary: String }
            struct Minimum: Encodable { var rule: String, absolute: Int, perWidth: Double, reason: String }
            struct Explanation: Encodable {
                var id: String
                var title, source: String?
                var shipped: Bool
                var controls: [String]
                var summary: String
                var criteria: [CriterionDefinition]
                var uncertainty: String?
                var minimumSamples: Minimum?
                var parameters: [Parameter]
                var controlsDescription: String
                var reference: String
            }
            try printJSON(Explanation(
                id: id, title: found?.title, source: found?.source, shipped: found != nil, controls: found?.controls ?? [],
                summary: description.summary, criteria: found?.criteria ?? [], uncertainty: found?.uncertainty,
                minimumSamples: found?.sampleRequirement.map { Minimum(rule: $0.rule.rawValue, absolute: $0.absolute, perWidth: $0.perWidth, reason: $0.reason) },
                parameters: found?.parameters.map { Parameter(name: $0.name, kind: $0.kind.rawValue, summary: $0.summary) } ?? [],
                controlsDescription: description.controls, reference: description.reference))
            return
        }
        var lines: [String] = []
        if let found {
            lines += ["\(found.id) — \(found.title)", "source: \(found.source)", ""]
        } else {
            lines += ["\(id) (described in the spec, not shipped in this build)", ""]
        }
        lines += ["What it measures", wrap(description.summary), ""]
        if let found {
            lines.append("Criteria (supported only when each holds over its whole interval; refuted when one fails over its whole interval; otherwise inconclusive)")
            lines += found.criteria.map { "  - \($0.name): \($0.statistic) \($0.comparison.symbol) \(Interval.format($0.threshold)) — \($0.summary)" }
            if found.criteria.isEmpty { lines.append("  (none: informational)") }
            lines += ["", "Intervals", wrap(found.uncertainty)]
            if let minimum = found.sampleRequirement {
                let perWidth = minimum.perWidth > 0 ? " and ⌈\(minimum.perWidth)·D⌉" : ""
                lines += ["", "Sample size", wrap("at least \(minimum.absolute)\(perWidth) \(minimum.rule.rawValue): \(minimum.reason). A suite asking for fewer is refused.")]
            }
            if !found.parameters.isEmpty {
                lines += ["", "Parameters (the suite's params:)"] + found.parameters.map { "  - \($0.name) (\($0.kind.rawValue)): \($0.summary)" }
            }
            lines.append("")
        }
        lines += ["Controls" + (found.map { " (\($0.controls.joined(separator: ", ")))" } ?? ""), wrap(description.controls),
                  "", "Reported numbers", wrap(description.reference)]
        print(lines.joined(separator: "\n"))
    }

    /// Wraps prose at 100 columns with a two-space indent.
    func wrap(_ text: String) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > 98, !line.isEmpty { lines.append("  " + line); line = "" }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append("  " + line) }
        return lines.joined(separator: "\n")
    }
}
