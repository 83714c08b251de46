import ArgumentParser
import Foundation
import Recording

struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline", abstract: "Show, update or initialise the baseline files under Baselines/claims/.",
        discussion: """
        A baseline file holds, per suite and determinism class, the value of every metric of a \
        reviewed run (bitwise within the class, with a tolerance across classes). `check` and \
        `run` judge new runs against it. A file is refused (65, naming the line) when its header's \
        determinism class or suite disagrees with its path, a tolerance is negative or not finite, \
        two lines of one check give different verdicts (the expected verdict belongs to the \
        check), or one metric has two lines; CRLF line ends are accepted. `update` and `init` \
        never write a file `check` would refuse.

        Examples:
          rbench baseline show --suite smoke
          rbench baseline update --suite smoke --reason "engine: fused QKV changes rounding"
          rbench baseline init --suite new-model
        """,
        subcommands: [Update.self, Show.self, Init.self, Migrate.self])

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rewrite the baseline from a complete run at HEAD; only moved lines change (their epoch is bumped).",
            discussion: """
            Refused on a dirty work tree (commit first) unless --allow-dirty. Commit the changed \
            file with the code that moved the numbers.

            Examples:
              rbench baseline update --suite smoke --reason "tokenizer fix changes TD-2 samples"
              rbench baseline update --suite paper --run 3f2a --reason "re-baseline on the new machine class"
            """)

        @Option(help: "The suite.")
        var suite: String

        @Option(help: "Why the numbers moved; stored on every changed line.")
        var reason: String

        @Option(name: .customLong("run"), help: "Use this run instead of the latest complete run at HEAD.")
        var runReference: String?

        @Flag(help: "Allow a dirty work tree or a run from one.")
        var allowDirty = false

        @Flag(help: "List every changed line, even when there are many (default: a count per check beyond \(changeListLimit)).")
        var verbose = false

        @OptionGroup var store: StoreOptions

        func run() throws {
            try withExitCodes {
                guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw RecordingError.refused("--reason must say why the numbers moved")
                }
                let record = try runAtHead(store: store, suite: suite, explicit: runReference, allowDirty: allowDirty)
                let url = BaselineFile.url(in: store.baselinesURL, suite: suite, determinismClass: record.environment.determinismClass)
                let existing = FileManager.default.fileExists(atPath: url.path) ? try BaselineFile.load(url) : nil
                let (file, changed) = BaselineUpdate.apply(run: record, to: existing, reason: reason)
                try file.write(to: url)
                print("\(url.path): \(changed.count) line(s) changed from run \(record.id)")
                printChanges(changed, verbose: verbose)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the baseline entries of a suite.",
            discussion: """
            One block per determinism class: the file's header (model and suite hashes), then one \
            line per check and metric with its value, verdict, epoch and the reason it was set.

            Examples:
              rbench baseline show --suite smoke
              rbench baseline show --suite smoke --class 1a2b3c4d --json
            """)

        @Option(help: "The suite.")
        var suite: String

        @Option(name: .customLong("class"), help: "Only this determinism class.")
        var determinismClass: String?

        @Flag(help: "Print a JSON array (one object per class with its entries) instead of the listing.")
        var json = false

        @OptionGroup var store: StoreOptions

        func run() throws {
            try withExitCodes {
                let classes = determinismClass.map { [$0] } ?? BaselineFile.classes(in: store.baselinesURL, suite: suite)
                if classes.isEmpty {
                    printNote("no baseline: suite \(suite) has no baseline file under \(store.baselines); after a reviewed run, `rbench baseline init --suite \(suite)` writes a candidate")
                }
                if json {
                    struct Entry: Encodable {
                        var check, metric: String
                        var value: Double
                        var tolerance: BaselineTolerance
                        var verdict: String
                        var epoch: Int
                        var reason, setBy: String
                    }
                    struct File: Encodable {
                        var path, determinismClass: String
                        var header: BaselineHeader
                        var entries: [Entry]
                    }
                    try printJSON(try classes.map { name in
                        let url = BaselineFile.url(in: store.baselinesURL, suite: suite, determinismClass: name)
                        let file = try BaselineFile.load(url)
                        return File(path: url.path, determinismClass: name, header: file.header, entries: file.entries.map {
                            Entry(check: $0.check, metric: $0.metric, value: $0.value, tolerance: $0.tolerance,
                                  verdict: $0.verdict.rawValue, epoch: $0.epoch, reason: $0.reason, setBy: $0.setBy)
                        })
                    })
                    return
                }
                for name in classes {
                    let url = BaselineFile.url(in: store.baselinesURL, suite: suite, determinismClass: name)
                    let file = try BaselineFile.load(url)
                    print("\(url.path): class \(name), model \(file.header.modelSHA256.prefix(12)), suite \(file.header.suiteSHA256.prefix(12)), \(file.entries.count) entries")
                    for entry in file.entries {
                        print("  \(entry.check)  \(entry.metric)  \(entry.value)  \(entry.verdict.rawValue)  epoch \(entry.epoch)  \(entry.reason)")
                    }
                }
            }
        }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rewrite a suite's baseline files in the current file schema; no value, reason or epoch changes.",
            discussion: """
            Older files (schema 1 and 2 wrote the reason and set_by on every line) are still read; \
            this only makes them smaller. Each file is read back after writing and refused \
            (nothing written) unless it holds the same lines. Commit the result on its own.

            Examples:
              rbench baseline migrate --suite smoke
            """)

        @Option(help: "The suite.")
        var suite: String

        @OptionGroup var store: StoreOptions

        func run() throws {
            try withExitCodes {
                let classes = BaselineFile.classes(in: store.baselinesURL, suite: suite)
                guard !classes.isEmpty else {
                    throw RecordingError.missingFile(path: store.baselinesURL.appendingPathComponent("claims/\(suite)").path,
                                                     hint: "suite \(suite) has no baseline file to migrate")
                }
                for name in classes {
                    let url = BaselineFile.url(in: store.baselinesURL, suite: suite, determinismClass: name)
                    let before = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
                    let file = try BaselineFile.load(url)
                    let migrated = try BaselineFile.parse(file.serialized(), path: url.path)
                    guard migrated.entries == file.entries, migrated.criteria == file.criteria else {
                        throw RecordingError.refused("\(url.path): the rewritten file would not hold the same lines; nothing written")
                    }
                    try file.write(to: url)
                    let after = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
                    print("\(url.path): schema \(file.header.schema) → \(BaselineHeader.currentSchema), \(file.entries.count + file.criteria.count) lines, \(before) → \(after) bytes")
                }
            }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a candidate baseline (<class>.candidate.jsonl) for a new model from a complete run; rename it to <class>.jsonl and commit to activate.",
            discussion: """
            Refuses when an active baseline exists for the class (use `update`). Review the \
            candidate's verdicts before activating it.

            Examples:
              rbench baseline init --suite new-model
              rbench baseline init --suite gemma3-270m --run 9c1e --allow-dirty
            """)

        @Option(help: "The suite.")
        var suite: String

        @Option(name: .customLong("run"), help: "Use this run instead of the latest complete run at HEAD.")
        var runReference: String?

        @Flag(help: "Allow a dirty work tree or a run from one.")
        var allowDirty = false

        @OptionGroup var store: StoreOptions

        func run() throws {
            try withExitCodes {
                let record = try runAtHead(store: store, suite: suite, explicit: runReference, allowDirty: allowDirty)
                let active = BaselineFile.url(in: store.baselinesURL, suite: suite, determinismClass: record.environment.determinismClass)
                guard !FileManager.default.fileExists(atPath: active.path) else {
                    throw RecordingError.refused("\(active.path) exists; use `rbench baseline update`")
                }
                let (file, _) = BaselineUpdate.apply(run: record, to: nil, reason: "initial baseline for model \(record.modelSHA256.prefix(12))")
                let candidate = BaselineFile.url(in: store.baselinesURL, suite: suite, determinismClass: record.environment.determinismClass, candidate: true)
                try file.write(to: candidate)
                print("wrote \(candidate.path) (\(file.entries.count) entries); review it, rename to \(active.lastPathComponent) and commit. Until then runs report `missing`.")
            }
        }
    }
}

