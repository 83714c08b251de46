import Evidence
import Foundation

/// Tolerances of a baseline line; all zero means bitwise (same class) / exact (other class).
public struct BaselineTolerance: Sendable, Equatable, Codable {
    public var abs: Double
    public var rel: Double
    public var ulp: UInt64

    /// The tolerance new baseline lines get. Within one determinism class values must match
    /// bit for bit whatever the tolerance says; across classes (another BLAS kernel, thread
    /// count or CPU) float32 rounding moves states by ~1e-6 relative, and claim metrics
    /// (correlations, ratios, angles) by less than 1e-4 relative (claims spec §0.6).
    public static let crossClassDefault = BaselineTolerance(abs: 1e-6, rel: 1e-4)

    /// The cross-class tolerance a new line of `check` (`TD-1/model`) and metric key gets: the
    /// default, widened for the families measured to move more between OpenBLAS kernels.
    ///
    /// Measured on the smoke suite between two machine classes (Cooperlake AVX-512 kernels,
    /// class 635a803d…, against Zen AVX2 kernels, class 237a8eec…, the same binary): LoT-3's
    /// per-pair residual moments moved by up to 7 % (A3), 3 % (A1), 2 % (A2) and its standardized
    /// residual quantiles by up to 0.03 absolute, because the trailing singular directions they
    /// weigh are ill-determined; its fit scalars by up to 2e-3; TD-1's per-transition medians by up to
    /// 4e-3. Each family gets about ten times what was measured; everything else keeps 1e-4.
    public static func crossClass(check: String, metric: String) -> BaselineTolerance {
        let claim = check.split(separator: "/").first.map { String($0.split(separator: "@").first ?? $0) } ?? check
        let name = String(metric.split(separator: "[").first ?? Substring(metric))
        switch claim {
        case "LoT-3", "LoT-5", "LoT-6":
            if name.hasPrefix("qq_") { return BaselineTolerance(abs: 0.3, rel: 0.05) }
            if name.hasPrefix("A1") || name.hasPrefix("A2") || name.hasPrefix("A3") || name.hasPrefix("abs_delta")
                || name.hasPrefix("delta") { return BaselineTolerance(abs: 0.02, rel: 0.5) }
            return BaselineTolerance(abs: 1e-4, rel: 2e-2)
        case "TD-1", "TD-lag":
            return BaselineTolerance(abs: 5e-3, rel: 5e-2)
        case "LoT-1", "LoT-angles", "LoT-4", "TD-7", "TD-CAE", "TD-4", "TD-5":
            return BaselineTolerance(abs: 1e-4, rel: 1e-2)
        default:
            return crossClassDefault
        }
    }

    public init(abs: Double = 0, rel: Double = 0, ulp: UInt64 = 0) {
        self.abs = abs
        self.rel = rel
        self.ulp = ulp
    }
}

/// One (check, metric) line of a baseline file.
public struct BaselineEntry: Sendable, Equatable {
    /// `<claim>/<subject>`, e.g. `TD-1/model`.
    public var check: String
    /// Metric key, `name` or `name[layer]`.
    public var metric: String
    public var value: Double
    public var tolerance: BaselineTolerance
    /// The claim verdict when the line was set.
    public var verdict: RecordedVerdict
    public var epoch: Int
    public var reason: String
    /// The commit of the run that produced the value.
    public var setBy: String

    public init(check: String, metric: String, value: Double, tolerance: BaselineTolerance = .init(),
                verdict: RecordedVerdict, epoch: Int, reason: String, setBy: String) {
        self.check = check
        self.metric = metric
        self.value = value
        self.tolerance = tolerance
        self.verdict = verdict
        self.epoch = epoch
        self.reason = reason
        self.setBy = setBy
    }
}

/// One (check, criterion) line of a baseline file: the criterion's rule, the interval it was
/// judged on and its outcome, so a criterion that moves from held to undecided is a finding even
/// when its point estimate barely moved.
public struct BaselineCriterion: Sendable, Equatable {
    public var check: String
    /// The criterion's name within its claim.
    public var name: String
    public var statistic: String
    public var comparison: Comparison
    public var threshold: Double
    public var outcome: CriterionOutcome
    /// The interval's bounds (nil for a point-estimate criterion); compared like metric values.
    public var low: Double?
    public var high: Double?
    public var tolerance: BaselineTolerance
    public var verdict: RecordedVerdict
    public var epoch: Int
    public var reason: String
    public var setBy: String

