import ArgumentParser
import Claims
import Foundation

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Explain one claim: what it measures, its pass criteria, its controls and reference numbers.",
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
            struct Explanation: Encodable {
                var id: String
                var title, source: String?
                var shipped: Bool
                var controls: [String]
                var summary: String
                var criteria: [String]
                var controlsDescription: String
                var reference: String
            }
            try printJSON(Explanation(id: id, title: found?.title, source: found?.source, shipped: found != nil,
                                      controls: found?.controls ?? [], summary: description.summary,
                                      criteria: description.criteria, controlsDescription: description.controls,
                                      reference: description.reference))
            return
        }
        var lines: [String] = []
        if let found {
            lines += ["\(found.id) — \(found.title)", "source: \(found.source)", ""]
        } else {
            lines += ["\(id) (described in the spec, not shipped in this build)", ""]
        }
        lines += ["What it measures", wrap(description.summary), "", "Pass criteria"]
        lines += description.criteria.map { "  - \($0)" }
        lines += ["", "Controls" + (found.map { " (\($0.controls.joined(separator: ", ")))" } ?? ""), wrap(description.controls),
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