/// Beyond this many changed lines `baseline update` prints a count per check instead of every line.
let changeListLimit = 40

/// The changed lines of an update: each one when they are few (or `verbose`), else one count per
/// check, so a first baseline of a large suite does not print thousands of lines.
private func printChanges(_ changed: [String], verbose: Bool) {
    guard !verbose, changed.count > changeListLimit else {
        for line in changed { print("  \(line)") }
        return
    }
    var countByCheck: [String: Int] = [:]
    for line in changed { countByCheck[String(line.split(separator: " ").first ?? ""), default: 0] += 1 }
    for (check, count) in countByCheck.sorted(by: { $0.key < $1.key }) { print("  \(check): \(count) line(s)") }
    print("  (--verbose lists every line)")
}

/// The run a baseline is taken from: explicit, or the latest complete run of the suite at HEAD.
private func runAtHead(store: StoreOptions, suite: String, explicit: String?, allowDirty: Bool) throws -> RunRecord {
    let head = try RevisionInfo.read(at: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    if head.isDirty && !allowDirty {
        throw RecordingError.refused("the work tree is dirty; commit first or pass --allow-dirty")
    }
    let results = try store.openForReading()
    let id: String
    if let explicit {
        id = try results.resolveRun(explicit, suite: suite)
    } else {
        guard let commit = head.commitSHA else { throw RecordingError.refused("no commit at HEAD; pass --run RUN") }
        id = try results.resolveRun(commit, suite: suite)
    }
    let record = try results.loadRun(id: id)
    guard record.status == .complete else { throw RecordingError.refused("run \(id) is \(record.status.rawValue), not complete") }
    if record.revision.isDirty && !allowDirty {
        throw RecordingError.refused("run \(id) was made from a dirty tree; pass --allow-dirty to use it")
    }
    if explicit == nil, !allowDirty, record.revision.commitSHA != head.commitSHA {
        throw RecordingError.refused("run \(id) is not at HEAD")
    }
    return record
}