    public init(check: String, name: String, statistic: String, comparison: Comparison, threshold: Double,
                outcome: CriterionOutcome, low: Double?, high: Double?, tolerance: BaselineTolerance = .init(),
                verdict: RecordedVerdict, epoch: Int, reason: String, setBy: String) {
        self.check = check
        self.name = name
        self.statistic = statistic
        self.comparison = comparison
        self.threshold = threshold
        self.outcome = outcome
        self.low = low
        self.high = high
        self.tolerance = tolerance
        self.verdict = verdict
        self.epoch = epoch
        self.reason = reason
        self.setBy = setBy
    }

    /// The baseline form of a judged criterion.
    public init(_ criterion: Criterion, check: String, tolerance: BaselineTolerance, verdict: RecordedVerdict,
                epoch: Int, reason: String, setBy: String) {
        self.init(check: check, name: criterion.name, statistic: criterion.statistic, comparison: criterion.comparison,
                  threshold: criterion.threshold, outcome: criterion.outcome, low: criterion.interval?.low,
                  high: criterion.interval?.high, tolerance: tolerance, verdict: verdict, epoch: epoch, reason: reason,
                  setBy: setBy)
    }

    /// Whether `criterion` says exactly what this line says (rule, outcome and interval bits).
    public func matches(_ criterion: Criterion) -> Bool {
        statistic == criterion.statistic && comparison == criterion.comparison
            && threshold.bitPattern == criterion.threshold.bitPattern && outcome == criterion.outcome
            && low?.bitPattern == criterion.interval?.low.bitPattern && high?.bitPattern == criterion.interval?.high.bitPattern
    }

    /// The key a criterion line sorts and is compared under beside the metrics: `criterion:<name>`.
    public var metricKey: String { Self.metricKey(name) }
    public static func metricKey(_ name: String) -> String { "criterion:\(name)" }
}

/// The first line of a baseline file: what the numbers are valid for.
public struct BaselineHeader: Sendable, Equatable, Codable {
    /// 2 adds criterion lines (schema-1 files, with metric lines only, are still read).
    /// 3 writes each (reason, set_by) pair once, as a reason line after the header, and lets
    /// metric and criterion lines refer to it by id: the reason text was most of every line, and a
    /// re-baseline of a large suite gives thousands of lines one reason. Files of schema 1 and 2
    /// (reason and set_by on every line) are still read; every write is schema 3.
    public static let currentSchema = 3
    public static let readableSchemas: Set<Int> = [1, 2, 3]

    public var schema: Int
    public var suite: String
    public var determinismClass: String
    public var classFields: [String: String]
    public var modelSHA256: String
    public var corpusSHA256: [String: String]
    public var suiteSHA256: String

    public init(suite: String, determinismClass: String, classFields: [String: String], modelSHA256: String,
                corpusSHA256: [String: String], suiteSHA256: String) {
        self.schema = Self.currentSchema
        self.suite = suite
        self.determinismClass = determinismClass
        self.classFields = classFields
        self.modelSHA256 = modelSHA256
        self.corpusSHA256 = corpusSHA256
        self.suiteSHA256 = suiteSHA256
    }

    enum CodingKeys: String, CodingKey {
        case schema, suite
        case determinismClass = "determinism_class"
        case classFields = "class_fields"
        case modelSHA256 = "model_sha256"
        case corpusSHA256 = "corpus_sha256"
        case suiteSHA256 = "suite_sha256"
    }
}

/// Why a group of baseline lines was set, and by which commit: one reason line of a schema-3 file.
///
/// Its id is content-addressed (the first 10 hex digits of the SHA-256 of text and commit), so a
/// new reason never renumbers the lines of an old one and an unchanged line stays byte-identical
/// across updates.
public struct BaselineReason: Sendable, Equatable {
    public var text: String
    public var setBy: String

    public init(text: String, setBy: String) {
        self.text = text
        self.setBy = setBy
    }

    public var id: String { String(SHA256.hex(text + "\u{0}" + setBy).prefix(10)) }
}

/// A `Baselines/claims/<suite>/<determinism-class>.jsonl` file: a header and sorted entries.
///
/// The expected verdict is a property of the check: every line of a check carries it, and a file
/// whose lines disagree is refused on load, so lookups never depend on line order.
public struct BaselineFile: Sendable, Equatable {
    public var header: BaselineHeader
    /// Sorted by (check, metric).
    public private(set) var entries: [BaselineEntry]
    /// Sorted by (check, name).
    public private(set) var criteria: [BaselineCriterion]
    private var indexByKey: [String: Int]
    private var criterionIndexByKey: [String: Int]
    private var verdictByCheck: [String: RecordedVerdict]

    public init(header: BaselineHeader, entries: [BaselineEntry], criteria: [BaselineCriterion] = []) {
        self.header = header
        self.entries = entries.sorted { ($0.check, $0.metric) < ($1.check, $1.metric) }
        self.criteria = criteria.sorted { ($0.check, $0.name) < ($1.check, $1.name) }
        var indexByKey: [String: Int] = [:], criterionIndexByKey: [String: Int] = [:]
        var verdictByCheck: [String: RecordedVerdict] = [:]
        for (index, entry) in self.entries.enumerated() {
            if indexByKey[Self.key(entry.check, entry.metric)] == nil { indexByKey[Self.key(entry.check, entry.metric)] = index }
            if verdictByCheck[entry.check] == nil { verdictByCheck[entry.check] = entry.verdict }
        }
        for (index, criterion) in self.criteria.enumerated() {
            if criterionIndexByKey[Self.key(criterion.check, criterion.name)] == nil { criterionIndexByKey[Self.key(criterion.check, criterion.name)] = index }
            if verdictByCheck[criterion.check] == nil { verdictByCheck[criterion.check] = criterion.verdict }
        }
        self.indexByKey = indexByKey
        self.criterionIndexByKey = criterionIndexByKey
        self.verdictByCheck = verdictByCheck
    }

    private static func key(_ check: String, _ metric: String) -> String { check + "\u{0}" + metric }

    /// The entry for a check and metric key.
    public func entry(check: String, metric: String) -> BaselineEntry? {
        indexByKey[Self.key(check, metric)].map { entries[$0] }
    }

    /// The verdict the check had when its lines were set (the same on every line of a loaded file).
    public func verdict(ofCheck check: String) -> RecordedVerdict? {
        verdictByCheck[check]
    }

    /// The criterion line for a check and criterion name.
    public func criterion(check: String, name: String) -> BaselineCriterion? {
        criterionIndexByKey[Self.key(check, name)].map { criteria[$0] }
    }

    /// Where the baseline of a suite and determinism class lives under `directory` (`Baselines/`).
    public static func url(in directory: URL, suite: String, determinismClass: String, candidate: Bool = false) -> URL {
        directory.appendingPathComponent("claims").appendingPathComponent(suite)
            .appendingPathComponent(determinismClass + (candidate ? ".candidate.jsonl" : ".jsonl"))
    }

    /// The committed (non-candidate) baseline files of a suite, by determinism class.
    public static func classes(in directory: URL, suite: String) -> [String] {
        let folder = directory.appendingPathComponent("claims").appendingPathComponent(suite)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".jsonl") && !$0.hasSuffix(".candidate.jsonl") }
            .map { String($0.dropLast(".jsonl".count)) }.sorted()
    }

    // MARK: Text form

    /// The file text: header line, then one line per entry with a fixed key order (criterion lines
    /// sorted among the metrics of their check as `criterion:<name>`).
    ///
    /// Reason lines (schema 3) follow the header, sorted by id; only reasons some line uses are written.
    public func serialized() -> String {
        var keyed: [(check: String, key: String, line: String)] = []
        var reasons: [String: BaselineReason] = [:]
        func reason(_ text: String, _ setBy: String) -> String {
            let reason = BaselineReason(text: text, setBy: setBy)
            let id = reason.id
            reasons[id] = reason
            return "\"reason\":\"\(id)\""
        }
        // `ulp` is written only when set: it is zero on every line rbench writes.
        func tolerance(_ t: BaselineTolerance) -> String {
            "{\"abs\":\(FloatBits.jsonValue(t.abs)),\"rel\":\(FloatBits.jsonValue(t.rel))" + (t.ulp == 0 ? "}" : ",\"ulp\":\(t.ulp)}")
        }
        for c in criteria {
            let interval = c.low.flatMap { low in c.high.map { high in
                "[\(FloatBits.jsonValue(low)),\(FloatBits.jsonValue(high))],\"interval_bits\":[\"\(FloatBits.hex(low))\",\"\(FloatBits.hex(high))\"]"
            } } ?? "null"
            keyed.append((c.check, c.metricKey, "{\"check\":\(CanonicalJSON.string(c.check)),\"criterion\":\(CanonicalJSON.string(c.name)),"
                + "\"statistic\":\(CanonicalJSON.string(c.statistic)),\"comparison\":\"\(c.comparison.rawValue)\","
                + "\"threshold\":\(FloatBits.jsonValue(c.threshold)),\"threshold_bits\":\"\(FloatBits.hex(c.threshold))\","
                + "\"interval\":\(interval),\"outcome\":\"\(c.outcome.rawValue)\",\"tol\":\(tolerance(c.tolerance)),"
                + "\"verdict\":\"\(c.verdict.rawValue)\",\"epoch\":\(c.epoch),\(reason(c.reason, c.setBy))}"))
        }
        for entry in entries {
            let tol = tolerance(entry.tolerance)
            keyed.append((entry.check, entry.metric, "{\"check\":\(CanonicalJSON.string(entry.check)),\"metric\":\(CanonicalJSON.string(entry.metric)),"
                + "\"value\":\(FloatBits.jsonValue(entry.value)),\"bits\":\"\(FloatBits.hex(entry.value))\",\"tol\":\(tol),"
                + "\"verdict\":\"\(entry.verdict.rawValue)\",\"epoch\":\(entry.epoch),\(reason(entry.reason, entry.setBy))}"))
        }
        let reasonLines = reasons.sorted { $0.key < $1.key }.map { id, reason in
            "{\"reason_id\":\"\(id)\",\"text\":\(CanonicalJSON.string(reason.text)),\"set_by\":\(CanonicalJSON.string(reason.setBy))}"
        }
        let lines = [headerLine()] + reasonLines + keyed.sorted { ($0.check, $0.key) < ($1.check, $1.key) }.map(\.line)
        return lines.joined(separator: "\n") + "\n"
    }

    private func headerLine() -> String {
        "{\"schema\":\(BaselineHeader.currentSchema),\"suite\":\(CanonicalJSON.string(header.suite)),"
            + "\"determinism_class\":\(CanonicalJSON.string(header.determinismClass)),"
            + "\"class_fields\":\(CanonicalJSON.object(header.classFields)),"
            + "\"model_sha256\":\(CanonicalJSON.string(header.modelSHA256)),"
            + "\"corpus_sha256\":\(CanonicalJSON.object(header.corpusSHA256)),"
            + "\"suite_sha256\":\(CanonicalJSON.string(header.suiteSHA256))}"
    }

    /// Writes the file, creating its folder. Refuses (writing nothing) a file that ``load(_:)``
    /// would reject, e.g. two lines for one metric because a run holds one check twice.
    public func write(to url: URL) throws(RecordingError) {
        // Two different reasons with one 10-hex-digit id would merge on disk; refuse rather than mislabel.
        var byID: [String: BaselineReason] = [:]
        for reason in entries.map({ BaselineReason(text: $0.reason, setBy: $0.setBy) })
            + criteria.map({ BaselineReason(text: $0.reason, setBy: $0.setBy) }) {
            if let other = byID.updateValue(reason, forKey: reason.id), other != reason {
                throw .badFile(path: url.path, line: nil, message: "not written: reasons \(CanonicalJSON.string(other.text)) and \(CanonicalJSON.string(reason.text)) share the id \(reason.id); reword one --reason")
            }
        }
        do {
            try Self.checkLocation(try Self.parse(serialized(), path: url.path).header, of: url)
        } catch {
            guard case .badFile(_, let line, let message) = error else { throw error }
            throw .badFile(path: url.path, line: line, message: "not written, `rbench check` would reject it: \(message)")
        }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(serialized().utf8).write(to: url, options: .atomic)
        } catch {
            throw .database(path: url.path, message: "cannot write baseline: \(error)")
        }
    }

    /// Reads a baseline file; errors name the file, the line and the key at fault.
    public static func load(_ url: URL) throws(RecordingError) -> BaselineFile {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .missingFile(path: url.path, hint: "create it with `rbench baseline update` or `rbench baseline init`")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .badFile(path: url.path, line: nil, message: "not UTF-8 text; a baseline is JSON lines")
        }
        let file = try parse(text, path: url.path)
        try checkLocation(file.header, of: url)
        return file
    }

    /// The header must name the suite and determinism class the file's path says it is for: the
    /// class picks which runs are compared bit for bit, so a mismatch would judge the wrong runs.
    static func checkLocation(_ header: BaselineHeader, of url: URL) throws(RecordingError) {
        let name = url.lastPathComponent
        let fileClass = name.hasSuffix(".candidate.jsonl") ? String(name.dropLast(".candidate.jsonl".count))
            : name.hasSuffix(".jsonl") ? String(name.dropLast(".jsonl".count)) : nil
        if let fileClass, fileClass != header.determinismClass {
            throw .badFile(path: url.path, line: 1, message: "key 'determinism_class': '\(header.determinismClass)' does not match the file name \(name); the file must be named after its class (\(header.determinismClass).jsonl), or the header fixed")
        }
        let folder = url.deletingLastPathComponent()
        if folder.deletingLastPathComponent().lastPathComponent == "claims", folder.lastPathComponent != header.suite {
            throw .badFile(path: url.path, line: 1, message: "key 'suite': '\(header.suite)' does not match the folder claims/\(folder.lastPathComponent)/")
        }
    }

    /// Parses baseline text; `path` only labels errors.
    public static func parse(_ text: String, path: String) throws(RecordingError) -> BaselineFile {
        // CRLF files (edited on Windows) and a UTF-8 byte-order mark are accepted as if they were plain LF.
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        // ("\r\n" is one Character in Swift, so it is a separator of its own.)
        let lines = body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        guard let first = lines.first, !first.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .badFile(path: path, line: 1, message: "missing header line")
        }
        let header: BaselineHeader = try decodeLine(first, as: BaselineHeader.self, path: path, line: 1,
                                                    allowedKeys: ["schema", "suite", "determinism_class", "class_fields",
                                                                  "model_sha256", "corpus_sha256", "suite_sha256"])
        guard BaselineHeader.readableSchemas.contains(header.schema) else {
            throw .badFile(path: path, line: 1, message: "key 'schema': \(header.schema) is not supported (this build reads \(BaselineHeader.readableSchemas.sorted().map(String.init).joined(separator: ", ")))")
        }
        // Reason lines first, wherever they stand, so entry lines can be resolved as they are read.
        let referencesReasons = header.schema >= 3
        var reasons: [String: BaselineReason] = [:]
        var reasonLine: [String: Int] = [:]
        for (index, line) in lines.enumerated().dropFirst() where line.contains("\"reason_id\":") {
            let number = index + 1
            guard referencesReasons else {
                throw .badFile(path: path, line: number, message: "a reason line needs schema 3 or later in the header (this file says \(header.schema))")
            }
            let raw: RawReason = try decodeLine(line, as: RawReason.self, path: path, line: number, allowedKeys: RawReason.keys)
            let reason = BaselineReason(text: raw.text, setBy: raw.set_by)
            guard reason.id == raw.reason_id else {
                throw .badFile(path: path, line: number, message: "key 'reason_id': '\(raw.reason_id)' is not the id of this text and set_by ('\(reason.id)'); ids are content hashes, so an edited reason needs its id rewritten (`rbench baseline update` does it)")
            }
            if let first = reasonLine[raw.reason_id] {
                throw .badFile(path: path, line: number, message: "duplicate reason '\(raw.reason_id)' (first on line \(first))")
            }
            reasonLine[raw.reason_id] = number
            reasons[raw.reason_id] = reason
        }
        let reasonLines = Set(reasonLine.values)
        /// The (reason, set_by) of a line: inline before schema 3, a reference to a reason line from 3 on.
        func resolve(reason: String, setBy: String?, line number: Int) throws(RecordingError) -> BaselineReason {
            if referencesReasons {
                if setBy != nil {
                    throw .badFile(path: path, line: number, message: "unknown key 'set_by' (schema 3 keeps it on the reason line that key 'reason' names)")
                }
                guard let resolved = reasons[reason] else {
                    throw .badFile(path: path, line: number, message: "key 'reason': '\(reason)' names no reason line of this file")
                }
                return resolved
            }
            guard let setBy else { throw .badFile(path: path, line: number, message: "missing key 'set_by'") }
            return BaselineReason(text: reason, setBy: setBy)
        }
        var entries: [BaselineEntry] = []
        var criteria: [BaselineCriterion] = []
        var seen: [String: Int] = [:]
        var verdictLine: [String: (verdict: RecordedVerdict, line: Int)] = [:]
        func checkVerdict(_ verdict: RecordedVerdict, of check: String, line number: Int) throws(RecordingError) {
            if let first = verdictLine[check], first.verdict != verdict {
                throw .badFile(path: path, line: number, message: "key 'verdict': '\(verdict.rawValue)' disagrees with line \(first.line), which gives check '\(check)' verdict '\(first.verdict.rawValue)'; the expected verdict belongs to the check, so every line of it must say the same")
            }
            if verdictLine[check] == nil { verdictLine[check] = (verdict, number) }
        }
        for (index, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let number = index + 1
            if reasonLines.contains(number) { continue }
            if line.contains("\"criterion\":") {
                let criterion = try parseCriterion(line, path: path, line: number, resolve: resolve)
                if let first = seen[key(criterion.check, criterion.metricKey)] {
                    throw .badFile(path: path, line: number, message: "duplicate entry for check '\(criterion.check)' criterion '\(criterion.name)' (first on line \(first))")
                }
                seen[key(criterion.check, criterion.metricKey)] = number
                try checkVerdict(criterion.verdict, of: criterion.check, line: number)
                criteria.append(criterion)
                continue
            }
            let raw: RawEntry = try decodeLine(line, as: RawEntry.self, path: path, line: number, allowedKeys: RawEntry.keys)
            guard let value = FloatBits.double(fromHex: raw.bits) else {
                throw .badFile(path: path, line: number, message: "key 'bits': '\(raw.bits)' is not 16 hex digits")
            }
            let parsed: Double?
            switch raw.value {
            case .number(let number): parsed = number
            case .text(let text): parsed = FloatBits.double(fromSpecial: text)
            }
            guard let parsed, parsed.bitPattern == value.bitPattern else {
                throw .badFile(path: path, line: number, message: "key 'value': \(raw.value) does not parse to bits \(raw.bits) (\(value)); fix one of them")
            }
            if let first = seen[key(raw.check, raw.metric)] {
                throw .badFile(path: path, line: number, message: "duplicate entry for check '\(raw.check)' metric '\(raw.metric)' (first on line \(first)); one line per check and metric — was a check run twice, e.g. a control listed twice in the suite?")
            }
            seen[key(raw.check, raw.metric)] = number
            guard let verdict = RecordedVerdict(rawValue: raw.verdict) else {
                throw .badFile(path: path, line: number, message: "key 'verdict': '\(raw.verdict)' is not one of \(RecordedVerdict.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            try checkVerdict(verdict, of: raw.check, line: number)
            let tolerance = try raw.tol?.validated(path: path, line: number) ?? BaselineTolerance()
            let reason = try resolve(reason: raw.reason, setBy: raw.set_by, line: number)
            entries.append(BaselineEntry(check: raw.check, metric: raw.metric, value: value, tolerance: tolerance,
                                         verdict: verdict, epoch: raw.epoch, reason: reason.text, setBy: reason.setBy))
        }
        return BaselineFile(header: header, entries: entries, criteria: criteria)
    }

    private static func parseCriterion(
        _ line: String, path: String, line number: Int,
        resolve: (_ reason: String, _ setBy: String?, _ line: Int) throws(RecordingError) -> BaselineReason
    ) throws(RecordingError) -> BaselineCriterion {
        let raw: RawCriterion = try decodeLine(line, as: RawCriterion.self, path: path, line: number, allowedKeys: RawCriterion.keys)
        guard let comparison = Comparison(rawValue: raw.comparison) else {
            throw .badFile(path: path, line: number, message: "key 'comparison': '\(raw.comparison)' is not one of >=, <=, >, <")
        }
        guard let outcome = CriterionOutcome(rawValue: raw.outcome) else {
            throw .badFile(path: path, line: number, message: "key 'outcome': '\(raw.outcome)' is not one of held, failed, undecided")
        }
        guard let threshold = FloatBits.double(fromHex: raw.threshold_bits) else {
            throw .badFile(path: path, line: number, message: "key 'threshold_bits': '\(raw.threshold_bits)' is not 16 hex digits")
        }
        var low: Double?, high: Double?
        if let bits = raw.interval_bits {
            guard bits.count == 2, let l = FloatBits.double(fromHex: bits[0]), let h = FloatBits.double(fromHex: bits[1]) else {
                throw .badFile(path: path, line: number, message: "key 'interval_bits': expected two 16-hex-digit bit patterns")
            }
            low = l
            high = h
        }
        guard let verdict = RecordedVerdict(rawValue: raw.verdict) else {
            throw .badFile(path: path, line: number, message: "key 'verdict': '\(raw.verdict)' is not one of \(RecordedVerdict.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let reason = try resolve(raw.reason, raw.set_by, number)
        return BaselineCriterion(check: raw.check, name: raw.criterion, statistic: raw.statistic, comparison: comparison,
                                 threshold: threshold, outcome: outcome, low: low, high: high,
                                 tolerance: try raw.tol?.validated(path: path, line: number) ?? BaselineTolerance(),
                                 verdict: verdict, epoch: raw.epoch, reason: reason.text, setBy: reason.setBy)
    }

    private static func decodeLine<T: Decodable>(_ line: String, as type: T.Type, path: String, line number: Int,
                                                 allowedKeys: Set<String>) throws(RecordingError) -> T {
        let data = Data(line.utf8)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            let start = line.prefix(40)
            throw .badFile(path: path, line: number, message: "not a JSON object (the line starts \(CanonicalJSON.string(String(start)))\(line.count > 40 ? "…" : "")); every line is one {…} object")
        }
        if let unknown = object.keys.sorted().first(where: { !allowedKeys.contains($0) }) {
            throw .badFile(path: path, line: number, message: "unknown key '\(unknown)' (allowed: \(allowedKeys.sorted().joined(separator: ", ")))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .badFile(path: path, line: number, message: "missing key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(expected, context) {
            throw .badFile(path: path, line: number, message: "key '\(context.codingPath.map(\.stringValue).joined(separator: "."))': expected \(expected)")
        } catch let DecodingError.valueNotFound(expected, context) {
            throw .badFile(path: path, line: number, message: "key '\(context.codingPath.map(\.stringValue).joined(separator: "."))': expected \(expected), found null")
        } catch {
            throw .badFile(path: path, line: number, message: "\(error)")
        }
    }

    /// The on-disk shape of one criterion line, before validation (the decimal values are for
    /// readers; the `_bits` fields are what is read back).
    private struct RawCriterion: Decodable {
        static let keys: Set<String> = ["check", "criterion", "statistic", "comparison", "threshold", "threshold_bits",
                                        "interval", "interval_bits", "outcome", "tol", "verdict", "epoch", "reason", "set_by"]
        var check: String
        var criterion: String
        var statistic: String
        var comparison: String
        var threshold_bits: String
        var interval_bits: [String]?
        var outcome: String
        var tol: RawEntry.Tol?
        var verdict: String
        var epoch: Int
        var reason: String
        // swiftlint:disable:next identifier_name
        var set_by: String?
    }

    /// The on-disk shape of one reason line (schema 3).
    private struct RawReason: Decodable {
        static let keys: Set<String> = ["reason_id", "text", "set_by"]
        // swiftlint:disable:next identifier_name
        var reason_id: String
        var text: String
        // swiftlint:disable:next identifier_name
        var set_by: String
    }

    /// The on-disk shape of one entry line, before validation.
    private struct RawEntry: Decodable {
        static let keys: Set<String> = ["check", "metric", "value", "bits", "tol", "verdict", "epoch", "reason", "set_by"]

        enum Value: Decodable, CustomStringConvertible {
            case number(Double)
            case text(String)

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) { self = .text(text) } else { self = .number(try container.decode(Double.self)) }
            }

            var description: String {
                switch self {
                case .number(let value): "\(value)"
                case .text(let text): "\"\(text)\""
                }
            }
        }

        struct Tol: Decodable {
            var abs: Double?
            var rel: Double?
            /// Read as a number so a negative or fractional value gets a clear message.
            var ulp: Double?

            /// Tolerances are bounds on a distance: finite and never negative.
            func validated(path: String, line: Int) throws(RecordingError) -> BaselineTolerance {
                for (name, value) in [("abs", abs), ("rel", rel), ("ulp", ulp)] {
                    guard let value else { continue }
                    guard value.isFinite, value >= 0 else {
                        throw .badFile(path: path, line: line, message: "key 'tol.\(name)': \(value) is not allowed; a tolerance is a finite number ≥ 0 (0 = exact)")
                    }
                }
                let ulpCount = ulp ?? 0
                guard ulpCount == ulpCount.rounded(), ulpCount <= 9_007_199_254_740_992 else {
                    throw .badFile(path: path, line: line, message: "key 'tol.ulp': \(ulpCount) is not a whole number of ulps")
                }
                return BaselineTolerance(abs: abs ?? 0, rel: rel ?? 0, ulp: UInt64(ulpCount))
            }
        }

        var check: String
        var metric: String
        var value: Value
        var bits: String
        var tol: Tol?
        var verdict: String
        var epoch: Int
        var reason: String
        // swiftlint:disable:next identifier_name
        var set_by: String?
    }
}

/// Produces an updated baseline from a run, touching only lines whose values moved.
public enum BaselineUpdate {
    /// Lines whose bits are unchanged keep epoch, reason and set_by; moved or new lines get
    /// `reason`, the run's commit and epoch + 1; lines for metrics the run no longer has are dropped.
    /// Tolerances carry over. Timing metrics (with samples) are never baselined here.
    public static func apply(run: RunRecord, to existing: BaselineFile?, reason: String) -> (file: BaselineFile, changed: [String]) {
        let header = BaselineHeader(suite: run.suite, determinismClass: run.environment.determinismClass,
                                    classFields: run.environment.determinismFields, modelSHA256: run.modelSHA256,
                                    corpusSHA256: run.corporaSHA256, suiteSHA256: run.suiteSHA256)
        let setBy = run.revision.commitSHA.map { run.revision.isDirty ? "\($0)-dirty" : $0 } ?? "no-commit"
        var entries: [BaselineEntry] = []
        var criteria: [BaselineCriterion] = []
        var changed: [String] = []
        for result in run.results where result.verdict != .error {
            for criterion in result.criteria {
                let old = existing?.criterion(check: result.check, name: criterion.name)
                if let old, old.matches(criterion), old.verdict == result.verdict {
                    criteria.append(old)
                    continue
                }
                changed.append("\(result.check) \(BaselineCriterion.metricKey(criterion.name))")
                criteria.append(BaselineCriterion(criterion, check: result.check,
                                                  tolerance: old?.tolerance ?? .crossClass(check: result.check, metric: criterion.statistic),
                                                  verdict: result.verdict, epoch: (old?.epoch ?? 0) + 1, reason: reason,
                                                  setBy: setBy))
            }
            for metric in result.metrics where !metric.isStochastic {
                let old = existing?.entry(check: result.check, metric: metric.key)
                if let old, old.value.bitPattern == metric.value.bitPattern, old.verdict == result.verdict {
                    entries.append(old)
                    continue
                }
                changed.append("\(result.check) \(metric.key)")
                entries.append(BaselineEntry(check: result.check, metric: metric.key, value: metric.value,
                                             tolerance: old?.tolerance ?? .crossClass(check: result.check, metric: metric.key),
                                             verdict: result.verdict,
                                             epoch: (old?.epoch ?? 0) + 1, reason: reason, setBy: setBy))
            }
        }
        let kept = Set(entries.map { $0.check + "\u{0}" + $0.metric } + criteria.map { $0.check + "\u{0}" + $0.metricKey })
        for old in existing?.entries ?? [] where !kept.contains(old.check + "\u{0}" + old.metric) {
            changed.append("\(old.check) \(old.metric) (removed)")
        }
        for old in existing?.criteria ?? [] where !kept.contains(old.check + "\u{0}" + old.metricKey) {
            changed.append("\(old.check) \(old.metricKey) (removed)")
        }
        return (BaselineFile(header: header, entries: entries, criteria: criteria), changed.sorted())
    }
}
